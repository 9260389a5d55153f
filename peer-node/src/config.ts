/**
 * The gateway's options (flag, environment variable, config-file key; the machinery is the
 * server's options.ts). `rtcgate gateway --help` and docs/configuration.md list them.
 */
import {
  ConfigError,
  iceServersOption,
  intOption,
  maskUrl,
  textOption,
  type IceServer,
  type OptionSpec,
} from 'rtcgate-server';
import { DEFAULT_WINDOW } from './bridge.js';
import { GatewayError } from './errors.js';
import { describeRoute, loadRoutesFile, parseRoute, parseRouteFlag, type Route } from './routes.js';

/** A route error as a ConfigError naming where the route came from. */
function asConfigError<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof GatewayError) throw new ConfigError(where, err.message);
    throw err;
  }
}

/**
 * Routes from a flag (`LABEL=TARGET` specs, repeatable), the environment (specs separated by
 * spaces) or a file (an array of specs or of route objects {label|prefix, target, framing}).
 */
function parseRoutes(value: unknown, where: string): Route[] {
  const items = typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value;
  if (!Array.isArray(items)) {
    throw new ConfigError(where, 'must be LABEL=TARGET specs or (in a file) a list of routes');
  }
  return items.map((item: unknown, i) =>
    asConfigError(where, () =>
      typeof item === 'string' ? parseRouteFlag(item) : parseRoute(item, `route ${i + 1}`),
    ),
  );
}

/** Routes as they may be logged: `label → target` (describeTarget masks a password in a URL). */
function maskRoutes(routes: Route[]): string[] {
  return routes.map(describeRoute);
}

function signalUrl(value: unknown, where: string): string {
  const text = textOption(value, where);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(where, `must be a ws:// or wss:// URL; got "${text}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ConfigError(where, `must be a ws:// or wss:// URL; got "${text}"`);
  }
  return text;
}

/** Options of the gateway that the demo (server and gateway in one process) also has. */
export const GATEWAY_SHARED_OPTIONS = {
  room: {
    key: 'room',
    flag: '--room',
    env: 'ROOM',
    valueName: 'NAME',
    description: 'room the gateway joins',
    default: 'default',
    parse: textOption,
  } satisfies OptionSpec<string>,
  routesFile: {
    key: 'routesFile',
    flag: '--routes-file',
    env: 'ROUTES_FILE',
    valueName: 'FILE',
    description: 'channel routes, JSON {"routes":[...]} (docs/bridges.md)',
    parse: (value, where) => asConfigError(where, () => loadRoutesFile(textOption(value, where))),
    mask: maskRoutes,
  } satisfies OptionSpec<Route[]>,
  routes: {
    key: 'routes',
    flag: '--route',
    env: 'ROUTES',
    valueName: 'SPEC',
    description:
      'a route, repeatable: LABEL=TARGET or PREFIX*=TARGET, TARGET one of echo, handler:NAME, ws://…, wss://…, ' +
      "tcp://HOST:PORT[,framing=length-prefixed] (ROUTES: several separated by spaces); after the file's routes",
    repeatable: true,
    parse: parseRoutes,
    mask: maskRoutes,
  } satisfies OptionSpec<Route[]>,
  creditWindow: {
    key: 'creditWindow',
    flag: '--credit-window',
    env: 'CREDIT_WINDOW',
    valueName: 'BYTES',
    description: 'bytes a browser may send ahead of a bridged backend',
    default: DEFAULT_WINDOW,
    parse: intOption(1, Number.MAX_SAFE_INTEGER),
  } satisfies OptionSpec<number>,
  connectTimeout: {
    key: 'connectTimeout',
    flag: '--connect-timeout',
    env: 'BACKEND_CONNECT_TIMEOUT_MS',
    valueName: 'MS',
    description: 'longest a backend connect may take',
    default: 5000,
    parse: intOption(1, 3_600_000),
  } satisfies OptionSpec<number>,
  stallTimeout: {
    key: 'stallTimeout',
    flag: '--stall-timeout',
    env: 'STALL_TIMEOUT_MS',
    valueName: 'MS',
    description:
      "end a session whose browser stops answering the control channel's pings for this long (SESSION_STALLED); 0: never",
    default: 60_000,
    parse: (value, where) => {
      const ms = intOption(0, 86_400_000)(value, where);
      if (ms !== 0 && ms < 1000)
        throw new ConfigError(where, `must be 0 or from 1000 to 86400000; got ${ms}`);
      return ms;
    },
  } satisfies OptionSpec<number>,
};

export const GATEWAY_OPTIONS = {
  signalUrl: {
    key: 'signalUrl',
    flag: '--signal-url',
    env: 'SIGNAL_URL',
    valueName: 'URL',
    description: 'the signaling endpoint',
    default: 'ws://localhost:8080/signal',
    parse: signalUrl,
    mask: maskUrl,
  } satisfies OptionSpec<string>,
  ...GATEWAY_SHARED_OPTIONS,
  gatewayIceServers: {
    ...iceServersOption('gatewayIceServers', '--gateway-ice-servers', 'GATEWAY_ICE_SERVERS'),
    description: "RTCIceServer[] the gateway uses instead of the server's",
  } satisfies OptionSpec<IceServer[]>,
  statusPort: {
    key: 'statusPort',
    flag: '--status-port',
    env: 'STATUS_PORT',
    valueName: 'N',
    description:
      'serve GET /healthz, /sessions, /bridges and /metrics on this port (0: any free port); off when unset',
    parse: intOption(0, 65535),
  } satisfies OptionSpec<number>,
  statusHost: {
    key: 'statusHost',
    flag: '--status-host',
    env: 'STATUS_HOST',
    valueName: 'ADDRESS',
    description: 'address of the status port',
    default: '127.0.0.1',
    parse: textOption,
  } satisfies OptionSpec<string>,
};
