/**
 * Channel options (webrtc-pc §6.1 RTCDataChannelInit) read back the same on both sides, for
 * channels opened by the browser, by the gateway, negotiated out of band, and by both at once.
 */
import type { ChannelInfo, SessionInfo } from 'rtcgate-peer-node';
import { expect, test } from '../fixtures/dc.js';

interface Options {
  label: string;
  protocol?: string;
  ordered?: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
}

/** What RTCDataChannel should read back for `o` (webrtc-pc §6.2 defaults). */
function expected(o: Options) {
  return {
    label: o.label,
    protocol: o.protocol ?? '',
    ordered: o.ordered ?? true,
    maxRetransmits: o.maxRetransmits ?? null,
    maxPacketLifeTime: o.maxPacketLifeTime ?? null,
  };
}

/** `core`: also run over Socket.IO signaling and with SNAP (the other cases only differ in SCTP). */
const CASES: { name: string; options: Options; core?: boolean }[] = [
  { name: 'ordered reliable', options: { label: 'ordered-reliable' }, core: true },
  { name: 'unordered reliable', options: { label: 'unordered-reliable', ordered: false } },
  { name: 'maxRetransmits 0', options: { label: 'rtx-0', ordered: false, maxRetransmits: 0 }, core: true },
  { name: 'maxRetransmits 3', options: { label: 'rtx-3', maxRetransmits: 3 } },
  { name: 'maxPacketLifeTime 100 ms', options: { label: 'lifetime-100', maxPacketLifeTime: 100 } },
  { name: 'protocol field', options: { label: 'with-protocol', protocol: 'rtcgate.test/1 ✓' } },
  { name: 'Unicode label', options: { label: 'канал · 通道 · 🚀' } },
  { name: 'empty label', options: { label: '' } },
];

/** A partially reliable channel may lose a ping or its echo; say so when it happened. */
function noteLostPings(attempts: number): void {
  if (attempts > 1) {
    test.info().annotations.push({
      type: 'lost ping',
      description: `the echo came on ping ${attempts} (the channel's options allow loss)`,
    });
  }
}

function gatewayChannel(view: SessionInfo, id: number): ChannelInfo {
  const channel = view.channels.find((c) => c.id === id);
  if (!channel) throw new Error(`gateway has no channel with id ${id}: ${JSON.stringify(view.channels)}`);
  return channel;
}

test.describe('opened by the browser', () => {
  for (const { name, options, core } of CASES) {
    test(`${core ? '@core ' : ''}${name}: the browser reads its options back, the gateway the label, protocol and id, and it echoes`, async ({
      dc,
    }) => {
      const seen = await dc.page.evaluate(async (o) => {
        const conn = globalThis.conns?.main;
        if (!conn) throw new Error('not connected');
        const { label, ...init } = o;
        const ch = await conn.openChannel(label, init);
        const { reply, attempts } = await harness.echoAsOptionsAllow(ch, `ping on ${label}`);
        return {
          reply,
          attempts,
          props: harness.optionsOf(ch),
          negotiated: ch.negotiated,
          id: ch.id,
        };
      }, options);
      expect(seen.props).toEqual(expected(options));
      expect(seen.negotiated).toBe(false);
      expect(seen.reply).toBe(`ping on ${options.label}`);
      noteLostPings(seen.attempts);
      const view = await dc.control<SessionInfo>('view');
      const g = gatewayChannel(view, seen.id ?? -1);
      expect({ label: g.label, protocol: g.protocol, negotiated: g.negotiated, opener: g.opener }).toEqual({
        label: options.label,
        protocol: options.protocol ?? '',
        negotiated: false,
        opener: 'browser',
      });
    });
  }

  test('the gateway reads back the reliability options of a channel the browser opened', async ({ dc }) => {
    test.fail(
      true,
      "node-datachannel 0.33 has no getter for a DataChannel's reliability (libdatachannel keeps it in " +
        'DataChannel::reliability(), the binding does not expose it), so the gateway cannot read what a ' +
        'browser-announced channel carried: https://github.com/murat-dogan/node-datachannel/blob/master/src/cpp/data-channel-wrapper.h',
    );
    const options = { label: 'readback', ordered: false, maxRetransmits: 3 };
    const id = await dc.page.evaluate(async (o) => {
      const conn = globalThis.conns?.main;
      if (!conn) throw new Error('not connected');
      const { label, ...init } = o;
      return (await conn.openChannel(label, init)).id;
    }, options);
    const g = gatewayChannel(await dc.control<SessionInfo>('view'), id ?? -1);
    expect({
      ordered: g.ordered,
      maxRetransmits: g.maxRetransmits,
      maxPacketLifeTime: g.maxPacketLifeTime,
    }).toEqual({
      ordered: false,
      maxRetransmits: 3,
      maxPacketLifeTime: null,
    });
  });
});

