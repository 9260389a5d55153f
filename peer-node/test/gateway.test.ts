import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from 'node:net';
import nodeDataChannel from 'node-datachannel';
import { startServer } from 'rtcgate-server';
import { Gateway, iceRefreshDelayMs, iceServersUrlOf } from '../src/gateway.js';
import { startStatusServer } from '../src/statusServer.js';
import { GatewayError } from '../src/errors.js';
import { FakeBrowser, nextMessage, quiet, startStack, until, within, type Stack } from './pair.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack.close();
  // node-datachannel's threads keep the process alive until cleanup().
  nodeDataChannel.cleanup();
});

test('a peer that offers gets an answer and the gateway echoes text as text and binary as binary', async () => {
  const peer = await FakeBrowser.join(stack);
  try {
    const dc = await peer.offer('echo');
    let reply = nextMessage(dc);
    dc.sendMessage('héllo ✓');
    assert.equal(await reply, 'héllo ✓');
    reply = nextMessage(dc);
    dc.sendMessageBinary(Buffer.from([0, 1, 255]));
    assert.deepEqual(await reply, Buffer.from([0, 1, 255]));
    const session = stack.gateway.sessions.get(peer.peerId);
    await until(() => session?.state === 'connected', 5000, 'gateway session connected');
    const info = session?.info();
    assert.equal(info?.offerer, 'browser');
    assert.equal(info?.connectionState, 'connected');
    assert.equal(info?.dtlsState, 'connected');
    assert.notEqual(info?.selectedPair, null);
  } finally {
    await peer.close();
  }
});

test('offer-request makes the gateway open the channel and offer', async () => {
  const peer = await FakeBrowser.join(stack);
  try {
    const dc = await peer.requestOffer('echo');
    assert.equal(dc.getLabel(), 'echo');
    await until(() => dc.isOpen(), 10_000, 'channel open');
    const reply = nextMessage(dc);
    dc.sendMessage('from the answerer');
    assert.equal(await reply, 'from the answerer');
    assert.equal(stack.gateway.sessions.get(peer.peerId)?.info().offerer, 'gateway');
  } finally {
    await peer.close();
  }
});

test('when the gateway offers, its candidates reach the peer only after the answer is applied', async () => {
  // libdatachannel starts ICE inside setRemoteDescription before it stores the remote fingerprint;
  // a peer that could check early would finish ICE and fail DTLS with "unknown CA" in that gap.
  const peer = await FakeBrowser.join(stack);
  try {
    const dc = await peer.requestOffer('echo');
    await until(() => dc.isOpen(), 10_000, 'channel open');
    const offer = peer.received.find((m) => m.type === 'offer');
    assert.ok(offer && offer.type === 'offer');
    assert.doesNotMatch(offer.sdp, /^a=candidate:/m);
    const answered = peer.events.indexOf('sent:answer');
    const firstCandidate = peer.events.indexOf('recv:candidate');
    assert.ok(answered >= 0 && firstCandidate > answered, `events: ${peer.events.join(', ')}`);
  } finally {
    await peer.close();
  }
});

test('bye from the peer closes and frees its session', async () => {
  const peer = await FakeBrowser.join(stack);
  await peer.offer('echo');
  const session = stack.gateway.sessions.get(peer.peerId);
  assert.ok(session);
  peer.signal.send({ type: 'bye', to: peer.gatewayId, reason: 'done' });
  await until(() => !stack.gateway.sessions.has(peer.peerId), 5000, 'session freed');
  assert.equal(session.state, 'closed');
  assert.equal(session.channels.size, 0);
  await peer.close();
});

test('a channel the peer opens while the gateway closes the session is reset before the PeerConnection closes', async () => {
  const peer = await FakeBrowser.join(stack);
  try {
    await peer.offer('echo');
    const session = stack.gateway.sessions.get(peer.peerId);
    assert.ok(session);
    const adopted: string[] = [];
    session.on('channel', (c) => adopted.push(c.label));
    session.close('test');
    // Its DCEP OPEN reaches the gateway inside CLOSE_GRACE_MS, after close() began.
    const late = peer.pc.createDataChannel('late');
    const closedWhile = await within(
      new Promise<string>((resolve) => late.onClosed(() => resolve(peer.pc.state()))),
      3000,
      'late channel closed',
    );
    // Reset by the gateway, not ended with the association: the peer's connection was still up.
    assert.equal(closedWhile, 'connected');
    assert.deepEqual(adopted, []);
    await within(session.released, 3000, 'session released');
  } finally {
    await peer.close();
  }
});

