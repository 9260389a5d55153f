/** Server configuration from the environment (and CLI flags, which the CLI maps onto the same keys). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseLogLevel, type LogLevel } from './log.js';
import { iceServerSchema, type IceServer } from './protocol/index.js';
import { DEFAULT_TURN_TTL_SECONDS, type TurnConfig } from './turn.js';

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

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`${option}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** client-web/dist beside this package in the repository. */
export const DEFAULT_STATIC_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../client-web/dist',
);

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}; got "${value}"`);
  }
  return n;
}

export function parseIceServers(name: string, value: string | undefined): IceServer[] {
  if (value === undefined || value.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ConfigError(name, 'must be a JSON array of RTCIceServer objects ({"urls": ...})');
  }
  const parsed = z.array(iceServerSchema).safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      name,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

/**
 * TURN_URLS (comma-separated turn:/turns: URLs), TURN_SECRET (coturn's static-auth-secret) and
 * TURN_TTL (seconds): all or nothing for the first two.
 */
export function parseTurn(env: NodeJS.ProcessEnv): TurnConfig | undefined {
  const urls = (env.TURN_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  const secret = env.TURN_SECRET ?? '';
  const ttlSeconds = int('TURN_TTL', env.TURN_TTL, DEFAULT_TURN_TTL_SECONDS, 60, 7 * 24 * 3600);
  if (urls.length === 0 && secret === '') return undefined;
  if (urls.length === 0) throw new ConfigError('TURN_URLS', 'is required with TURN_SECRET');
  if (secret === '') throw new ConfigError('TURN_SECRET', 'is required with TURN_URLS');
  for (const url of urls) {
    if (!/^turns?:[^\s?]+(\?transport=(udp|tcp))?$/.test(url)) {
      throw new ConfigError(
        'TURN_URLS',
        `"${url}" is not a TURN URL (turn:host[:port] or turns:host[:port], optionally ?transport=udp|tcp)`,
      );
    }
  }
  return { urls, secret, ttlSeconds };
}

/** MAX_PEERS_PER_CONNECTION, left out when unset: startServer then applies the hub's default (500). */
function readMaxPeersPerConnection(value: string | undefined): Pick<ServerConfig, 'maxPeersPerConnection'> {
  if (value === undefined || value.trim() === '') return {};
  return { maxPeersPerConnection: int('MAX_PEERS_PER_CONNECTION', value, 0, 1, 1_000_000) };
}

export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(env.LOG_LEVEL);
  } catch (err) {
    throw new ConfigError('LOG_LEVEL', (err as Error).message);
  }
  return {
    port: int('PORT', env.PORT, 8080, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    staticDir: env.STATIC_DIR?.trim() || DEFAULT_STATIC_DIR,
    iceServers: parseIceServers('ICE_SERVERS', env.ICE_SERVERS),
    turn: parseTurn(env),
    heartbeatMs: int('HEARTBEAT_MS', env.HEARTBEAT_MS, 10_000, 100, 600_000),
    maxPeersPerRoom: int('MAX_PEERS_PER_ROOM', env.MAX_PEERS_PER_ROOM, 1000, 2, 1_000_000),
    ...readMaxPeersPerConnection(env.MAX_PEERS_PER_CONNECTION),
    logLevel,
  };
}
