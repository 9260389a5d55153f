/**
 * SCTP SNAP (draft-hancke-tsvwg-snap, the a=sctp-init SDP attribute): in the "SNAP" projects
 * Chromium runs with it switched on, and every @core scenario of this suite runs there too. This
 * test proves the switch took effect, so those projects cannot pass vacuously, and that the
 * gateway's answer declines SNAP (libdatachannel #1620; see withoutSctpInit in peerSession.ts).
 */
import { expect, test } from '../fixtures/dc.js';

test('@core SNAP: offers carry a=sctp-init exactly when the browser has it on; the gateway never sends it', async ({
  dc,
  offerer,
}, testInfo) => {
  const snap = testInfo.project.metadata.variant === 'snap';
  const sdp = await dc.page.evaluate(() => {
    const pc = globalThis.conns!.main!.pc;
    return { local: pc.localDescription?.sdp ?? '', remote: pc.remoteDescription?.sdp ?? '' };
  });
  const hasInit = (s: string) => /^a=sctp-init:/m.test(s);
  // The gateway's description (answer or offer) never carries it.
  expect(hasInit(sdp.remote)).toBe(false);
  if (offerer === 'browser') expect(hasInit(sdp.local)).toBe(snap);
  // An answer carries it only when the offer did (the draft's rule), so never when the gateway offers.
  else expect(hasInit(sdp.local)).toBe(false);
  const reply = await dc.page.evaluate(async () => {
    const ch = await globalThis.conns!.main!.openChannel('snap-echo');
    return (await rtcgate.echo(ch, 'over SCTP')).reply;
  });
  expect(reply).toBe('over SCTP');
});
