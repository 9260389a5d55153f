/**
 * (a) default browser settings (mDNS host candidates on): connect and echo text and binary over each
 * signaling transport; (b) with the browser offering and with the gateway offering.
 */
import { connect, echoAll } from '../fixtures/inPage.js';
import { expect, test } from '../fixtures/test.js';

const TEXTS = ['hello', 'héllo wörld — ✓ 日本語 🚀', ' '.repeat(1) + 'x'.repeat(4096)];
const BINARIES = [[0], [0, 1, 2, 254, 255], Array.from({ length: 8192 }, (_, i) => (i * 31) % 256)];

for (const transport of ['ws', 'socket.io'] as const) {
  for (const offerer of ['browser', 'gateway'] as const) {
    test(`connect over ${transport} with the ${offerer} offering echoes text as text and binary as binary`, async ({
      rtcPage,
      stack,
      gatewayView,
    }) => {
      const { peerId } = await connect(rtcPage, { room: stack.room, transport, offerer });
      const sent = [...TEXTS.map((text) => ({ text })), ...BINARIES.map((bytes) => ({ bytes }))];
      const replies = await echoAll(rtcPage, sent);
      expect(replies).toEqual(sent);

      const session = await gatewayView.session(peerId);
      expect(session?.offerer).toBe(offerer);
      const echo = session?.channels.find((c) => c.label === 'echo');
      expect(echo?.opener).toBe(offerer);
      expect(echo?.messagesIn).toBe(sent.length);
      expect(echo?.messagesOut).toBe(sent.length);
    });
  }
}
