#!/usr/bin/env node
/**
 * rtcgate-gateway: one gateway peer joined to a room.
 *   rtcgate-gateway --signal-url ws://localhost:8080/signal [--room default] [--status-port N]
 *                   [--routes FILE] [--route LABEL=TARGET …]
 */
import { parseArgs } from 'node:util';
import nodeDataChannel from 'node-datachannel';
import { createLogger, parseLogLevel, parseIceServers } from 'rtcgate-server';
import { Gateway } from './gateway.js';
import { configuredRoutes, describeTarget } from './routes.js';
import { startStatusServer, type StatusServer } from './statusServer.js';

const HELP = `Usage: rtcgate-gateway [options]

Options (environment variable in brackets):
  --signal-url URL    signaling endpoint [SIGNAL_URL], default ws://localhost:8080/signal
  --room NAME         room to join [ROOM], default "default"
  --ice-servers JSON  RTCIceServer[] overriding the server's [GATEWAY_ICE_SERVERS]
  --status-port N     serve GET /healthz and /sessions on this port [STATUS_PORT]; off by default
  --status-host H     address for the status port [STATUS_HOST], default 127.0.0.1
  --log-level L       debug|info|warn|error|silent [LOG_LEVEL], default info
  --routes FILE       channel routes, JSON {"routes":[...]} [ROUTES_FILE] (docs/bridges.md)
  --route SPEC        one route, repeatable: LABEL=TARGET or PREFIX*=TARGET, TARGET one of
                      echo, handler:NAME, ws://…, wss://…, tcp://HOST:PORT[,framing=length-prefixed]
                      [ROUTES, several separated by spaces]; added after the file's routes
  --credit-window N   bytes a browser may send ahead of a bridged backend [CREDIT_WINDOW],
                      default 1048576
  --connect-timeout MS  longest a backend connect may take [BACKEND_CONNECT_TIMEOUT_MS], default 5000
  --stall-timeout MS  end a session whose browser stops answering the control channel's pings for
                      this long, SESSION_STALLED [STALL_TIMEOUT_MS], 1000 to 86400000 or 0 (never),
                      default 60000
  -h, --help          this text

Without routes, channels labelled "echo" echo and every other label is refused (NO_ROUTE).
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'signal-url': { type: 'string' },
      room: { type: 'string' },
      'ice-servers': { type: 'string' },
      'status-port': { type: 'string' },
      'status-host': { type: 'string' },
      'log-level': { type: 'string' },
      routes: { type: 'string' },
      route: { type: 'string', multiple: true },
      'credit-window': { type: 'string' },
      'connect-timeout': { type: 'string' },
      'stall-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const env = process.env;
  const log = createLogger('gateway', parseLogLevel(values['log-level'] ?? env.LOG_LEVEL));
  const iceJson = values['ice-servers'] ?? env.GATEWAY_ICE_SERVERS;
  const statusPortText = (values['status-port'] ?? env.STATUS_PORT)?.trim();
  // Unset or empty: no status endpoint. 0 picks a free port (printed below).
  const statusPort = statusPortText
    ? /^\d+$/.test(statusPortText)
      ? Number(statusPortText)
      : NaN
    : undefined;
  if (statusPort !== undefined && (!Number.isInteger(statusPort) || statusPort > 65535)) {
    throw new Error(`--status-port: must be an integer from 0 to 65535; got "${statusPortText}"`);
  }
  const routes = configuredRoutes({ file: values.routes, specs: values.route }, env);
  const window = positiveInt('--credit-window', values['credit-window'] ?? env.CREDIT_WINDOW);
  const connectTimeoutMs = positiveInt(
    '--connect-timeout',
    values['connect-timeout'] ?? env.BACKEND_CONNECT_TIMEOUT_MS,
  );
  const stallTimeoutMs = positiveInt('--stall-timeout', values['stall-timeout'] ?? env.STALL_TIMEOUT_MS, {
    zero: true,
    range: [1000, 86_400_000],
  });
  const gateway = new Gateway({
    routes,
    ...(stallTimeoutMs === undefined ? {} : { stallTimeoutMs }),
    bridge: {
      ...(window === undefined ? {} : { window }),
      ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
    },
    signalUrl: values['signal-url'] ?? env.SIGNAL_URL ?? 'ws://localhost:8080/signal',
    room: values.room ?? env.ROOM ?? 'default',
    ...(iceJson === undefined ? {} : { iceServers: parseIceServers('--ice-servers', iceJson) }),
    log,
  });
  for (const route of routes) {
    log.info('route', {
      [route.label === undefined ? 'prefix' : 'label']: route.label ?? route.prefix,
      to: describeTarget(route.target),
    });
  }
  await gateway.start();
  let status: StatusServer | undefined;
  if (statusPort !== undefined) {
    const statusHost = values['status-host'] ?? env.STATUS_HOST ?? '127.0.0.1';
    status = await startStatusServer(gateway, statusPort, statusHost);
    log.info(
      `status on http://${statusHost.includes(':') ? `[${statusHost}]` : statusHost}:${status.port}/sessions`,
    );
  }
  const stop = (signal: string) => {
    log.info(`${signal}: closing all sessions`);
    void (async () => {
      await gateway.close();
      await status?.close();
      nodeDataChannel.cleanup();
      process.exit(0);
    })();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/**
 * A positive integer (or 0 too, with `zero`), within `range` if given (0 stays allowed); unset or
 * empty: undefined.
 */
function positiveInt(
  flag: string,
  text: string | undefined,
  opts: { zero?: boolean; range?: [number, number] } = {},
): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text.trim());
  const least = opts.zero ? 0 : 1;
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < least) {
    throw new Error(`${flag}: must be ${opts.zero ? '0 or ' : ''}a positive integer; got "${text}"`);
  }
  const [min, max] = opts.range ?? [least, Number.MAX_SAFE_INTEGER];
  if (value !== 0 && (value < min || value > max)) {
    throw new Error(`${flag}: must be ${opts.zero ? '0 or ' : ''}from ${min} to ${max}; got ${value}`);
  }
  return value;
}

main().catch((err: unknown) => {
  process.stderr.write(`rtcgate-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