test('a peer whose signaling drops has its session freed (peer-left)', async () => {
  const peer = await FakeBrowser.join(stack);
  await peer.offer('echo');
  assert.ok(stack.gateway.sessions.has(peer.peerId));
  peer.signal.terminate();
  await until(() => !stack.gateway.sessions.has(peer.peerId), 5000, 'session freed');
  peer.pc.close();
});

test('an offer that is not SDP ends that session with a bye and the gateway keeps serving', async () => {
  const bad = await FakeBrowser.join(stack);
  bad.signal.send({ type: 'offer', to: bad.gatewayId, sdp: 'this is not sdp' });
  const bye = await bad.signal.next((m) => m.type === 'bye', 5000);
  assert.equal(bye.type, 'bye');
  assert.match(bye.type === 'bye' ? (bye.reason ?? '') : '', /negotiation failed/);
  assert.equal(stack.gateway.sessions.has(bad.peerId), false);
  await bad.close();

  const good = await FakeBrowser.join(stack);
  const dc = await good.offer('echo');
  const reply = nextMessage(dc);
  dc.sendMessage('still serving');
  assert.equal(await reply, 'still serving');
  await good.close();
});

test('handle() routes a label to an in-process handler; an unrouted label is closed', async () => {
  stack.gateway.handle('upper', (channel) => {
    channel.on('message', (data) => channel.send(typeof data === 'string' ? data.toUpperCase() : data));
  });
  const peer = await FakeBrowser.join(stack);
  try {
    const dc = await peer.offer('upper');
    const reply = nextMessage(dc);
    dc.sendMessage('shout');
    assert.equal(await reply, 'SHOUT');

    const stray = peer.pc.createDataChannel('nobody-handles-this');
    const closed = new Promise<void>((resolve) => stray.onClosed(() => resolve()));
    await within(closed, 5000, 'unrouted channel closed');
  } finally {
    await peer.close();
  }
});

test('GatewayChannel.send() on a closed channel throws CHANNEL_NOT_OPEN', async () => {
  const peer = await FakeBrowser.join(stack);
  await peer.offer('echo');
  const session = stack.gateway.sessions.get(peer.peerId);
  await until(() => (session?.channels.size ?? 0) > 0, 5000, 'gateway sees the channel');
  const channel = [...(session?.channels ?? [])][0];
  assert.ok(channel);
  session?.close('test');
  assert.throws(
    () => channel.send('x'),
    (err: unknown) => err instanceof GatewayError && err.code === 'CHANNEL_NOT_OPEN',
  );
  assert.throws(
    () => session?.openChannel({ label: 'late' }),
    (err: unknown) => err instanceof GatewayError && err.code === 'SESSION_CLOSED',
  );
  await peer.close();
});

test('gateway.close() says bye to every peer and frees every session', async () => {
  const own = await startStack('closing');
  const peers = await Promise.all([FakeBrowser.join(own, 'closing'), FakeBrowser.join(own, 'closing')]);
  await Promise.all(peers.map((p) => p.offer('echo')));
  assert.equal(own.gateway.sessions.size, 2);
  const byes = peers.map((p) => p.signal.next((m) => m.type === 'bye', 5000));
  await own.gateway.close();
  for (const bye of await Promise.all(byes)) assert.equal(bye.type, 'bye');
  assert.equal(own.gateway.sessions.size, 0);
  await Promise.all(peers.map((p) => p.close()));
  await own.server.close();
});

test('a handler that throws on a message is contained: no uncaught exception, the gateway keeps serving', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  stack.gateway.handle('throws', (channel) => {
    channel.on('message', () => {
      throw new Error('handler bug');
    });
  });
  const peer = await FakeBrowser.join(stack);
  try {
    const dc = await peer.offer('throws');
    dc.sendMessage('boom');
    dc.sendMessage('boom again');
    await new Promise((r) => setTimeout(r, 300));
    const echo = peer.pc.createDataChannel('echo');
    await until(() => echo.isOpen(), 5000, 'echo open');
    const reply = nextMessage(echo);
    echo.sendMessage('alive');
    assert.equal(await reply, 'alive');
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', onUncaught);
    await peer.close();
  }
});

test('listeners that throw on open, close and state never abort the process or stop cleanup', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  const own = await startStack('throwing');
  own.gateway.on('session', (session) => {
    session.on('state', () => {
      throw new Error('state listener bug');
    });
    session.on('close', () => {
      throw new Error('close listener bug');
    });
  });
  own.gateway.handle('fragile', (channel) => {
    channel.on('close', () => {
      throw new Error('channel close listener bug');
    });
  });
  const peer = await FakeBrowser.join(own, 'throwing');
  try {
    const dc = await peer.offer('fragile');
    const session = own.gateway.sessions.get(peer.peerId);
    await until(() => (session?.channels.size ?? 0) > 0, 5000, 'gateway sees the channel');
    dc.close(); // the gateway's channel "close" listener throws
    await until(() => session?.channels.size === 0, 5000, 'channel closed on the gateway');
    peer.signal.send({ type: 'bye', to: peer.gatewayId }); // "state" and "close" listeners throw
    await until(() => !own.gateway.sessions.has(peer.peerId), 5000, 'session freed');
    assert.equal(session?.state, 'closed');
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', onUncaught);
    await peer.close();
    await own.close();
  }
});

