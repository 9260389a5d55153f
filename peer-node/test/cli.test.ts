/**
 * The `rtcgate` CLI as people run it: a child process per case, real ports, real files.
 * Precedence (flag > environment > file > default), errors that name the option, masked secrets,
 * --help listing every option, and both log formats.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { ServerMetrics, type OptionSpec } from 'rtcgate-server';
import { GatewayMetrics } from '../src/metrics.js';
import { COMMANDS, CONFIG_ENV, CONFIG_FLAG } from '../src/cli.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.js');
const dir = mkdtempSync(path.join(tmpdir(), 'rtcgate-cli-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs `rtcgate args`; with `ready`, stops it (SIGTERM) once its output matches and returns what it
 * printed; without, waits for it to exit. Only the variables given are set (no inherited ones).
 */
function rtcgate(args: string[], env: NodeJS.ProcessEnv = {}, ready?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { code: null, out: '', err: '' };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`rtcgate ${args.join(' ')}: no ${String(ready ?? 'exit')} in 15 s\n${run.out}${run.err}`),
      );
    }, 15_000);
    const check = () => {
      if (ready && ready.test(run.out + run.err) && child.exitCode === null) child.kill('SIGTERM');
    };
    child.stdout.on('data', (d: Buffer) => {
      run.out += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      run.err += d.toString();
      check();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      run.code = code;
      resolve(run);
    });
  });
}

/** The "configuration" line of a JSON log. */
function configurationOf(run: Run): {
  file?: string;
  options: Record<string, { value: unknown; from: string }>;
} {
  const line = run.out.split('\n').find((l) => l.includes('"msg":"configuration"'));
  assert.ok(line, `no configuration line in:\n${run.out}${run.err}`);
  return JSON.parse(line) as { options: Record<string, { value: unknown; from: string }> };
}

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)\//;

test('--help of each command lists every option with its variable and file key', async () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    const run = await rtcgate([name, '--help']);
    assert.equal(run.code, 0, run.err);
    const help = run.out.replace(/\s+/g, ' ');
    for (const spec of Object.values(command.options) as OptionSpec[]) {
      assert.ok(help.includes(`${spec.flag} <${spec.valueName}>`), `${name} --help shows ${spec.flag}`);
      assert.ok(help.includes(`env ${spec.env};`), `${name} --help shows ${spec.env}`);
      assert.ok(help.includes(`file key ${spec.key}`), `${name} --help shows ${spec.key}`);
    }
    assert.ok(
      help.includes(`${CONFIG_FLAG} <FILE>`) && help.includes(CONFIG_ENV),
      `${name} --help shows --config`,
    );
  }
  const bare = await rtcgate([]);
  assert.equal(bare.code, 2);
  for (const name of Object.keys(COMMANDS)) assert.match(bare.out, new RegExp(`^  ${name} `, 'm'));
  const unknown = await rtcgate(['serve']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'serve'/);
});

test('server: the flag wins over the environment, the environment over the file', async () => {
  // Port 1 needs privileges the test does not use, so only the winning source can listen.
  const config = file('server.yaml', 'port: 1\nhost: 127.0.0.1\nheartbeatMs: 2500\n');
  const flagWins = await rtcgate(['server', '--port', '0', '--config', config], { PORT: '1' }, LISTENING);
  assert.equal(flagWins.code, 0, flagWins.err);
  const shown = configurationOf(flagWins);
  assert.equal(shown.file, config);
  assert.deepEqual(shown.options.port, { value: 0, from: 'flag' });
  assert.deepEqual(shown.options.host, { value: '127.0.0.1', from: 'file' });
  assert.deepEqual(shown.options.heartbeatMs, { value: 2500, from: 'file' });
  assert.deepEqual(shown.options.maxPeersPerRoom, { value: 1000, from: 'default' });

  const envWins = await rtcgate(['server'], { PORT: '0', [CONFIG_ENV]: config }, LISTENING);
  assert.equal(envWins.code, 0, envWins.err);
  assert.deepEqual(configurationOf(envWins).options.port, { value: 0, from: 'env' });

  const fileOnly = await rtcgate(
    ['server', '--config', file('zero.json', '{"port":0,"host":"127.0.0.1"}')],
    {},
    LISTENING,
  );
  assert.equal(fileOnly.code, 0, fileOnly.err);
  assert.deepEqual(configurationOf(fileOnly).options.port, { value: 0, from: 'file' });
});

