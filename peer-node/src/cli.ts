#!/usr/bin/env node
/**
 * rtcgate: one CLI for the signaling server, the gateway, and the demo (both in one process plus
 * the page: what `npm start` runs).
 *
 *   rtcgate server  [options]   the signaling server and the page
 *   rtcgate gateway [options]   one gateway peer joined to a room
 *   rtcgate demo    [options]   server + gateway + page on one port
 *
 * Every option can come from a flag, an environment variable or a config file (--config FILE,
 * JSON or YAML), in that order; `rtcgate <command> --help` lists them. docs/configuration.md.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import nodeDataChannel from 'node-datachannel';
import {
  COMMON_OPTIONS,
  ConfigError,
  SERVER_OPTIONS,
  createLogger,
  createRegistry,
  describeConfig,
  loadConfigFile,
  resolveOptions,
  resolveServerConfig,
  startServer,
  type ConfigSources,
  type Logger,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  type Resolved,
} from 'rtcgate-server';
import { GATEWAY_OPTIONS, GATEWAY_SHARED_OPTIONS } from './config.js';
import { Gateway, type GatewayOptions } from './gateway.js';
import { describeRoute, describeTarget, type Route } from './routes.js';
import { startStatusServer } from './statusServer.js';

/** The config file option of every command (not itself a key of the file). */
export const CONFIG_FLAG = '--config';
export const CONFIG_ENV = 'RTCGATE_CONFIG';

/** Each command and the options it reads. */
export const COMMANDS = {
  server: {
    summary: 'the signaling server (WebSocket subprotocol and Socket.IO at /signal) and the page',
    options: { ...SERVER_OPTIONS, ...COMMON_OPTIONS },
  },
  gateway: {
    summary: 'one gateway peer: joins a room and answers the browsers that call it',
    options: { ...GATEWAY_OPTIONS, ...COMMON_OPTIONS },
  },
  demo: {
    summary: 'server, gateway and page in one process, on one port (what `npm start` runs)',
    options: { ...SERVER_OPTIONS, ...GATEWAY_SHARED_OPTIONS, ...COMMON_OPTIONS },
  },
} as const satisfies Record<string, { summary: string; options: OptionTable }>;
export type CommandName = keyof typeof COMMANDS;

/** Every option any command has, for checking a config file's keys. */
const ALL_TABLES: OptionTable[] = Object.values(COMMANDS).map((c) => c.options);

function helpText(spec: OptionSpec): string {
  const shown =
    spec.default === undefined || spec.secret
      ? ''
      : `; default ${typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default)}`;
  return `${spec.description} [env ${spec.env}; file key ${spec.key}${shown}]`;
}

/** What a command's action gets: its resolved options and where each came from. */
interface Invocation<Table extends OptionTable> {
  resolved: Resolved<Table>;
  sources: ConfigSources;
  log: Logger;
}

/**
 * The options of `table` from this command's flags, the environment and the config file; logs the
 * effective configuration (secrets masked).
 */