test('when the gateway loses signaling it ends every session', async () => {
  const own = await startStack('lost');
  const peer = await FakeBrowser.join(own, 'lost');
  try {
    await peer.offer('echo');
    const session = own.gateway.sessions.get(peer.peerId);
    // The peer's channel can open a moment before the gateway's own state callback arrives.
    await until(() => session?.state === 'connected', 5000, 'gateway session connected');
    await own.server.close();
    await until(() => own.gateway.sessions.size === 0, 5000, 'sessions ended');
    assert.equal(session?.state, 'closed');
  } finally {
    await peer.close();
    await own.close();
  }
});

test('Gateway.start() that is refused (ROOM_FULL) leaves no signaling connection open', async () => {
  const server = await startServer(
    { port: 0, host: '127.0.0.1', staticDir: undefined, maxPeersPerRoom: 2 },
    quiet,
  );
  const url = `ws://127.0.0.1:${server.port}/signal`;
  const first = new Gateway({ signalUrl: url, room: 'full', log: quiet, reconnect: false });
  const second = new Gateway({ signalUrl: url, room: 'full', log: quiet, reconnect: false });
  await first.start();
  await second.start();
  const third = new Gateway({ signalUrl: url, room: 'full', log: quiet, reconnect: false });
  await assert.rejects(
    third.start(),
    (err: unknown) => err instanceof GatewayError && /ROOM_FULL/.test(err.message),
  );
  await until(() => server.hub.stats().connections === 2, 3000, 'refused connection closed');
  await Promise.all([first.close(), second.close(), third.close()]);
  await server.close();
});

test('the status endpoint answers odd request targets and keeps serving', async () => {
  const status = await startStatusServer(stack.gateway, 0, '127.0.0.1');
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(status.port, '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.end('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.1 404/);
    const res = await fetch(`http://127.0.0.1:${status.port}/sessions`);
    assert.equal(res.status, 200);
    const bridges = await fetch(`http://127.0.0.1:${status.port}/bridges`);
    assert.deepEqual(await bridges.json(), { bridges: [] });
  } finally {
    await status.close();
  }
});

test('the gateway takes TURN credentials of its own from its join reply and refreshes them from GET /ice-servers', async () => {
  const server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      staticDir: undefined,
      turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 's', ttlSeconds: 600 },
    },
    quiet,
  );
  const gateway = new Gateway({
    signalUrl: `ws://127.0.0.1:${server.port}/signal`,
    room: 'turn',
    log: quiet,
  });
  try {
    const peerId = await gateway.start();
    const first = gateway.iceServers.find((s) => s.username);
    assert.match(first?.username ?? '', new RegExp(`^\\d+:${peerId}$`));
    // Halfway through the credential's life (600 s), give or take the second it was minted in.
    const delay = iceRefreshDelayMs(gateway.iceServers) ?? 0;
    assert.ok(delay > 298_000 && delay <= 300_000, `refresh in ${delay} ms`);
    const fresh = await gateway.refreshIceServers();
    const second = fresh.find((s) => s.username);
    assert.ok(second?.credential);
    assert.notEqual(second.username, first?.username);
    assert.deepEqual(gateway.iceServers, fresh, 'new sessions get the fresh ones');
  } finally {
    await gateway.close();
    await server.close();
  }
});

test('iceRefreshDelayMs: halfway to the earliest TURN REST expiry, none without one, never under 1 s', () => {
  const now = 1_700_000_000_000;
  assert.equal(iceRefreshDelayMs([{ urls: 'stun:s' }], now), undefined);
  assert.equal(
    iceRefreshDelayMs(
      [
        { urls: 'turn:a', username: '1700003600:p', credential: 'c' },
        { urls: 'turn:b', username: '1700000600:p', credential: 'c' },
      ],
      now,
    ),
    300_000,
  );
  assert.equal(iceRefreshDelayMs([{ urls: 'turn:a', username: '1699999000:p', credential: 'c' }], now), 1000);
  assert.equal(iceServersUrlOf('wss://example.org:8443/signal').href, 'https://example.org:8443/ice-servers');
  assert.equal(iceServersUrlOf('ws://127.0.0.1:8080/signal').href, 'http://127.0.0.1:8080/ice-servers');
});
