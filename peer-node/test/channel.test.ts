/**
 * GatewayChannel's RTCDataChannel surface over real negotiation (signaling server, Gateway and a
 * node-datachannel peer in this process): channel options, negotiated channels, the negotiated
 * max-message-size, write() backpressure and bufferedamountlow.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import nodeDataChannel, { type DataChannel, type PeerConnection, type RtcConfig } from 'node-datachannel';
import { startServer, type ChannelRequest, type RunningServer } from 'rtcgate-server';
import { channelRequestSchema } from 'rtcgate-server/protocol';
import type { GatewayChannel } from '../src/channel.js';
import { GatewayError } from '../src/errors.js';
import { Gateway } from '../src/gateway.js';
import type { PeerSession } from '../src/peerSession.js';
import { SignalClient } from '../src/signalClient.js';
import { FakeBrowser, nextMessage, openOf, quiet, startStack, until, within, type Stack } from './pair.js';

let stack: Stack;
before(async () => {
  stack = await startStack('channels');
});
after(async () => {
  await stack.close();
  // node-datachannel's threads keep the process alive until cleanup().
  nodeDataChannel.cleanup();
});

const KiB = 1024;
const MiB = 1024 * KiB;

function isGatewayError(code: GatewayError['code']) {
  return (err: unknown) => err instanceof GatewayError && err.code === code;
}

/**
 * Resolves with the next gateway channel of this label, as its handler gets it. Not timed itself:
 * callers bound the wait where they await it, so nothing rejects unobserved.
 */
function gatewayChannel(
  gateway: Gateway,
  label: string,
): Promise<{ channel: GatewayChannel; session: PeerSession }> {
  return new Promise((resolve) => gateway.handle(label, (channel, session) => resolve({ channel, session })));
}

interface Peer {
  readonly pc: PeerConnection;
  readonly signal: SignalClient;
  readonly gatewayId: string;
}

/**
 * Negotiates with the gateway as the offerer (offer-request) and resolves once the requested channel
 * is open on both sides. The tests connect this way rather than with the peer's own offer: a
 * node-datachannel offerer sometimes fails DTLS with "unknown CA" (it checks the gateway's
 * certificate before it has stored the answer's fingerprint, the libdatachannel gap that
 * peerSession.ts describes); in the gateway-offer direction the gateway holds its candidates back.
 */
async function gatewayOffers(
  gateway: Gateway,
  peer: Peer,
  request: ChannelRequest,
): Promise<{ channel: GatewayChannel; session: PeerSession; dc: DataChannel }> {
  const routed = gatewayChannel(gateway, request.label);
  const announced = new Promise<DataChannel>((resolve) => peer.pc.onDataChannel(resolve));
  peer.signal.send({ type: 'offer-request', to: peer.gatewayId, channels: [request] });
  const { channel, session } = await within(routed, 10_000, `gateway channel "${request.label}"`);
  const dc = await openOf(await within(announced, 10_000, `peer sees "${request.label}"`));
  await until(() => channel.state === 'open', 5000, `"${request.label}" open on the gateway`);
  return { channel, session, dc };
}

/** The peer opens a channel on the connected session; resolves with both ends once open. */
async function peerOpens(
  gateway: Gateway,
  peer: Peer,
  label: string,
  init?: Parameters<PeerConnection['createDataChannel']>[1],
): Promise<{ channel: GatewayChannel; dc: DataChannel }> {
  const routed = gatewayChannel(gateway, label);
  // node-datachannel refuses an explicit undefined config.
  const dc = await openOf(peer.pc.createDataChannel(label, init ?? {}));
  const { channel } = await within(routed, 5000, `gateway channel "${label}"`);
  return { channel, dc };
}

function nextGatewayMessage(channel: GatewayChannel, timeoutMs = 5000): Promise<string | Buffer> {
  return within(
    new Promise((resolve) => channel.once('message', resolve)),
    timeoutMs,
    `message on "${channel.label}"`,
  );
}

/**
 * pair.ts's FakeBrowser with a PeerConnection configured by the test (FakeBrowser's own is fixed):
 * the same signaling wiring, so it negotiates with the gateway the way the browser library does.
 */
