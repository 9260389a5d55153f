/** (e) two browser sessions in one room: one PeerConnection each, no crosstalk. */
import { connect, echoAll } from '../fixtures/inPage.js';
import { expect, test } from '../fixtures/test.js';

test('two browser sessions in one room each get their own PeerConnection and only their own echoes', async ({
  rtcPage,
  context,
  stack,
  gatewayView,
}) => {
  const other = await context.newPage();
  await other.goto(`${stack.serverUrl}/`);
  await other.waitForFunction(() => 'rtcgate' in globalThis);
  const [a, b] = await Promise.all([
    connect(rtcPage, { room: stack.room, transport: 'ws', offerer: 'browser' }),
    connect(other, { room: stack.room, transport: 'socket.io', offerer: 'gateway' }),
  ]);
  expect(a.peerId).not.toBe(b.peerId);
  expect(a.gatewayId).toBe(b.gatewayId);

  // Both pages listen for every message on their echo channel while both send at once.
  const collect = (page: typeof rtcPage, tag: string) =>
    page.evaluate(async (tag) => {
      const channel = await globalThis.conns!.main!.channel('echo');
      const seen: string[] = [];
      const done = new Promise<void>((resolve) => {
        channel.addEventListener('message', (e: MessageEvent) => {
          seen.push(String(e.data));
          if (seen.length === 200) resolve();
        });
      });
      for (let i = 0; i < 200; i++) channel.send(`${tag}-${i}`);
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      await new Promise((r) => setTimeout(r, 300)); // anything stray would arrive now
      return seen;
    }, tag);
  const [seenA, seenB] = await Promise.all([collect(rtcPage, 'A'), collect(other, 'B')]);
  expect(seenA).toEqual(Array.from({ length: 200 }, (_, i) => `A-${i}`));
  expect(seenB).toEqual(Array.from({ length: 200 }, (_, i) => `B-${i}`));

  const sessions = await gatewayView.sessions();
  const mine = sessions.filter((s) => s.peerId === a.peerId || s.peerId === b.peerId);
  expect(mine).toHaveLength(2);
  expect(new Set(mine.map((s) => s.sessionId)).size).toBe(2);
  await echoAll(other, [{ text: 'still here' }]);
  await other.close();
});
