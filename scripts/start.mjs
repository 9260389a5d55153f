// `npm start`: install what is missing, build, then run `rtcgate demo`: the signaling server, one
// gateway peer in the default room and the page, in this one process. Ctrl-C stops everything.
// Arguments after `npm start --` go to `rtcgate demo` (e.g. `npm start -- --port 9000`).
import { ensureBuilt, ensureInstalled } from './ensure.mjs';

try {
  ensureInstalled();
  ensureBuilt();
} catch (err) {
  console.error(`rtcgate: ${err.message}`);
  process.exit(1);
}

const { runCli } = await import('rtcgate-peer-node/cli');
const code = await runCli(['demo', ...process.argv.slice(2)]);
if (code !== undefined) process.exit(code);