class ConfiguredBrowser {
  readonly pc: PeerConnection;
  gatewayId = '';
  peerId = '';

  private constructor(
    readonly signal: SignalClient,
    config: Omit<RtcConfig, 'iceServers'>,
  ) {
    this.pc = new nodeDataChannel.PeerConnection('configured-browser', { iceServers: [], ...config });
    this.pc.onLocalDescription((sdp, type) => {
      if (type === 'offer' || type === 'answer') this.signal.send({ type, to: this.gatewayId, sdp });
    });
    this.pc.onLocalCandidate((candidate, mid) => {
      this.signal.send({
        type: 'candidate',
        to: this.gatewayId,
        candidate: { candidate: candidate.replace(/^a=/, ''), sdpMid: mid },
      });
    });
    signal.on('message', (m) => {
      if (m.type === 'offer') this.pc.setRemoteDescription(m.sdp, 'offer');
      if (m.type === 'answer') this.pc.setRemoteDescription(m.sdp, 'answer');
      if (m.type === 'candidate' && m.candidate)
        this.pc.addRemoteCandidate(m.candidate.candidate, m.candidate.sdpMid ?? '0');
    });
  }

  static async join(
    server: RunningServer,
    room: string,
    config: Omit<RtcConfig, 'iceServers'>,
  ): Promise<ConfiguredBrowser> {
    const signal = await SignalClient.connect(server.signalUrl.replace('localhost', '127.0.0.1'));
    const joined = await signal.join(room, 'browser');
    const browser = new ConfiguredBrowser(signal, config);
    browser.peerId = joined.peerId;
    browser.gatewayId = joined.peers.find((p) => p.role === 'gateway')?.peerId ?? '';
    return browser;
  }

  async close(): Promise<void> {
    this.pc.close();
    await this.signal.close();
  }
}

test('a gateway-opened channel reports the options it was opened with; a browser-opened one reads ordered null', async () => {
  const peer = await FakeBrowser.join(stack, 'channels');
  try {
    const { channel, session, dc } = await gatewayOffers(stack.gateway, peer, {
      label: 'opts',
      ordered: false,
      maxRetransmits: 3,
      protocol: 'p',
    });
    const expected = { ordered: false, maxRetransmits: 3, maxPacketLifeTime: null, negotiated: false };
    assert.deepEqual(channel.options, expected);
    assert.equal(channel.protocol, 'p');
    assert.equal(dc.getProtocol(), 'p', 'the protocol went over the wire');
    const seen = session.info().channels.find((c) => c.label === 'opts');
    assert.ok(seen);
    assert.deepEqual(
      {
        ordered: seen.ordered,
        maxRetransmits: seen.maxRetransmits,
        maxPacketLifeTime: seen.maxPacketLifeTime,
        negotiated: seen.negotiated,
        protocol: seen.protocol,
        opener: seen.opener,
      },
      { ...expected, protocol: 'p', opener: 'gateway' },
    );
    // The channel carries data with those options.
    const arrived = nextGatewayMessage(channel);
    dc.sendMessage('unordered hello');
    assert.equal(await arrived, 'unordered hello');

    // A channel the browser announced: node-datachannel 0.33 cannot read its reliability.
    const { channel: announced } = await peerOpens(stack.gateway, peer, 'from-browser', {
      unordered: true,
      maxRetransmits: 1,
    });
    assert.deepEqual(announced.options, {
      ordered: null,
      maxRetransmits: null,
      maxPacketLifeTime: null,
      negotiated: false,
    });
    const listed = session.info().channels.find((c) => c.label === 'from-browser');
    assert.equal(listed?.opener, 'browser');
    assert.equal(listed?.ordered, null);
    assert.equal(listed?.maxRetransmits, null);
    assert.equal(listed?.maxPacketLifeTime, null);
    assert.equal(listed?.negotiated, false);
  } finally {
    await peer.close();
  }
});

