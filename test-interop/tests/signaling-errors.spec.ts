/**
 * (f) malformed and oversized signaling from a real browser gets its error code, reaches nobody,
 * and the connection stays usable (docs/protocol.md, docs/errors.md).
 */
import { expect, test } from '../fixtures/test.js';

interface Case {
  name: string;
  /** A text frame, or null for a binary frame. */
  frame: string | null;
  code: string;
}

const CASES: Case[] = [
  {
    name: 'a message before join',
    frame: '{"type":"offer","to":"p_AAAAAAAAAAAA","sdp":"v=0"}',
    code: 'NOT_JOINED',
  },
  { name: 'text that is not JSON', frame: '{"type": "join", ', code: 'BAD_JSON' },
  { name: 'an unknown type', frame: '{"type":"dance"}', code: 'UNKNOWN_TYPE' },
  { name: 'a wrong field', frame: '{"type":"join","room":"r","role":"admin"}', code: 'INVALID_MESSAGE' },
  {
    name: 'a 70 KiB frame',
    frame: JSON.stringify({ type: 'join', room: 'x'.repeat(70 * 1024), role: 'browser' }),
    code: 'FRAME_TOO_LARGE',
  },
  { name: 'a binary frame', frame: null, code: 'UNSUPPORTED_FRAME' },
];

for (const transport of ['ws', 'socket.io'] as const) {
  test(`over ${transport}: each malformed or oversized frame gets its own code and the connection stays usable`, async ({
    rtcPage,
    stack,
    gatewayView,
  }) => {
    const result = await rtcPage.evaluate(
      async ({ transport, cases, room }) => {
        const s = await rtcgate.openSignaling(transport);
        const codes: string[] = [];
        for (const c of cases) {
          const reply = s.next((m) => m.type === 'error', 5000);
          s.sendRaw(c.frame ?? new Uint8Array([1, 2, 3]).buffer);
          const m = await reply;
          codes.push(m.type === 'error' ? m.code : m.type);
        }
        // Still usable: join works, a second join and a relay to a stranger get their codes.
        const joinedP = s.next((m) => m.type === 'joined' || m.type === 'error', 5000);
        s.send({ type: 'join', room, role: 'browser' });
        const joined = await joinedP;
        const againP = s.next((m) => m.type === 'error', 5000);
        s.send({ type: 'join', room, role: 'browser' });
        const again = await againP;
        const strangerP = s.next((m) => m.type === 'error', 5000);
        s.send({ type: 'offer-request', to: 'p_nobodyHere12' });
        const stranger = await strangerP;

        // Bad frames addressed to the gateway, after join: each gets its code and none is
        // relayed. A relayed offer-request would make the gateway send an offer back.
        const gatewayId =
          joined.type === 'joined' ? joined.peers.find((p) => p.role === 'gateway')?.peerId : '';
        const seen: string[] = [];
        const off = s.onMessage((m) => seen.push(m.type === 'error' ? `error:${m.code}` : m.type));
        const addressed = [
          JSON.stringify({ type: 'offer-request', to: gatewayId, from: 'p_AAAAAAAAAAAA' }),
          JSON.stringify({ type: 'offer-request', to: gatewayId, channels: [] }),
          JSON.stringify({ type: 'offer-request', to: gatewayId, pad: 'x'.repeat(70 * 1024) }),
        ];
        for (const frame of addressed) s.sendRaw(frame);
        await new Promise((r) => setTimeout(r, 1000));
        const afterBad = [...seen];
        // Control: the same request, well formed, does reach the gateway, which offers.
        const offerP = s.next((m) => m.type === 'offer', 10_000);
        s.send({ type: 'offer-request', to: gatewayId ?? '' });
        const offer = await offerP;
        s.send({ type: 'bye', to: gatewayId ?? '', reason: 'test done' });
        off();
        s.close();
        return {
          codes,
          joined:
            joined.type === 'joined'
              ? { peerId: joined.peerId, peers: joined.peers.map((p) => p.role) }
              : null,
          again: again.type === 'error' ? again.code : null,
          stranger: stranger.type === 'error' ? stranger.code : null,
          afterBad,
          control: offer.type,
        };
      },
      { transport, cases: CASES, room: stack.room },
    );
    expect(result.codes).toEqual(CASES.map((c) => c.code));
    expect(result.joined?.peers).toContain('gateway');
    expect(result.again).toBe('ALREADY_JOINED');
    expect(result.stranger).toBe('UNKNOWN_PEER');
    expect(result.afterBad).toEqual([
      'error:INVALID_MESSAGE',
      'error:INVALID_MESSAGE',
      'error:FRAME_TOO_LARGE',
    ]);
    expect(result.control).toBe('offer');
    // The control session ends with the bye.
    await expect
      .poll(() => gatewayView.session(result.joined?.peerId ?? ''), { timeout: 10_000 })
      .toBeUndefined();
  });
}
