/**
 * The signaling server's options (flag, environment variable, config-file key; see options.ts) and
 * the ServerConfig they make. `rtcgate server --help` and docs/configuration.md list them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import {
  ConfigError,
  choiceOption,
  intOption,
  jsonValue,
  listOption,
  maskIceServers,
  resolveOptions,
  textOption,
  whereOf,
  type ConfigSources,
  type OptionSpec,
  type Resolved,
} from './options.js';
import { iceServerSchema, type IceServer } from './protocol/index.js';
import { DEFAULT_TURN_TTL_SECONDS, type TurnConfig } from './turn.js';

export { ConfigError } from './options.js';

export interface ServerConfig {
  port: number;
  host: string;
  staticDir: string | undefined;
  iceServers: IceServer[];
  /** TURN with short-lived credentials (TURN_URLS + TURN_SECRET); undefined: no TURN. */
  turn: TurnConfig | undefined;
  heartbeatMs: number;
  maxPeersPerRoom: number;
  /**
   * Peers one rtcgate.signal.v2 connection may hold (MAX_PEERS_PER_CONNECTION, 1-1000000). Left
   * out when the variable is unset: the server then uses its default, 500.
   */
  maxPeersPerConnection?: number;
  logLevel: LogLevel;
}

/** client-web/dist beside this package in the repository. */
export const DEFAULT_STATIC_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../client-web/dist',
);