test("openChannel({negotiated, id}) pairs with the browser's channel of that id; bad combinations throw BAD_CHANNEL_OPTIONS", async () => {
  const peer = await FakeBrowser.join(stack, 'channels');
  try {
    const { session } = await gatewayOffers(stack.gateway, peer, { label: 'first' });
    await until(() => session.state === 'connected', 5000, 'gateway session connected');

    const channel = session.openChannel({ label: 'neg', negotiated: true, id: 7 });
    const fromBrowser = nextGatewayMessage(channel); // a message listener also keeps "neg" from being refused
    const dc = await openOf(peer.pc.createDataChannel('neg', { negotiated: true, id: 7 }));
    await until(() => channel.state === 'open', 5000, 'negotiated channel open on the gateway');
    assert.equal(channel.id, 7);
    assert.equal(dc.getId(), 7);
    assert.deepEqual(channel.options, {
      ordered: true,
      maxRetransmits: null,
      maxPacketLifeTime: null,
      negotiated: true,
    });
    assert.equal(session.info().channels.find((c) => c.label === 'neg')?.negotiated, true);

    const toBrowser = nextMessage(dc);
    channel.send('gateway → browser');
    assert.equal(await toBrowser, 'gateway → browser');
    dc.sendMessage('browser → gateway');
    assert.equal(await fromBrowser, 'browser → gateway');

    const { channel: announced } = await peerOpens(stack.gateway, peer, 'announced');
    const count = session.channels.size;
    assert.throws(
      () => session.openChannel({ label: 'neg-again', negotiated: true, id: 7 }),
      isGatewayError('BAD_CHANNEL_OPTIONS'),
    );
    assert.throws(
      () => session.openChannel({ label: 'clash', negotiated: true, id: announced.id }),
      isGatewayError('BAD_CHANNEL_OPTIONS'),
      `the id of the browser-announced channel (${announced.id}) is taken too`,
    );
    assert.throws(
      () => session.openChannel({ label: 'both', maxRetransmits: 1, maxPacketLifeTime: 100 }),
      isGatewayError('BAD_CHANNEL_OPTIONS'),
    );
    assert.throws(
      () => session.openChannel({ label: 'no-id', negotiated: true }),
      isGatewayError('BAD_CHANNEL_OPTIONS'),
    );
    assert.equal(session.channels.size, count, 'a refused request opens no channel');

    // The negotiated channel still works after the refusals.
    const again = nextMessage(dc);
    channel.send('still open');
    assert.equal(await again, 'still open');
  } finally {
    await peer.close();
  }
});

test('a channel the gateway offers before SCTP is up reports its real stream id, and openChannel({negotiated}) refuses that id', async () => {
  const peer = await FakeBrowser.join(stack, 'channels');
  try {
    const { channel, session, dc } = await gatewayOffers(stack.gateway, peer, { label: 'offered' });
    assert.throws(
      () => session.openChannel({ label: 'same-id', negotiated: true, id: dc.getId() }),
      isGatewayError('BAD_CHANNEL_OPTIONS'),
      `stream id ${dc.getId()} is taken by "offered"`,
    );
    assert.equal(channel.id, dc.getId());
    assert.equal(session.info().channels.find((c) => c.label === 'offered')?.id, dc.getId());
  } finally {
    await peer.close();
  }
});