test.describe('opened by the gateway', () => {
  for (const { name, options, core } of CASES) {
    test(`${core ? '@core ' : ''}${name}: the browser sees "datachannel" with these options, both sides read them back, and it echoes`, async ({
      dc,
    }) => {
      const pending = dc.page.evaluate(async (label) => {
        const conn = globalThis.conns?.main;
        if (!conn) throw new Error('not connected');
        const ch = await conn.channel(label);
        const { reply, attempts, browserNeverSent } = await harness.echoAsOptionsAllow(
          ch,
          `ping on ${label}`,
          {
            pc: conn.pc,
          },
        );
        return {
          reply,
          attempts,
          browserNeverSent,
          props: harness.optionsOf(ch),
          negotiated: ch.negotiated,
          id: ch.id,
        };
      }, options.label);
      const opened = await dc.control<{ id: number }>('open', { request: options });
      const seen = await pending.catch(async (err: unknown) => {
        // Say what each side saw of the channel: did the ping leave the browser, did it reach the
        // gateway, did the echo leave?
        const browser = await dc.page
          .evaluate(async (label) => {
            const conn = globalThis.conns!.main!;
            const ch = conn.channels.get(label);
            const statsOf = () => (ch ? harness.dataChannelStats(conn.pc, ch) : Promise.resolve(null));
            const first = {
              readyState: ch?.readyState,
              bufferedAmount: ch?.bufferedAmount,
              stats: await statsOf(),
            };
            // Does a second message get through where the first did not?
            let second: unknown = 'not sent';
            if (ch?.readyState === 'open') {
              second = await rtcgate.echo(ch, 'second ping', 5000).then(
                ({ reply }) => ({ reply }),
                (e: unknown) => String(e),
              );
            }
            return {
              ...first,
              second,
              after: { bufferedAmount: ch?.bufferedAmount, stats: await statsOf() },
            };
          }, options.label)
          .catch((e: unknown) => String(e));
        const view = await dc.control<SessionInfo>('view').catch((e: unknown) => String(e));
        const channel = typeof view === 'string' ? view : view.channels.find((c) => c.id === opened.id);
        throw new Error(
          `${String(err)}\ngateway's view of the channel: ${JSON.stringify(channel)}` +
            `\nbrowser's view of the channel: ${JSON.stringify(browser)}`,
        );
      });
      expect(seen.props).toEqual(expected(options));
      expect(seen.negotiated).toBe(false);
      expect(seen.id).toBe(opened.id);
      expect(seen.reply).toBe(`ping on ${options.label}`);
      if (seen.browserNeverSent) {
        // Chromium's own stats said the first ping was never sent (docs/interop.md, "Chromium drops
        // the first message on an announced channel"); seen in Chromium only, so only allowed there.
        expect(test.info().project.use.browserName).toBe('chromium');
        // Only the second ping reached the gateway, and only its echo left.
        const g = gatewayChannel(await dc.control<SessionInfo>('view'), opened.id);
        expect({ messagesIn: g.messagesIn, messagesOut: g.messagesOut }).toEqual({
          messagesIn: 1,
          messagesOut: 1,
        });
        test.info().annotations.push({
          type: 'browser never sent',
          description:
            'Chromium dropped the first ping on this announced channel (its stats: messagesSent 0, channel open); the second went through',
        });
      } else noteLostPings(seen.attempts);
      const g = gatewayChannel(await dc.control<SessionInfo>('view'), opened.id);
      expect({
        label: g.label,
        protocol: g.protocol,
        ordered: g.ordered,
        maxRetransmits: g.maxRetransmits,
        maxPacketLifeTime: g.maxPacketLifeTime,
      }).toEqual(expected(options));
      expect({ negotiated: g.negotiated, opener: g.opener, state: g.state }).toEqual({
        negotiated: false,
        opener: 'gateway',
        state: 'open',
      });
    });
  }
});

