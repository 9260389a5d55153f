#!/usr/bin/env node
/**
 * rtcgate-server: the signaling server alone.
 *   rtcgate-server [--port N] [--host H] [--static-dir DIR]
 * Every flag has an environment variable (PORT, HOST, STATIC_DIR, ICE_SERVERS, TURN_URLS,
 * TURN_SECRET, TURN_TTL, HEARTBEAT_MS, MAX_PEERS_PER_ROOM, MAX_PEERS_PER_CONNECTION, LOG_LEVEL);
 * flags win.
 */
import { parseArgs } from 'node:util';
import { ConfigError, serverConfigFromEnv } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

const HELP = `Usage: rtcgate-server [options]

Options (environment variable in brackets):
  --port N            HTTP port [PORT], default 8080
  --host H            listen address [HOST], default 0.0.0.0
  --static-dir DIR    folder of the built page [STATIC_DIR], default client-web/dist
  --ice-servers JSON  RTCIceServer[] handed to peers [ICE_SERVERS], default []
  --turn-urls LIST    comma-separated turn:/turns: URLs of coturn [TURN_URLS]; each peer gets
                      short-lived credentials for them (needs --turn-secret)
  --turn-secret S     coturn's static-auth-secret [TURN_SECRET] (prefer the environment: flags
                      show in the process list)
  --turn-ttl SECONDS  how long a TURN credential is valid [TURN_TTL], default 3600
  --heartbeat-ms N    ping interval for dead-connection detection [HEARTBEAT_MS], default 10000
  --log-level L       debug|info|warn|error|silent [LOG_LEVEL], default info
  -h, --help          this text
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'static-dir': { type: 'string' },
      'ice-servers': { type: 'string' },
      'turn-urls': { type: 'string' },
      'turn-secret': { type: 'string' },
      'turn-ttl': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const env = { ...process.env };
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  if (values['static-dir'] !== undefined) env.STATIC_DIR = values['static-dir'];
  if (values['ice-servers'] !== undefined) env.ICE_SERVERS = values['ice-servers'];
  if (values['turn-urls'] !== undefined) env.TURN_URLS = values['turn-urls'];
  if (values['turn-secret'] !== undefined) env.TURN_SECRET = values['turn-secret'];
  if (values['turn-ttl'] !== undefined) env.TURN_TTL = values['turn-ttl'];
  if (values['heartbeat-ms'] !== undefined) env.HEARTBEAT_MS = values['heartbeat-ms'];
  if (values['log-level'] !== undefined) env.LOG_LEVEL = values['log-level'];
  const config = serverConfigFromEnv(env);
  const log = createLogger('server', config.logLevel);
  const server = await startServer(config, log);
  log.info(`listening on ${server.url} (signaling ${server.signalUrl})`);
  const stop = (signal: string) => {
    log.info(`${signal}: shutting down`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : String(err);
  process.stderr.write(`rtcgate-server: ${message}\n`);
  process.exit(2);
});