test('channelRequestSchema refuses maxRetransmits with maxPacketLifeTime, and negotiated without id', async () => {
  const both = channelRequestSchema.safeParse({ label: 'x', maxRetransmits: 1, maxPacketLifeTime: 100 });
  assert.equal(both.success, false);
  assert.deepEqual(both.error?.issues[0]?.path, ['maxPacketLifeTime']);
  const noId = channelRequestSchema.safeParse({ label: 'x', negotiated: true });
  assert.equal(noId.success, false);
  assert.deepEqual(noId.error?.issues[0]?.path, ['id']);
  assert.equal(channelRequestSchema.safeParse({ label: 'x', negotiated: true, id: 7 }).success, true);
  assert.equal(channelRequestSchema.safeParse({ label: 'x', negotiated: false }).success, true);
  assert.equal(channelRequestSchema.safeParse({ label: 'x', maxRetransmits: 3 }).success, true);
  assert.equal(channelRequestSchema.safeParse({ label: 'x', negotiated: true, id: 65535 }).success, false);

  // On the wire: the server refuses such an offer-request and the gateway never sees it.
  const peer = await FakeBrowser.join(stack, 'channels');
  try {
    for (const bad of [
      { label: 'x', maxRetransmits: 1, maxPacketLifeTime: 100 },
      { label: 'x', negotiated: true },
    ]) {
      const refused = peer.signal.next((m) => m.type === 'error', 5000);
      peer.signal.send({ type: 'offer-request', to: peer.gatewayId, channels: [bad] });
      const error = await refused;
      assert.equal(error.type === 'error' ? error.code : '', 'INVALID_MESSAGE');
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stack.gateway.sessions.has(peer.peerId), false);
  } finally {
    await peer.close();
  }
});

test('maxMessageSize is the smaller a=max-message-size; exactly that size passes both ways, one byte more is MESSAGE_TOO_LARGE', async () => {
  const server = await startServer(
    { port: 0, host: '127.0.0.1', staticDir: undefined, heartbeatMs: 500 },
    quiet,
  );
  const gateway = new Gateway({
    signalUrl: `ws://127.0.0.1:${server.port}/signal`,
    room: 'sized',
    log: quiet,
    maxMessageSize: 150_000,
  });
  await gateway.start();
  const peer = await ConfiguredBrowser.join(server, 'sized', { maxMessageSize: 100_000 });
  try {
    const { channel, session, dc } = await gatewayOffers(gateway, peer, { label: 'big' });
    await until(() => session.state === 'connected', 5000, 'gateway session connected');

    assert.equal(channel.maxMessageSize, 100_000);
    assert.equal(dc.maxMessageSize(), 100_000, 'the browser side agrees');
    const info = session.info();
    assert.equal(info.localMaxMessageSize, 150_000);
    assert.equal(info.remoteMaxMessageSize, 100_000);
    assert.equal(info.maxMessageSize, 100_000);
    assert.equal(info.channels.find((c) => c.label === 'big')?.maxMessageSize, 100_000);

    const up = randomBytes(100_000);
    const arrived = nextGatewayMessage(channel);
    dc.sendMessageBinary(up);
    assert.deepEqual(await arrived, up);

    const down = randomBytes(100_000);
    const received = nextMessage(dc);
    channel.send(down);
    assert.deepEqual(await received, down);

    const sentBefore = channel.info().messagesOut;
    assert.throws(() => channel.send(randomBytes(100_001)), isGatewayError('MESSAGE_TOO_LARGE'));
    // 50,001 characters but 100,002 bytes of UTF-8: the limit is in bytes.
    assert.throws(() => channel.send('é'.repeat(50_001)), isGatewayError('MESSAGE_TOO_LARGE'));
    await assert.rejects(channel.write(randomBytes(100_001)), isGatewayError('MESSAGE_TOO_LARGE'));
    assert.equal(channel.info().messagesOut, sentBefore, 'refused messages are not counted');

    const after = nextMessage(dc);
    channel.send('still works');
    assert.equal(await after, 'still works');
    const back = nextGatewayMessage(channel);
    dc.sendMessage('and back');
    assert.equal(await back, 'and back');
  } finally {
    await peer.close();
    await gateway.close();
    await server.close();
  }
});