test('@core negotiated channels with explicit ids, created on both sides, open and carry data both ways', async ({
  dc,
}) => {
  const channels = [
    { label: 'neg-a', negotiated: true, id: 11 },
    { label: 'neg-b', negotiated: true, id: 200, ordered: false, maxRetransmits: 0 },
    { label: 'neg-c', negotiated: true, id: 1023, maxPacketLifeTime: 100, protocol: 'p' },
  ];
  for (const request of channels) await dc.control('open', { request });
  const seen = await dc.page.evaluate(async (list) => {
    const conn = globalThis.conns?.main;
    if (!conn) throw new Error('not connected');
    const out = [];
    for (const o of list) {
      const { label, ...init } = o;
      const ch = conn.pc.createDataChannel(label, init);
      await rtcgate.waitForOpen(ch);
      const { reply } = await harness.echoAsOptionsAllow(ch, `ping ${label}`);
      out.push({ label: ch.label, id: ch.id, negotiated: ch.negotiated, ordered: ch.ordered, reply });
    }
    return out;
  }, channels);
  expect(seen).toEqual(
    channels.map((c) => ({
      label: c.label,
      id: c.id,
      negotiated: true,
      ordered: c.ordered ?? true,
      reply: `ping ${c.label}`,
    })),
  );
  const view = await dc.control<SessionInfo>('view');
  for (const c of channels) {
    const g = gatewayChannel(view, c.id);
    expect(g).toMatchObject({
      label: c.label,
      negotiated: true,
      ordered: c.ordered ?? true,
      maxRetransmits: c.maxRetransmits ?? null,
      maxPacketLifeTime: c.maxPacketLifeTime ?? null,
      protocol: c.protocol ?? '',
      state: 'open',
    });
  }
});

test('channels opened by both sides at once, with the same label, stay separate', async ({ dc }) => {
  const result = await dc.page.evaluate(async () => {
    const conn = globalThis.conns?.main;
    const ctl = globalThis.ctls?.main;
    if (!conn || !ctl) throw new Error('not connected');
    const announced = harness.once(conn.pc, 'datachannel') as Promise<RTCDataChannelEvent>;
    const mine = conn.pc.createDataChannel('both');
    const [opened] = await Promise.all([
      ctl('open', { request: { label: 'both' } }) as Promise<{ id: number }>,
      rtcgate.waitForOpen(mine),
    ]);
    const theirs = (await announced).channel;
    await rtcgate.waitForOpen(theirs);
    const a = await rtcgate.echo(mine, 'from mine');
    const b = await rtcgate.echo(theirs, 'from theirs');
    return {
      mineId: mine.id,
      theirsId: theirs.id,
      gatewayId: opened.id,
      a: a.reply,
      b: b.reply,
    };
  });
  expect(result.mineId).not.toBe(result.theirsId);
  expect(result.theirsId).toBe(result.gatewayId);
  expect(result.a).toBe('from mine');
  expect(result.b).toBe('from theirs');
  const view = await dc.control<SessionInfo>('view');
  const both = view.channels.filter((c) => c.label === 'both');
  expect(both.map((c) => c.opener).sort()).toEqual(['browser', 'gateway']);
  expect(both.every((c) => c.messagesIn === 1 && c.messagesOut === 1)).toBe(true);
});
