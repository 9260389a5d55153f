/**
 * Child process for nativeRefs.test.ts (run with --expose-gc): five loopback connections with one
 * channel each, closed, then a full garbage collection and nodeDataChannel.cleanup(). With `hold`
 * every channel goes through src/nativeRefs.ts the way the gateway's channels do; with `drop` the
 * channels are left to the garbage collector. Prints "clean exit" when cleanup() returned.
 */
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import { hold, heldChannels, release } from '../src/nativeRefs.js';

const mode = process.argv[2] === 'drop' ? 'drop' : 'hold';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

// In `drop` mode the channels are still referenced until every connection is done, and only then
// left to the collector: a wrapper collected while its connection is still being set up is closed
// by its destructor, so the channel never opens and the child fails for an unrelated reason (3 in
// 20 runs, the unit suite's CI failure of stop 12).
const untilDone: DataChannel[] = [];

function keep(dc: DataChannel): DataChannel {
  if (mode === 'drop') {
    untilDone.push(dc);
    return dc;
  }
  hold(dc);
  dc.onClosed(() => release(dc));
  return dc;
}

async function connectAndClose(i: number): Promise<void> {
  const a = new nodeDataChannel.PeerConnection('a', { iceServers: [] });
  const b = new nodeDataChannel.PeerConnection('b', { iceServers: [] });
  // An exception thrown inside a node-datachannel callback terminates the process: contain them.
  const safe = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      process.stderr.write(`connection ${i}: ${String(err)}\n`);
    }
  };
  // Candidates both ways wait until the answer is applied: each callback has its own thread-safe
  // function, so a candidate can reach JavaScript before its description; and if the answerer
  // could finish ICE first, its DTLS handshake would reach the offerer before the offerer knows
  // its fingerprint, and fail (seen under load: "DTLS alert: unknown CA").
  let held: [PeerConnection, string, string][] | undefined = [];
  const candidate = (to: PeerConnection) => (c: string, mid: string) => {
    if (held) held.push([to, c, mid]);
    else safe(() => to.addRemoteCandidate(c, mid));
  };
  a.onLocalCandidate(candidate(b));
  b.onLocalCandidate(candidate(a));
  a.onLocalDescription((sdp, type) => safe(() => b.setRemoteDescription(sdp, type)));
  b.onLocalDescription((sdp, type) => {
    safe(() => a.setRemoteDescription(sdp, type));
    const now = held ?? [];
    held = undefined;
    for (const [to, c, mid] of now) safe(() => to.addRemoteCandidate(c, mid));
  });
  const announced = new Promise<void>((resolve) => b.onDataChannel((dc) => (keep(dc), resolve())));
  keep(a.createDataChannel('x'));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    announced,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection ${i}: no channel within 10 s`)), 10_000);
    }),
  ]);
  clearTimeout(timer);
  a.close();
  b.close();
}

for (let i = 0; i < 5; i++) await connectAndClose(i);
await new Promise((r) => setTimeout(r, 500));
untilDone.length = 0;
gc();
await new Promise((r) => setTimeout(r, 50));
process.stdout.write(`held ${heldChannels()}\n`);
nodeDataChannel.cleanup();
process.stdout.write('clean exit\n');
