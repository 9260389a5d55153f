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
        s.close();
        return {
          codes,
          joined:
            joined.type === 'joined'
              ? { peerId: joined.peerId, peers: joined.peers.map((p) => p.role) }
              : null,
          again: again.type === 'error' ? again.code : null,
          stranger: stranger.type === 'error' ? stranger.code : null,
        };
      },
      { transport, cases: CASES, room: stack.room },
    );
    expect(result.codes).toEqual(CASES.map((c) => c.code));
    expect(result.joined?.peers).toContain('gateway');
    expect(result.again).toBe('ALREADY_JOINED');
    expect(result.stranger).toBe('UNKNOWN_PEER');
    // None of it reached the gateway as a session.
    expect(await gatewayView.session(result.joined?.peerId ?? '')).toBeUndefined();
  });
}