function invocation<Table extends OptionTable>(
  name: CommandName,
  table: Table,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Invocation<Table> {
  const configPath = (flags.config as string | undefined) ?? (env[CONFIG_ENV]?.trim() || undefined);
  const sources: ConfigSources = {
    flags,
    env,
    ...(configPath === undefined ? {} : { file: loadConfigFile(configPath, ALL_TABLES) }),
  };
  const resolved = resolveOptions(table, sources);
  const common = resolveOptions(COMMON_OPTIONS, sources).values;
  const log = createLogger(name, common.logLevel, { format: common.logFormat });
  log.info('configuration', {
    ...(configPath === undefined ? {} : { file: configPath }),
    options: describeConfig(table, resolved),
  });
  return { resolved, sources, log };
}

/**
 * SIGINT/SIGTERM stop what `add` was given, last first, then exit 0 (1 if that takes over 10 s).
 * Installed before anything starts: a signal that arrives while the program starts (or right
 * after it printed that it listens) must stop it cleanly, not kill it.
 */
function stopOnSignals(log: Logger): { add(stop: () => Promise<void>): void } {
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    // A second Ctrl-C does not wait: exit now. Otherwise, at most 10 s for a clean stop.
    process.once('SIGINT', () => process.exit(1));
    setTimeout(() => process.exit(1), 10_000).unref();
    void (async () => {
      try {
        for (const stop of stops.reverse()) await stop();
        process.exit(0);
      } catch (err) {
        log.error('stopping failed', { error: String(err) });
        process.exit(1);
      }
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { add: (stop) => void stops.push(stop) };
}

function logRoutes(log: Logger, routes: readonly Route[]): void {
  for (const route of routes) {
    log.info('route', {
      [route.label === undefined ? 'prefix' : 'label']: route.label ?? route.prefix,
      to: describeTarget(route.target),
    });
  }
}

/** Where this process reaches a server listening on `host`. */
function localAddressOf(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listenError(err: unknown, port: number): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') return new Error(`port ${port} is in use: choose another with --port or PORT`);
  if (e.code === 'EACCES') return new Error(`port ${port} needs privileges: choose one above 1023`);
  return e instanceof Error ? e : new Error(String(e));
}

async function runServer(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const { sources, log } = invocation('server', COMMANDS.server.options, flags, env);
  const { config } = resolveServerConfig(sources);
  const stops = stopOnSignals(log);
  const server = await startServer(config, log, { registry: createRegistry() }).catch((err: unknown) => {
    throw listenError(err, config.port);
  });
  stops.add(() => server.close());
  log.info(`listening on ${server.url} (signaling ${server.signalUrl})`);
}

/** The Gateway options the gateway and the demo read alike: room, routes, stall timeout, bridges. */
function sharedGatewayOptions(v: OptionValues<typeof GATEWAY_SHARED_OPTIONS>) {
  return {
    room: v.room,
    routes: [...(v.routesFile ?? []), ...(v.routes ?? [])],
    stallTimeoutMs: v.stallTimeout,
    bridge: { window: v.creditWindow, connectTimeoutMs: v.connectTimeout },
  } satisfies Partial<GatewayOptions>;
}

async function runGateway(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const { resolved, log } = invocation('gateway', COMMANDS.gateway.options, flags, env);
  const v = resolved.values;
  const shared = sharedGatewayOptions(v);
  const routes = shared.routes;
  const gateway = new Gateway({
    ...shared,
    signalUrl: v.signalUrl,
    ...(v.gatewayIceServers === undefined ? {} : { iceServers: v.gatewayIceServers }),
    log,
    registry: createRegistry(),
  });
  logRoutes(log, routes);
  const stops = stopOnSignals(log);
  stops.add(() => Promise.resolve(nodeDataChannel.cleanup()));
  stops.add(() => gateway.close());
  await gateway.start();
  if (v.statusPort !== undefined) {
    const status = await startStatusServer(gateway, v.statusPort, v.statusHost).catch((err: unknown) => {
      throw listenError(err, v.statusPort ?? 0);
    });
    stops.add(() => status.close());
    const host = v.statusHost.includes(':') ? `[${v.statusHost}]` : v.statusHost;
    log.info(`status on http://${host}:${status.port}/sessions`);
  }
}

async function runDemo(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const { resolved, sources, log } = invocation('demo', COMMANDS.demo.options, flags, env);
  const v = resolved.values;
  const { config } = resolveServerConfig(sources);
  const shared = sharedGatewayOptions(v);
  const routes = shared.routes;
  const stops = stopOnSignals(log);
  stops.add(() => Promise.resolve(nodeDataChannel.cleanup()));
  // One registry: the server's GET /metrics shows the gateway's metrics too.
  const registry = createRegistry();
  const server = await startServer(config, log.child('server'), { registry }).catch((err: unknown) => {
    throw listenError(err, config.port);
  });
  stops.add(() => server.close());
  const gateway = new Gateway({
    // The gateway reaches the server where it listens (loopback when it listens everywhere).
    ...shared,
    signalUrl: `ws://${localAddressOf(config.host)}:${server.port}/signal`,
    log: log.child('gateway'),
    registry,
  });
  logRoutes(log, routes);
  stops.add(() => gateway.close());
  try {
    await gateway.start();
  } catch (err) {
    await server.close();
    throw err;
  }
  process.stdout.write(`
  rtcgate is running.
  Open ${server.url} in Chrome or Firefox and press Connect.
  Signaling: ${server.signalUrl} (subprotocols rtcgate.signal.v1 and v2) and Socket.IO namespace /signal.
  Gateway peer ${gateway.peerId} is in room "${gateway.room}". Press Ctrl-C to stop.
  Channel routes: ${['echo', ...routes.map(describeRoute)].join(', ')}

`);
}

const RUNNERS: Record<
  CommandName,
  (flags: Record<string, unknown>, env: NodeJS.ProcessEnv) => Promise<void>
> = {
  server: runServer,
  gateway: runGateway,
  demo: runDemo,
};

/** The commander program; `env` is where the actions read the environment. */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('rtcgate')
    .description('Connect browsers to a Node.js backend over real WebRTC.')
    .showHelpAfterError('(run with --help for the options)')
    .exitOverride();
  for (const [name, command] of Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]) {
    const sub = program
      .command(name)
      .description(command.summary)
      .showHelpAfterError(`(rtcgate ${name} --help lists the options)`)
      .exitOverride();
    // commander names a flag's value after the flag (--route → route); map back to option keys.
    const keyOf = new Map<string, string>();
    for (const spec of Object.values(command.options) as OptionSpec[]) {
      const option = new Option(`${spec.flag} <${spec.valueName}>`, helpText(spec));
      if (spec.repeatable) {
        option.argParser((value: string, previous: unknown) => [
          ...((previous as string[] | undefined) ?? []),
          value,
        ]);
      }
      sub.addOption(option);
      keyOf.set(option.attributeName(), spec.key);
    }
    sub.addOption(
      new Option(
        `${CONFIG_FLAG} <FILE>`,
        `config file, JSON or YAML (docs/configuration.md) [env ${CONFIG_ENV}]`,
      ),
    );
    sub.action(async (opts: Record<string, unknown>) => {
      const flags: Record<string, unknown> = {};
      for (const [attribute, value] of Object.entries(opts)) flags[keyOf.get(attribute) ?? attribute] = value;
      await RUNNERS[name](flags, env);
    });
  }
  return program;
}

/** Runs `rtcgate` with `argv` (without node and the script); resolves with the exit code if it failed. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const program = buildProgram(env);
  const command = argv.find((a) => !a.startsWith('-')) ?? '';
  const label = command in COMMANDS ? `rtcgate ${command}` : 'rtcgate';
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ConfigError) {
      process.stderr.write(`${label}: invalid configuration: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`${label}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const invokedAsScript = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedAsScript) {
  const code = await runCli(process.argv.slice(2));
  if (code !== undefined) process.exit(code);
}