test('write() with a 64 KiB high-water mark streams 3 MiB intact, resolving only with bufferedAmount ≤ 64 KiB; bufferedamountlow fires', async (t) => {
  const total = 3 * MiB;
  const chunkSize = 16 * KiB;
  const highWaterMark = 64 * KiB;
  const data = randomBytes(total);
  const peer = await FakeBrowser.join(stack, 'channels');
  try {
    const { channel, dc } = await gatewayOffers(stack.gateway, peer, { label: 'bulk' });
    const hash = createHash('sha256');
    let received = 0;
    let messages = 0;
    dc.onMessage((m) => {
      const bytes = typeof m === 'string' ? Buffer.from(m) : Buffer.from(m as ArrayBuffer);
      hash.update(bytes);
      received += bytes.byteLength;
      messages++;
    });
    let lows = 0;
    channel.bufferedAmountLowThreshold = 32 * KiB;
    channel.on('bufferedamountlow', () => lows++);

    const started = Date.now();
    let waited = 0; // writes that left more than the mark queued, so had to wait
    let peak = 0;
    const over: number[] = [];
    for (let offset = 0; offset < total; offset += chunkSize) {
      const pending = channel.write(data.subarray(offset, offset + chunkSize), highWaterMark);
      const queued = channel.bufferedAmount; // right after the send, before any wait
      peak = Math.max(peak, queued);
      if (queued > highWaterMark) waited++;
      await pending;
      const left = channel.bufferedAmount;
      if (left > highWaterMark) over.push(left);
    }
    const written = Date.now() - started;
    try {
      await until(() => received === total, 30_000, 'every byte at the browser');
    } catch (err) {
      throw new Error(`stalled at ${received} of ${total} bytes (${messages} messages)`, { cause: err });
    }
    const elapsed = Date.now() - started;
    assert.deepEqual(over, [], 'no write resolved with more than the mark queued');
    assert.ok(waited > 0, `backpressure was never exercised (peak bufferedAmount ${peak})`);
    assert.equal(messages, total / chunkSize);
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    await until(() => lows >= 1, 5000, 'bufferedamountlow');
    assert.equal(channel.info().bytesOut, total);
    t.diagnostic(
      `3 MiB: writes done in ${written} ms, all received in ${elapsed} ms, ${waited} writes waited, ` +
        `peak bufferedAmount ${peak}, ${lows} bufferedamountlow`,
    );
  } finally {
    await peer.close();
  }
});

test('write() waiting for the buffer to drain rejects with CHANNEL_NOT_OPEN when the peer goes away, without crashing', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const peer = await FakeBrowser.join(stack, 'channels');
  let pcClosed = false;
  try {
    const { channel } = await gatewayOffers(stack.gateway, peer, { label: 'stuck' });
    // Queue megabytes past the SCTP send buffer (bufferedAmount reads 0 until that is full), more
    // than loopback drains before the peer is gone, so that write(…, 0) is still waiting then.
    const chunk = randomBytes(64 * KiB);
    let queued = 0;
    while (channel.bufferedAmount < 4 * MiB && queued < 64 * MiB) {
      channel.send(chunk);
      queued += chunk.byteLength;
    }
    assert.ok(
      channel.bufferedAmount >= 4 * MiB,
      `bufferedAmount ${channel.bufferedAmount} after ${queued} B`,
    );
    const pending = channel.write(chunk, 0);
    peer.pc.close();
    pcClosed = true;
    // A write that resolved (the buffer drained first) fails this as well.
    await assert.rejects(within(pending, 10_000, 'write() settles'), isGatewayError('CHANNEL_NOT_OPEN'));
    assert.equal(channel.state, 'closed');
    await assert.rejects(channel.write('late'), isGatewayError('CHANNEL_NOT_OPEN'));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    if (pcClosed) await peer.signal.close();
    else await peer.close();
  }
});

test('bufferedAmountLowThreshold refuses -1, 1.5, NaN and Infinity with RangeError and keeps its value', async () => {
  const peer = await FakeBrowser.join(stack, 'channels');
  try {
    const { channel } = await gatewayOffers(stack.gateway, peer, { label: 'threshold' });
    assert.equal(channel.bufferedAmountLowThreshold, 0);
    channel.bufferedAmountLowThreshold = 4096;
    assert.equal(channel.bufferedAmountLowThreshold, 4096);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => {
          channel.bufferedAmountLowThreshold = bad;
        },
        RangeError,
        String(bad),
      );
    }
    assert.equal(channel.bufferedAmountLowThreshold, 4096);
    channel.bufferedAmountLowThreshold = 0;
    assert.equal(channel.bufferedAmountLowThreshold, 0);
  } finally {
    await peer.close();
  }
});