export function parseIceServers(name: string, value: unknown): IceServer[] {
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return [];
  const json = jsonValue(value, name, 'an array of RTCIceServer objects ({"urls": ...})');
  const parsed = z.array(iceServerSchema).safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      name,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

/** An option holding RTCIceServer[]: JSON text from a flag or variable, a list in a file; credentials masked in the log. */
export function iceServersOption(
  key: string,
  flag: string,
  env: string,
): Pick<OptionSpec<IceServer[]>, 'key' | 'flag' | 'env' | 'valueName' | 'parse' | 'mask'> {
  return {
    key,
    flag,
    env,
    valueName: 'JSON',
    parse: (value, where) => parseIceServers(where, value),
    mask: maskIceServers,
  };
}

const TURN_URL = /^turns?:[^\s?]+(\?transport=(udp|tcp))?$/;

function turnUrls(value: unknown, where: string): string[] {
  const urls = listOption(value, where);
  for (const url of urls) {
    if (!TURN_URL.test(url)) {
      throw new ConfigError(
        where,
        `"${url}" is not a TURN URL (turn:host[:port] or turns:host[:port], optionally ?transport=udp|tcp)`,
      );
    }
  }
  return urls;
}

/** Options every rtcgate command has. */
export const COMMON_OPTIONS = {
  logLevel: {
    key: 'logLevel',
    flag: '--log-level',
    env: 'LOG_LEVEL',
    valueName: 'LEVEL',
    description: `${LOG_LEVELS.join('|')}`,
    default: 'info',
    parse: choiceOption(LOG_LEVELS),
  } satisfies OptionSpec<LogLevel>,
  logFormat: {
    key: 'logFormat',
    flag: '--log-format',
    env: 'LOG_FORMAT',
    valueName: 'FORMAT',
    description:
      'json (one object a line) or pretty (for a terminal); default pretty on a terminal, else json',
    parse: choiceOption(LOG_FORMATS),
  } satisfies OptionSpec<LogFormat>,
};

export const SERVER_OPTIONS = {
  port: {
    key: 'port',
    flag: '--port',
    env: 'PORT',
    valueName: 'N',
    description: 'HTTP port of the page, /signal, /healthz and /metrics (0: any free port)',
    default: 8080,
    parse: intOption(0, 65535),
  } satisfies OptionSpec<number>,
  host: {
    key: 'host',
    flag: '--host',
    env: 'HOST',
    valueName: 'ADDRESS',
    description: 'listen address',
    default: '0.0.0.0',
    parse: textOption,
  } satisfies OptionSpec<string>,
  staticDir: {
    key: 'staticDir',
    flag: '--static-dir',
    env: 'STATIC_DIR',
    valueName: 'DIR',
    description: 'folder of the built page (default: client-web/dist of this checkout)',
    default: DEFAULT_STATIC_DIR,
    parse: textOption,
  } satisfies OptionSpec<string>,
  iceServers: {
    ...iceServersOption('iceServers', '--ice-servers', 'ICE_SERVERS'),
    description: 'RTCIceServer[] handed to every peer (STUN, static TURN)',
    default: [],
  } satisfies OptionSpec<IceServer[]>,
  turnUrls: {
    key: 'turnUrls',
    flag: '--turn-urls',
    env: 'TURN_URLS',
    valueName: 'LIST',
    description:
      'comma-separated turn:/turns: URLs of coturn; each peer gets short-lived credentials (needs the secret)',
    parse: turnUrls,
  } satisfies OptionSpec<string[]>,
  turnSecret: {
    key: 'turnSecret',
    flag: '--turn-secret',
    env: 'TURN_SECRET',
    valueName: 'SECRET',
    description: "coturn's static-auth-secret (prefer the environment: flags show in the process list)",
    secret: true,
    parse: textOption,
  } satisfies OptionSpec<string>,
  turnTtl: {
    key: 'turnTtl',
    flag: '--turn-ttl',
    env: 'TURN_TTL',
    valueName: 'SECONDS',
    description: 'how long a TURN credential is valid',
    default: DEFAULT_TURN_TTL_SECONDS,
    parse: intOption(60, 7 * 24 * 3600),
  } satisfies OptionSpec<number>,
  heartbeatMs: {
    key: 'heartbeatMs',
    flag: '--heartbeat-ms',
    env: 'HEARTBEAT_MS',
    valueName: 'MS',
    description: 'ping interval that finds dead signaling connections',
    default: 10_000,
    parse: intOption(100, 600_000),
  } satisfies OptionSpec<number>,
  maxPeersPerRoom: {
    key: 'maxPeersPerRoom',
    flag: '--max-peers-per-room',
    env: 'MAX_PEERS_PER_ROOM',
    valueName: 'N',
    description: 'peers one room may hold (ROOM_FULL beyond)',
    default: 1000,
    parse: intOption(2, 1_000_000),
  } satisfies OptionSpec<number>,
  maxPeersPerConnection: {
    key: 'maxPeersPerConnection',
    flag: '--max-peers-per-connection',
    env: 'MAX_PEERS_PER_CONNECTION',
    valueName: 'N',
    description: 'peers one rtcgate.signal.v2 connection may hold (TOO_MANY_PEERS beyond); default 500',
    parse: intOption(1, 1_000_000),
  } satisfies OptionSpec<number>,
};

/** TURN needs both its URLs and its secret; the error names the missing one as the other was given. */
function turnOf(
  resolved: Resolved<Pick<typeof SERVER_OPTIONS, 'turnUrls' | 'turnSecret' | 'turnTtl'>>,
  sources: ConfigSources,
): TurnConfig | undefined {
  const { turnUrls: urls = [], turnSecret: secret, turnTtl: ttlSeconds } = resolved.values;
  const given = (name: 'turnUrls' | 'turnSecret') =>
    whereOf(SERVER_OPTIONS[name], resolved.sources[name], sources.file);
  if (urls.length === 0 && secret === undefined) return undefined;
  const missing = (name: 'turnUrls' | 'turnSecret', other: 'turnUrls' | 'turnSecret') => {
    const form = resolved.sources[other];
    return new ConfigError(
      whereOf(SERVER_OPTIONS[name], form, sources.file),
      `is required with ${given(other)}`,
    );
  };
  if (urls.length === 0) throw missing('turnUrls', 'turnSecret');
  if (secret === undefined) throw missing('turnSecret', 'turnUrls');
  return { urls, secret, ttlSeconds };
}

/**
 * TURN_URLS (comma-separated turn:/turns: URLs), TURN_SECRET (coturn's static-auth-secret) and
 * TURN_TTL (seconds): all or nothing for the first two.
 */
export function parseTurn(env: NodeJS.ProcessEnv): TurnConfig | undefined {
  const { turnUrls: u, turnSecret: s, turnTtl: t } = SERVER_OPTIONS;
  return turnOf(resolveOptions({ turnUrls: u, turnSecret: s, turnTtl: t }, { env }), { env });
}

/** The server's configuration from flags, environment and file, with where each value came from. */
export function resolveServerConfig(sources: ConfigSources): {
  config: ServerConfig;
  resolved: Resolved<typeof SERVER_OPTIONS & typeof COMMON_OPTIONS>;
} {
  const resolved = resolveOptions({ ...SERVER_OPTIONS, ...COMMON_OPTIONS }, sources);
  const v = resolved.values;
  const config: ServerConfig = {
    port: v.port,
    host: v.host,
    staticDir: v.staticDir,
    iceServers: v.iceServers,
    turn: turnOf(resolved, sources),
    heartbeatMs: v.heartbeatMs,
    maxPeersPerRoom: v.maxPeersPerRoom,
    ...(v.maxPeersPerConnection === undefined ? {} : { maxPeersPerConnection: v.maxPeersPerConnection }),
    logLevel: v.logLevel,
  };
  return { config, resolved };
}

export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return resolveServerConfig({ env }).config;
}
