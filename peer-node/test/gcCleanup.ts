/**
 * Child process for nativeRefs.test.ts (run with --expose-gc): five loopback connections with one
 * channel each, closed, then a full garbage collection and nodeDataChannel.cleanup(). With `hold`
 * every channel goes through src/nativeRefs.ts the way the gateway's channels do; with `drop` the
 * channels are left to the garbage collector. Prints "clean exit" when cleanup() returned.
 */
import nodeDataChannel, { type DataChannel } from 'node-datachannel';
import { hold, heldChannels, release } from '../src/nativeRefs.js';

const mode = process.argv[2] === 'drop' ? 'drop' : 'hold';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function keep(dc: DataChannel): DataChannel {
  if (mode === 'drop') return dc;
  hold(dc);
  dc.onClosed(() => release(dc));
  return dc;
}

async function connectAndClose(): Promise<void> {
  const a = new nodeDataChannel.PeerConnection('a', { iceServers: [] });
  const b = new nodeDataChannel.PeerConnection('b', { iceServers: [] });
  // An exception thrown inside a node-datachannel callback terminates the process: contain them.
  const safe = (fn: () => void) => {
    try {
      fn();
    } catch {
      // a candidate ahead of its description; the other candidates connect
    }
  };
  a.onLocalDescription((sdp, type) => safe(() => b.setRemoteDescription(sdp, type)));
  b.onLocalDescription((sdp, type) => safe(() => a.setRemoteDescription(sdp, type)));
  a.onLocalCandidate((c, mid) => safe(() => b.addRemoteCandidate(c, mid)));
  b.onLocalCandidate((c, mid) => safe(() => a.addRemoteCandidate(c, mid)));
  const announced = new Promise<void>((resolve) => b.onDataChannel((dc) => (keep(dc), resolve())));
  keep(a.createDataChannel('x'));
  await announced;
  a.close();
  b.close();
}

for (let i = 0; i < 5; i++) await connectAndClose();
await new Promise((r) => setTimeout(r, 500));
gc();
await new Promise((r) => setTimeout(r, 50));
process.stdout.write(`held ${heldChannels()}\n`);
nodeDataChannel.cleanup();
process.stdout.write('clean exit\n');
