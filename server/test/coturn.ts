/**
 * Starts a real coturn (`turnserver`, Debian package coturn) with the project's hardened
 * configuration (docker/coturn/turnserver.conf) and the test's own address, port and secret.
 * Every instance gets a folder of its own for its pid file and database, removed on stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TurnClient } from './turnClient.js';

/** docker/coturn/turnserver.conf, from server/dist/test/ or server/test/. */
export const COTURN_CONFIG = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
  'docker/coturn/turnserver.conf',
);

export interface Coturn {
  host: string;
  port: number;
  realm: string;
  /** What coturn printed so far. */
  log(): string;
  stop(): Promise<void>;
}

export interface CoturnOptions {
  secret: string;
  host?: string;
  realm?: string;
  /** More turnserver flags (they override the configuration file). */
  args?: string[];
  /** UDP/TCP port to listen on; a free one on `host` by default. */
  port?: number;
  /**
   * In front of turnserver, e.g. ['ip', 'netns', 'exec', 'ns']. Readiness is then read from its
   * log, as a probe from here may not reach it.
   */
  prefix?: string[];
}

export function coturnMissing(): string | undefined {
  const found = spawnSync('turnserver', ['--help'], { stdio: 'ignore' });
  return found.error
    ? 'coturn is not installed (`apt-get install -y coturn`; .ci/run installs it): turnserver not found'
    : undefined;
}

async function freeUdpPort(host: string): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function startCoturn(options: CoturnOptions): Promise<Coturn> {
  const missing = coturnMissing();
  if (missing) throw new Error(missing);
  const host = options.host ?? '127.0.0.1';
  const realm = options.realm ?? 'rtcgate.test';
  const port = options.port ?? (await freeUdpPort(host));
  const dir = mkdtempSync(path.join(tmpdir(), 'rtcgate-coturn-'));
  const argv = [
    ...(options.prefix ?? []),
    'turnserver',
    '-c',
    COTURN_CONFIG,
    `--listening-ip=${host}`,
    `--relay-ip=${host}`,
    `--listening-port=${port}`,
    `--realm=${realm}`,
    `--static-auth-secret=${options.secret}`,
    `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    `--userdb=${path.join(dir, 'turndb')}`,
    ...(options.args ?? []),
  ];
  const [command = 'turnserver', ...args] = argv;
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it answers a STUN Binding.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`turnserver exited with ${child.exitCode}:\n${output}`);
    }
    if (options.prefix) {
      // Its last start-up line, once its listeners and relay threads are up.
      if (/Total General servers/.test(output)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } else {
      const probe = await TurnClient.open(host, port, '', '');
      try {
        const reply = await probe.binding(600);
        if (reply.kind === 'success') break;
      } catch {
        // not up yet
      } finally {
        probe.close();
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`turnserver did not answer STUN on ${host}:${port} in 10 s:\n${output}`);
    }
  }
  return { host, port, realm, log: () => output, stop };
}
