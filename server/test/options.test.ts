import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { COMMON_OPTIONS, SERVER_OPTIONS, resolveServerConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { describeConfig, loadConfigFile, resolveOptions } from '../src/options.js';
import { configError } from './configError.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rtcgate-options-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
const TABLES = [SERVER_OPTIONS, COMMON_OPTIONS];

test('a flag wins over the environment, the environment over the file, the file over the default', () => {
  const yaml = loadConfigFile(file('all.yaml', 'port: 3001\nhost: 10.0.0.1\nheartbeatMs: 2000\n'), TABLES);
  const { values, sources } = resolveOptions(SERVER_OPTIONS, {
    flags: { port: '3003' },
    env: { PORT: '3002', HOST: '10.0.0.2' },
    file: yaml,
  });
  assert.equal(values.port, 3003);
  assert.equal(sources.port, 'flag');
  assert.equal(values.host, '10.0.0.2');
  assert.equal(sources.host, 'env');
  assert.equal(values.heartbeatMs, 2000);
  assert.equal(sources.heartbeatMs, 'file');
  assert.equal(values.maxPeersPerRoom, 1000);
  assert.equal(sources.maxPeersPerRoom, 'default');
});

test('a blank environment variable counts as unset, so the file still applies', () => {
  const json = loadConfigFile(file('port.json', '{"port": 4000}'), TABLES);
  const { values, sources } = resolveOptions(SERVER_OPTIONS, { env: { PORT: ' ' }, file: json });
  assert.equal(values.port, 4000);
  assert.equal(sources.port, 'file');
});

test('JSON and YAML files give the same configuration, lists and objects included', () => {
  const ice = [{ urls: 'stun:stun.example.org:3478' }];
  const asJson = loadConfigFile(
    file(
      'c.json',
      JSON.stringify({ iceServers: ice, turnUrls: ['turn:t:3478'], turnSecret: 's', logLevel: 'warn' }),
    ),
    TABLES,
  );
  const asYaml = loadConfigFile(
    file(
      'c.yml',
      'iceServers:\n  - urls: stun:stun.example.org:3478\nturnUrls: [turn:t:3478]\nturnSecret: s\nlogLevel: warn\n',
    ),
    TABLES,
  );
  const a = resolveServerConfig({ file: asJson }).config;
  const b = resolveServerConfig({ file: asYaml }).config;
  assert.deepEqual(a, b);
  assert.deepEqual(a.iceServers, ice);
  assert.deepEqual(a.turn, { urls: ['turn:t:3478'], secret: 's', ttlSeconds: 3600 });
  assert.equal(a.logLevel, 'warn');
});

test('a bad value names the option as its source spelled it', () => {
  const bad = loadConfigFile(file('bad-port.yaml', 'port: http\n'), TABLES);
  assert.equal(configError(() => resolveOptions(SERVER_OPTIONS, { flags: { port: 'x' } })).option, '--port');
  assert.equal(configError(() => resolveOptions(SERVER_OPTIONS, { env: { PORT: 'x' } })).option, 'PORT');
  const fromFile = configError(() => resolveOptions(SERVER_OPTIONS, { file: bad }));
  assert.equal(fromFile.option, `port (in ${bad.path})`);
  assert.match(fromFile.message, /integer from 0 to 65535; got "http"/);
  // A number where text is wanted, and a fraction where an integer is.
  const typed = loadConfigFile(file('typed.yaml', 'host: 7\nheartbeatMs: 250.5\n'), TABLES);
  assert.match(
    configError(() => resolveOptions({ host: SERVER_OPTIONS.host }, { file: typed })).message,
    /text/,
  );
  assert.match(
    configError(() => resolveOptions({ h: SERVER_OPTIONS.heartbeatMs }, { file: typed })).message,
    /integer from 100 to 600000; got 250.5/,
  );
});

test('TURN URLs without a secret name the missing option in the form the other was given', () => {
  assert.equal(
    configError(() => resolveServerConfig({ flags: { turnUrls: 'turn:t' } })).option,
    '--turn-secret',
  );
  const f = loadConfigFile(file('turn.yaml', 'turnSecret: s\n'), TABLES);
  const err = configError(() => resolveServerConfig({ file: f }));
  assert.equal(err.option, `turnUrls (in ${f.path})`);
  assert.match(err.message, /required with turnSecret/);
});

test('a config file is refused with a clear error: unknown key, bad syntax, not an object, wrong extension, missing', () => {
  const typo = file('typo.yaml', 'prot: 8080\n');
  const unknown = configError(() => loadConfigFile(typo, TABLES));
  assert.equal(unknown.option, `prot (in ${typo})`);
  assert.match(unknown.message, /unknown option; the keys are .*port/);
  assert.match(
    configError(() => loadConfigFile(file('broken.yaml', 'port: [8080\n'), TABLES)).message,
    /not valid YAML/,
  );
  assert.match(
    configError(() => loadConfigFile(file('broken.json', '{"port": '), TABLES)).message,
    /not valid JSON/,
  );
  assert.match(
    configError(() => loadConfigFile(file('list.yaml', '- port\n'), TABLES)).message,
    /one object/,
  );
  assert.match(
    configError(() => loadConfigFile(file('c.toml', 'port = 1'), TABLES)).message,
    /\.json, \.yaml or \.yml/,
  );
  assert.match(
    configError(() => loadConfigFile(path.join(dir, 'none.yaml'), TABLES)).message,
    /cannot read it/,
  );
  // An empty file is an empty configuration.
  assert.deepEqual(loadConfigFile(file('empty.yaml', ''), TABLES).values, {});
});

test('the effective configuration masks secrets and says where each value came from', () => {
  const resolved = resolveOptions(SERVER_OPTIONS, {
    flags: { port: '0' },
    env: { TURN_SECRET: 'do-not-print-me', TURN_URLS: 'turn:t' },
  });
  const shown = describeConfig(SERVER_OPTIONS, resolved);
  assert.deepEqual(shown.turnSecret, { value: '***', from: 'env' });
  assert.deepEqual(shown.port, { value: 0, from: 'flag' });
  assert.deepEqual(shown.host, { value: '0.0.0.0', from: 'default' });
  assert.equal('maxPeersPerConnection' in shown, false, 'unset options are left out');
  assert.ok(!JSON.stringify(shown).includes('do-not-print-me'));
});

test('every option has its own flag, variable and key, and a description', () => {
  for (const table of [{ ...SERVER_OPTIONS, ...COMMON_OPTIONS }]) {
    const specs = Object.values(table);
    for (const field of ['flag', 'env', 'key'] as const) {
      const seen = specs.map((s) => s[field]);
      assert.equal(new Set(seen).size, seen.length, `${field}s are unique`);
    }
    for (const s of specs) {
      assert.match(s.flag, /^--[a-z][a-z-]*$/);
      assert.match(s.env, /^[A-Z][A-Z_]*$/);
      assert.ok(s.description.length > 3, s.key);
    }
  }
});

test('logs: one JSON object a line with time, level, component and message; bind() adds context to every line', () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('server', 'info', {
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const session = log.child('hub').bind({ room: 'r1', peerId: 'p_1', sessionId: 's_1' });
  session.info('joined', { transport: 'ws' });
  session.child('bridge').warn('slow backend');
  log.debug('not written at info');
  assert.equal(lines.length, 2);
  const [first, second] = lines;
  assert.equal(first?.level, 'info');
  assert.equal(first?.component, 'server:hub');
  assert.equal(first?.msg, 'joined');
  assert.equal(first?.transport, 'ws');
  assert.ok(!Number.isNaN(Date.parse(String(first?.time))), 'ISO time');
  for (const line of lines) {
    assert.equal(line.room, 'r1');
    assert.equal(line.peerId, 'p_1');
    assert.equal(line.sessionId, 's_1');
  }
  assert.equal(second?.level, 'warn');
  assert.equal(second?.component, 'server:hub:bridge');
});
