// `npm start`: install what is missing, build, then run the signaling server, one gateway peer in
// the default room and the page, in this one process. Ctrl-C stops everything.
import { ensureBuilt, ensureInstalled } from './ensure.mjs';

try {
  ensureInstalled();
  ensureBuilt();
} catch (err) {
  console.error(`rtcgate: ${err.message}`);
  process.exit(1);
}

const { startServer, serverConfigFromEnv, createLogger, ConfigError } = await import('rtcgate-server');
const { Gateway, configuredRoutes, describeTarget } = await import('rtcgate-peer-node');
const { default: nodeDataChannel } = await import('node-datachannel');

let config;
let routes;
try {
  config = serverConfigFromEnv();
  // Channel routes to backends (docs/bridges.md): ROUTES_FILE and/or ROUTES="label=ws://… prefix*=tcp://…".
  routes = configuredRoutes({});
} catch (err) {
  console.error(
    `rtcgate: invalid configuration: ${err instanceof ConfigError ? err.message : (err.message ?? err)}`,
  );
  process.exit(2);
}
const log = createLogger('rtcgate', config.logLevel);
let server;
try {
  server = await startServer(config, log.child('server'));
} catch (err) {
  const hint = err.code === 'EADDRINUSE' ? ` (port ${config.port} is in use: set PORT to another port)` : '';
  console.error(`rtcgate: cannot start the server: ${err.message}${hint}`);
  process.exit(1);
}
const gateway = new Gateway({
  signalUrl: `ws://127.0.0.1:${server.port}/signal`,
  room: process.env.ROOM ?? 'default',
  log: log.child('gateway'),
  routes,
});
await gateway.start();

console.log(`
  rtcgate is running.
  Open ${server.url} in Chrome or Firefox and press Connect.
  Signaling: ${server.signalUrl} (subprotocol rtcgate.signal.v1) and Socket.IO namespace /signal.
  Gateway peer ${gateway.peerId} is in room "${gateway.room}". Press Ctrl-C to stop.
  Channel routes: echo${routes.map((r) => `, ${r.label ?? `${r.prefix}*`} → ${describeTarget(r.target)}`).join('')}
`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: stopping`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  await gateway.close();
  await server.close();
  nodeDataChannel.cleanup();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