test('invalid configuration stops the program at start, naming the option and what is wrong', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      ['server', '--port', 'x'],
      {},
      /^rtcgate server: invalid configuration: --port: must be an integer from 0 to 65535; got "x"$/m,
    ],
    [
      ['server'],
      { PORT: '70000' },
      /^rtcgate server: invalid configuration: PORT: must be an integer from 0 to 65535; got "70000"$/m,
    ],
    [
      ['server', '--log-level', 'loud'],
      {},
      /--log-level: must be one of debug, info, warn, error, silent; got "loud"/,
    ],
    [['server', '--turn-urls', 'turn:t'], {}, /--turn-secret: is required with --turn-urls/],
    [['gateway', '--signal-url', 'http://x/'], {}, /--signal-url: must be a ws:\/\/ or wss:\/\/ URL/],
    [['gateway', '--route', 'chat=ftp://x'], {}, /--route: .*unsupported scheme ftp:/],
    [['gateway', '--stall-timeout', '10'], {}, /--stall-timeout: must be 0 or from 1000 to 86400000; got 10/],
    [['demo', '--config', path.join(dir, 'missing.yaml')], {}, /missing\.yaml: cannot read it/],
  ];
  const typo = file('typo.yaml', 'signalURL: ws://x/\n');
  cases.push([
    ['gateway', '--config', typo],
    {},
    /signalURL \(in .*typo\.yaml\): unknown option; the keys are .*signalUrl/,
  ]);
  const badRoute = file('route.yaml', 'routes:\n  - { label: chat, target: "http://x/" }\n');
  cases.push([
    ['gateway', '--config', badRoute],
    {},
    /routes \(in .*route\.yaml\): route 1: .*unsupported scheme http:/,
  ]);
  for (const [args, env, message] of cases) {
    const run = await rtcgate(args, env);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.out}${run.err}`);
    assert.match(run.err, message, args.join(' '));
    assert.doesNotMatch(run.out, /listening on|status on/, 'nothing started');
  }
});

test('secrets are masked in the logged configuration', async () => {
  const run = await rtcgate(
    ['server', '--port', '0', '--host', '127.0.0.1'],
    { TURN_URLS: 'turn:127.0.0.1:3478', TURN_SECRET: 'not-for-the-log-0451' },
    LISTENING,
  );
  assert.equal(run.code, 0, run.err);
  assert.deepEqual(configurationOf(run).options.turnSecret, { value: '***', from: 'env' });
  assert.ok(!(run.out + run.err).includes('not-for-the-log-0451'));
});

test('credentials inside values are masked too: ICE server credentials, passwords in backend and signaling URLs', async () => {
  const run = await rtcgate(
    [
      'gateway',
      '--route',
      'chat=ws://bob:hunter2-0451@127.0.0.1:9/',
      '--signal-url',
      'ws://u:sig-pass-0451@127.0.0.1:9/signal',
    ],
    {
      GATEWAY_ICE_SERVERS: JSON.stringify([
        { urls: 'turn:t:3478', username: 'u', credential: 'ice-cred-0451' },
      ]),
    },
    /"msg":"route"/,
  );
  assert.match(run.out, /"label":"chat","to":"ws:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:9\/","msg":"route"/);
  const shown = configurationOf(run).options;
  assert.deepEqual(shown.routes?.value, ['chat → ws://***:***@127.0.0.1:9/']);
  assert.equal(shown.signalUrl?.value, 'ws://***:***@127.0.0.1:9/signal');
  assert.deepEqual(shown.gatewayIceServers?.value, [
    { urls: 'turn:t:3478', username: 'u', credential: '***' },
  ]);
  for (const secret of ['hunter2-0451', 'sig-pass-0451', 'ice-cred-0451']) {
    assert.ok(!(run.out + run.err).includes(secret), `${secret} is not printed`);
  }
});

test('errors that name a URL mask its password: an unreachable signaling server, a bad route', async () => {
  const unreachable = await rtcgate(['gateway', '--signal-url', 'ws://u:sig-pass-0452@127.0.0.1:9/signal']);
  assert.equal(unreachable.code, 1, unreachable.out + unreachable.err);
  assert.match(unreachable.err, /rtcgate gateway: cannot reach ws:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:9\/signal/);
  const badRoute = await rtcgate([
    'gateway',
    '--route',
    'chat=ws://bob:route-pass-0452@h/,framing=length-prefixed',
  ]);
  assert.equal(badRoute.code, 2);
  assert.match(
    badRoute.err,
    /--route chat=ws:\/\/\*\*\*:\*\*\*@h\/: "framing" applies to tcp:\/\/ targets only/,
  );
  for (const run of [unreachable, badRoute]) {
    assert.doesNotMatch(run.out + run.err, /sig-pass-0452|route-pass-0452/);
  }
});

test('logs: JSON lines by default off a terminal, pino-pretty with --log-format pretty', async () => {
  const json = await rtcgate(['server', '--port', '0', '--host', '127.0.0.1'], {}, LISTENING);
  const lines = json.out.trim().split('\n');
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(typeof entry.time, 'string');
    assert.ok(['info', 'warn', 'error', 'debug'].includes(String(entry.level)), line);
    assert.equal(typeof entry.component, 'string');
  }
  const pretty = await rtcgate(
    ['server', '--port', '0', '--host', '127.0.0.1', '--log-format', 'pretty'],
    {},
    LISTENING,
  );
  assert.equal(pretty.code, 0, pretty.err);
  assert.match(
    pretty.out,
    /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: server listening on http:\/\/127\.0\.0\.1:\d+\//m,
  );
  assert.doesNotMatch(pretty.out, /^\{/m);
});

test('gateway from a config file: joins the server, serves its status port, stops on SIGTERM', async () => {
  const server = spawn(process.execPath, [CLI, 'server', '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = LISTENING.exec(out);
        if (m) resolve(m[1] ?? '');
      });
      server.once('exit', () => reject(new Error(`server exited:\n${out}`)));
    });
    const config = file(
      'gateway.yaml',
      [
        `signalUrl: ws://127.0.0.1:${port}/signal`,
        'room: from-file',
        'statusPort: 0',
        'routes: ["chat*=echo"]',
      ].join('\n'),
    );
    const run = await rtcgate(
      ['gateway', '--config', config],
      {},
      /status on http:\/\/127\.0\.0\.1:\d+\/sessions/,
    );
    assert.equal(run.code, 0, run.err);
    const shown = configurationOf(run).options;
    assert.deepEqual(shown.room, { value: 'from-file', from: 'file' });
    assert.deepEqual(shown.statusPort, { value: 0, from: 'file' });
    assert.match(run.out, /"msg":"joined"/);
    assert.match(run.out, /"prefix":"chat","to":"echo","msg":"route"/);
    assert.match(run.out, /"msg":"SIGTERM: stopping"/);
  } finally {
    server.kill('SIGTERM');
  }
});

test('docs/configuration.md lists every option of every command, and docs/metrics.md every metric', async () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const config = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
  for (const command of Object.values(COMMANDS)) {
    for (const spec of Object.values(command.options) as OptionSpec[]) {
      for (const text of [`\`${spec.key}\``, `\`${spec.flag} ${spec.valueName}\``, `\`${spec.env}\``]) {
        assert.ok(config.includes(text), `docs/configuration.md names ${text}`);
      }
    }
  }
  const metricsDoc = readFileSync(path.join(root, 'docs/metrics.md'), 'utf8');
  const registry = new Registry();
  new ServerMetrics(registry);
  new GatewayMetrics(registry, () => []);
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(names.length >= 14, names.join(', '));
  for (const name of names) assert.ok(metricsDoc.includes(`\`${name}\``), `docs/metrics.md names ${name}`);
});
