// The Docker files (docker/Dockerfile, docker/compose.yaml, docker/coturn/, .dockerignore) checked
// against the project, since no container can run on the machines this suite runs on
// (ENVIRONMENT.md): parsed and linted, every command, flag, environment variable and port they use
// looked up in the CLI's option tables (COMMANDS), every coturn option in `turnserver -h`, every
// variable and port in docker/README.md; and the commands they run (the image's entrypoint with the
// compose file's command and environment, its health checks, coturn's entrypoint) run here for real.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { DCLinter } from 'dclint';
import { DockerfileParser } from 'dockerfile-ast';
import { DEFAULT_STATIC_DIR, resolveOptions, resolveServerConfig } from 'rtcgate-server';
import { parse as parseYaml } from 'yaml';
import { COMMANDS, CONFIG_ENV, CONFIG_FLAG } from '../../peer-node/dist/src/cli.js';
import { healthUrl } from '../../docker/healthcheck.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCKER = path.join(ROOT, 'docker');
const COMPOSE_FILE = path.join(DOCKER, 'compose.yaml');
const DOCKERFILE = path.join(DOCKER, 'Dockerfile');
const COTURN_CONF = path.join(DOCKER, 'coturn/turnserver.docker.conf');
const COTURN_ENTRYPOINT = path.join(DOCKER, 'coturn/entrypoint.sh');
const ENV_EXAMPLE = path.join(DOCKER, 'env.example');
const README = path.join(DOCKER, 'README.md');
const execFileAsync = promisify(execFile);

/** Values for the variables the compose file interpolates, as a user's docker/.env would give. */
const SAMPLE_VARS = {
  TURN_SECRET: 'c0ffee0123456789abcdef0123456789',
  PUBLIC_HOST: 'rtc.example.com',
  EXTERNAL_IP: '203.0.113.10',
  ROUTES: '',
};
/** Environment variables an rtcgate service may set that are not CLI options. */
const EXTRA_RTCGATE_ENV = new Set([CONFIG_ENV, 'NODE_ENV']);
/** The services of the compose file, and which rtcgate subcommand each runs (coturn: none). */
const SERVICES = ['coturn', 'gateway', 'server'];

// ---- helpers ------------------------------------------------------------------------------------

/**
 * Compose's interpolation of one string: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default},
 * ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt}. Records every variable it reads in
 * `used`; throws, as compose does, when a required variable is unset (or empty, with `:?`).
 */
function interpolate(text, vars, used = new Set()) {
  return text.replace(
    /\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\})/g,
    (_m, dollar, bare, name, op, arg) => {
      if (dollar) return '$';
      const key = bare ?? name;
      used.add(key);
      const value = vars[key];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      switch (op) {
        case undefined:
          return value ?? '';
        case ':-':
          return nonEmpty ? value : arg;
        case '-':
          return set ? value : arg;
        case ':?':
        case '?':
          if (op === ':?' ? !nonEmpty : !set) throw new Error(`required variable ${key}: ${arg}`);
          return value;
        case ':+':
          return nonEmpty ? arg : '';
        case '+':
          return set ? arg : '';
        default:
          throw new Error(`unknown interpolation ${op}`);
      }
    },
  );
}

/** `value` with every string interpolated (keys stay as they are). */
function interpolateAll(value, vars, used) {
  if (typeof value === 'string') return interpolate(value, vars, used);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, vars, used));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, vars, used)]));
  }
  return value;
}

/** A service's environment as a map of strings (compose allows a map or a list of NAME=VALUE). */
function envOf(service) {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((e) => [e.split('=')[0], e.includes('=') ? e.slice(e.indexOf('=') + 1) : '']),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** A command as an argument list (compose allows a list, or a string split like a shell's words). */
function argv(command) {
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : String(command).trim().split(/\s+/);
}

function loadCompose() {
  const raw = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'));
  const used = new Set();
  const compose = interpolateAll(raw, SAMPLE_VARS, used);
  return { raw, compose, used };
}

/** The rtcgate subcommand a service runs, or undefined if it does not run the rtcgate image. */
function subcommandOf(service, entrypoint) {
  if (!(service.build?.dockerfile === 'docker/Dockerfile' || /^rtcgate(:|$)/.test(service.image ?? ''))) {
    return undefined;
  }
  const args = service.entrypoint ? argv(service.entrypoint) : entrypoint;
  assert.deepEqual(args, entrypoint, 'an rtcgate service keeps the image entrypoint (the rtcgate CLI)');
  return argv(service.command)[0] ?? 'server';
}

/** The flags in a command after its subcommand: `--flag value` or `--flag=value`, by flag. */
function flagsOf(args) {
  const flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) throw new Error(`"${arg}": rtcgate takes no positional arguments`);
    if (arg === '--help' || arg === '-h') {
      flags.set('--help', true);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else flags.set(arg, args[++i]);
  }
  return flags;
}

/** "[IP:]HOST[-HOST]:CONTAINER[/proto]" or the long form → { hostIp, published, target, protocol }. */
function parsePort(port) {
  if (typeof port === 'object') {
    return {
      hostIp: port.host_ip ?? '',
      published: String(port.published ?? ''),
      target: Number(port.target),
      protocol: port.protocol ?? 'tcp',
    };
  }
  const [spec, protocol = 'tcp'] = String(port).split('/');
  const parts = spec.split(':');
  const target = Number(parts.pop());
  const published = parts.pop() ?? '';
  return { hostIp: parts.join(':'), published, target, protocol };
}

/** The keys of a coturn configuration file (`key` or `key=value` lines). */
function confKeys(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [key, ...rest] = l.split('=');
      return { key: key.trim(), value: rest.join('=').trim() };
    });
}

/** .dockerignore as a predicate: is `file` (relative to the context) excluded? Last match wins. */
function dockerignore(text) {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/$/, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === '*' && pattern[i + 1] === '*') {
          re += '.*';
          i++;
          if (pattern[i + 1] === '/') i++;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (file) => {
    const parts = file.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negate;
    }
    return excluded;
  };
}

/** Every file under `dir` (relative to ROOT), node_modules left out. */
function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(rel));
    else out.push(rel);
  }
  return out;
}

/** The stages of a Dockerfile: { name, from, instructions } in order. */
function stagesOf(dockerfile) {
  const stages = [];
  for (const ins of dockerfile.getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      stages.push({ name: ins.getBuildStage(), from: ins, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1).instructions.push(ins);
    }
  }
  return stages;
}

const jsonArgs = (ins) => ins.getJSONStrings().map((s) => s.getJSONValue());

function loadDockerfile() {
  const dockerfile = DockerfileParser.parse(readFileSync(DOCKERFILE, 'utf8'));
  const stages = stagesOf(dockerfile);
  const final = stages.at(-1);
  const of = (keyword) => final.instructions.filter((i) => i.getKeyword() === keyword);
  const entrypoint = jsonArgs(of('ENTRYPOINT').at(-1));
  const cmd = jsonArgs(of('CMD').at(-1));
  const workdir = of('WORKDIR').at(-1)?.getArguments()[0].getValue();
  return { dockerfile, stages, final, of, entrypoint, cmd, workdir };
}

/** `--long` option names (and `-x` short ones) that `turnserver -h` lists, or undefined. */
function turnserverOptions() {
  const run = spawnSync('turnserver', ['-h'], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) return undefined;
  const help = `${run.stdout}${run.stderr}`;
  const names = new Set([...help.matchAll(/(?:^|[\s,])--([A-Za-z0-9][A-Za-z0-9_-]*)/gm)].map((m) => m[1]));
  for (const m of help.matchAll(/^\s+-([A-Za-z])\b/gm)) names.add(`-${m[1]}`);
  return names;
}

/**
 * coturn 4.6.1's options (`turnserver -h`, Debian 12), used only where turnserver is not installed;
 * where it is, this list is checked against it too.
 */
const COTURN_OPTIONS_4_6_1 = `listening-device listening-port tls-listening-port alt-listening-port
  alt-tls-listening-port tcp-proxy-port listening-ip aux-server udp-self-balance relay-device relay-ip
  external-ip allow-loopback-peers no-multicast-peers relay-threads min-port max-port verbose Verbose
  daemon no-software-attribute fingerprint lt-cred-mech no-auth user realm check-origin-consistency
  user-quota total-quota max-bps bps-capacity db userdb psql-userdb sql-userdb mysql-userdb
  secret-key-file redis-userdb redis-statsdb use-auth-secret static-auth-secret no-auth-pings
  no-dynamic-ip-list no-dynamic-realms server-name oauth cert pkey pkey-pwd cipher-list CA-file
  ec-curve-name dh566 dh1066 dh-file no-tlsv1 no-tlsv1_1 no-tlsv1_2 no-udp no-tcp no-tls no-dtls
  no-udp-relay no-tcp-relay log-file no-stdout-log syslog syslog-facility simple-log
  new-log-timestamp new-log-timestamp-format log-binding stale-nonce max-allocate-lifetime
  channel-lifetime permission-lifetime stun-only no-stun alternate-server tls-alternate-server
  rest-api-separator max-allocate-timeout allowed-peer-ip denied-peer-ip pidfile acme-redirect
  secure-stun proc-user proc-group mobility keep-address-family allocation-default-address-family
  no-cli cli-ip cli-port cli-password web-admin web-admin-ip web-admin-port
  web-admin-listen-on-workers server-relay cli-max-output-sessions ne no-rfc5780
  no-stun-backward-compatibility response-origin-only-with-rfc5780 version -c -n -h`
  .split(/\s+/)
  .filter(Boolean);

/** Runs docker/coturn/entrypoint.sh with a stand-in `turnserver` that reports what it was given. */
function runCoturnEntrypoint(env) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rtcgate-coturn-'));
  try {
    const stub = path.join(dir, 'turnserver');
    writeFileSync(stub, '#!/bin/sh\nprintf "%s\\n" "$@" > "$STUB_DIR/args"\ncp "$2" "$STUB_DIR/conf"\n', {
      mode: 0o755,
    });
    const out = path.join(dir, 'turnserver.conf');
    const run = spawnSync('sh', [COTURN_ENTRYPOINT], {
      encoding: 'utf8',
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        STUB_DIR: dir,
        RTCGATE_COTURN_CONF: COTURN_CONF,
        RTCGATE_COTURN_OUT: out,
        ...env,
      },
    });
    const read = (f) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : undefined);
    return {
      status: run.status,
      stderr: run.stderr,
      args: read('args')?.trim().split('\n'),
      conf: read('conf'),
      mode: existsSync(out) ? statSync(out).mode & 0o777 : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const wordRe = (word) =>
  new RegExp(`(^|[^A-Za-z0-9_])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_])`);

// ---- Dockerfile ---------------------------------------------------------------------------------

describe('docker/Dockerfile', () => {
  const { dockerfile, stages, of, entrypoint, cmd, workdir } = loadDockerfile();

  test('is multi-stage, on a Debian (glibc) Node 20 image: node-datachannel ships no musl build here', () => {
    assert.ok(stages.length >= 2, `${stages.length} FROM`);
    for (const stage of stages) {
      assert.ok(stage.name, `every stage is named (FROM ... AS name): ${stage.from.toString()}`);
      let image = stage.from.getImage();
      image = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name) => {
        const arg = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === name);
        return arg?.getProperty()?.getValue() ?? assert.fail(`FROM uses ${name}, which no ARG defaults`);
      });
      assert.match(image, /^node:20(\.\d+)*-(bookworm|bullseye)(-slim)?$/, `${stage.name}: ${image}`);
    }
  });

  test('the final stage runs as a non-root user, with a health check and the ports it serves', () => {
    const users = of('USER');
    assert.ok(users.length > 0, 'the final stage sets USER');
    const user = users.at(-1).getArguments()[0].getValue();
    assert.ok(!['root', '0', '0:0', 'root:root'].includes(user), `USER ${user}`);
    const checks = of('HEALTHCHECK');
    assert.equal(checks.length, 1, 'the final stage has one HEALTHCHECK');
    const check = checks[0].toString();
    assert.doesNotMatch(check, /HEALTHCHECK\s+NONE/);
    const probe = JSON.parse(check.replace(/\\\n/g, ' ').match(/CMD\s+(\[.*\])/)[1]);
    assert.deepEqual(probe, ['node', 'docker/healthcheck.mjs', 'server'], 'the server is checked by default');
    const copied = of('COPY').map((c) => c.getArguments().at(-1).getValue());
    assert.ok(copied.includes('docker/healthcheck.mjs'), 'the health check script is in the image');
    const exposed = of('EXPOSE').flatMap((e) =>
      e.getArguments().map((a) => Number(a.getValue().split('/')[0])),
    );
    assert.ok(exposed.includes(COMMANDS.server.options.port.default), `EXPOSE ${exposed}: the server's PORT`);
    const { compose } = loadCompose();
    const statusPort = Number(envOf(compose.services.gateway).STATUS_PORT);
    assert.ok(exposed.includes(statusPort), `EXPOSE ${exposed}: the gateway's STATUS_PORT ${statusPort}`);
  });

  test('every COPY --from names an earlier stage; the layout under WORKDIR stays the same', () => {
    assert.equal(workdir, '/app');
    for (const [i, stage] of stages.entries()) {
      for (const copy of stage.instructions.filter((ins) => ins.getKeyword() === 'COPY')) {
        const from = copy.getFromFlag()?.getValue();
        if (from === undefined) continue;
        const earlier = stages.slice(0, i).map((s) => s.name);
        assert.ok(
          earlier.includes(from),
          `COPY --from=${from} in stage ${stage.name}: stages before are ${earlier}`,
        );
        // server/dist/src resolves client-web/dist and rtcgate-server by relative paths: keep them.
        const [src, dest] = copy.getArguments().map((a) => a.getValue());
        assert.equal(src, path.posix.join(workdir, dest), `${copy.toString()} keeps the path`);
      }
    }
  });

  test('every path COPY’d from the build context exists and is not left out by .dockerignore', () => {
    const ignored = dockerignore(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
    let count = 0;
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((ins) => ins.getKeyword() === 'COPY')) {
        if (copy.getFromFlag()) continue;
        for (const arg of copy.getArguments().slice(0, -1)) {
          const src = arg.getValue().replace(/\/$/, '');
          assert.doesNotMatch(src, /[*?[]/, `${src}: no globs (a glob that matches nothing still builds)`);
          assert.ok(existsSync(path.join(ROOT, src)), `COPY ${src}: not in the repository`);
          const files = statSync(path.join(ROOT, src)).isDirectory() ? filesUnder(src) : [src];
          const kept = files.filter((f) => !ignored(f));
          assert.ok(kept.length > 0, `COPY ${src}: .dockerignore leaves all of it out`);
          if (files.length === 1) assert.deepEqual(kept, files, `COPY ${src}: left out by .dockerignore`);
          assert.ok(
            !kept.some((f) => /(^|\/)(node_modules|dist)\//.test(f)),
            `${src}: local builds stay out`,
          );
          count++;
        }
      }
    }
    assert.ok(count > 0);
    assert.ok(ignored('docker/.env'), 'docker/.env (the secret) never enters the build context');
    assert.ok(ignored('server/node_modules/x') && ignored('peer-node/dist/src/cli.js'));
  });

  test('the final stage has production dependencies only, the compiled CLI and the page', () => {
    const runs = of('RUN').map((r) => r.getArgumentsContent());
    assert.ok(
      runs.some((r) => /npm ci\b.*--omit=dev/s.test(r)),
      `runtime npm ci omits dev dependencies: ${runs}`,
    );
    const copiedFromBuild = of('COPY')
      .filter((c) => c.getFromFlag())
      .map((c) => c.getArguments().at(-1).getValue().replace(/\/$/, ''));
    const inImage = (file) => copiedFromBuild.some((d) => file === d || file.startsWith(`${d}/`));
    assert.equal(entrypoint[0], 'node');
    assert.ok(inImage(entrypoint[1]), `ENTRYPOINT ${entrypoint[1]} is copied from the build`);
    assert.equal(path.relative(ROOT, path.join(ROOT, entrypoint[1])), 'peer-node/dist/src/cli.js');
    assert.ok(inImage('server/dist/src/index.js'), 'rtcgate-server is in the image');
    const page = path.relative(ROOT, DEFAULT_STATIC_DIR).split(path.sep).join('/');
    assert.ok(inImage(page), `the page (${page}, the server's default static dir) is in the image`);
    assert.ok(cmd[0] in COMMANDS, `CMD ${cmd[0]} is an rtcgate subcommand`);
  });
});

// ---- compose.yaml -------------------------------------------------------------------------------

describe('docker/compose.yaml', () => {
  const { raw, compose, used } = loadCompose();
  const { entrypoint } = loadDockerfile();

  test('parses, and dclint reports no error and no warning', async () => {
    const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] });
    const results = linter.lintFiles([COMPOSE_FILE], false);
    assert.equal(results.length, 1);
    const problems = results[0].messages;
    assert.equal(
      problems.length,
      0,
      `dclint:\n${await linter.formatResults(results, 'stylish')}\n${JSON.stringify(problems, null, 2)}`,
    );
  });

  test('runs exactly the server, the gateway and coturn', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), SERVICES);
    assert.equal(subcommandOf(compose.services.server, entrypoint), 'server');
    assert.equal(subcommandOf(compose.services.gateway, entrypoint), 'gateway');
    assert.equal(subcommandOf(compose.services.coturn, entrypoint), undefined);
  });

  test('every rtcgate command, flag and environment variable is one the CLI has, with a valid value', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const sub = subcommandOf(service, entrypoint);
      if (sub === undefined) continue;
      assert.ok(sub in COMMANDS, `${name}: "${sub}" is not an rtcgate subcommand (${Object.keys(COMMANDS)})`);
      const specs = Object.values(COMMANDS[sub].options);
      const byFlag = new Map(specs.map((s) => [s.flag, s]));
      const flags = {};
      for (const [flag, value] of flagsOf(argv(service.command).slice(1))) {
        if (flag === '--help') continue;
        if (flag === CONFIG_FLAG) continue;
        const spec = byFlag.get(flag);
        assert.ok(spec, `${name}: rtcgate ${sub} has no ${flag} (it has ${[...byFlag.keys()].join(' ')})`);
        flags[spec.key] = value;
      }
      const envs = new Set(specs.map((s) => s.env));
      const readme = readFileSync(README, 'utf8');
      const env = envOf(service);
      for (const key of Object.keys(env)) {
        const known =
          envs.has(key) ||
          EXTRA_RTCGATE_ENV.has(key) ||
          (/^(NODE|NDC)_/.test(key) && wordRe(key).test(readme));
        assert.ok(known, `${name}: ${key} is not an environment variable of rtcgate ${sub}`);
      }
      // What the CLI would do with these values: each option's own parser, and the server's TURN pair.
      const sources = { env, flags };
      resolveOptions(COMMANDS[sub].options, sources);
      if (sub === 'server') resolveServerConfig(sources);
    }
  });

  test('ports: published ones are the server’s PORT; host-network services publish none', () => {
    const server = compose.services.server;
    const port = resolveServerConfig({ env: envOf(server) }).config.port;
    const published = (server.ports ?? []).map(parsePort);
    assert.deepEqual(
      published.map((p) => [p.target, p.protocol]),
      [[port, 'tcp']],
      'the server publishes its PORT only',
    );
    for (const p of published) assert.notEqual(p.hostIp, '', `${p.target}: bound to an explicit address`);
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.network_mode === 'host')
        assert.equal(service.ports, undefined, `${name}: host network, no ports`);
    }
    assert.equal(compose.services.gateway.network_mode, 'host', 'the gateway needs the host network for ICE');
    assert.equal(
      compose.services.coturn.network_mode,
      'host',
      'coturn needs the host network for its relay range',
    );
    // The gateway (host network) reaches the server through the port published on the host.
    const signal = new URL(envOf(compose.services.gateway).SIGNAL_URL);
    assert.equal(signal.hostname, '127.0.0.1');
    assert.equal(signal.pathname, '/signal');
    assert.equal(signal.port, published[0].published, 'SIGNAL_URL uses the published port');
  });

  test('health checks: each service checks its own port and /healthz', () => {
    for (const [name, sub] of [
      ['server', 'server'],
      ['gateway', 'gateway'],
    ]) {
      const service = compose.services[name];
      assert.deepEqual(service.healthcheck?.test, ['CMD', 'node', 'docker/healthcheck.mjs', sub], name);
      const env = envOf(service);
      const url = new URL(healthUrl(sub, env));
      assert.equal(url.pathname, '/healthz');
      const values = resolveOptions(COMMANDS[sub].options, { env }).values;
      const port = sub === 'server' ? values.port : values.statusPort;
      assert.ok(port !== undefined, `${name}: its health check needs the port set`);
      assert.equal(Number(url.port), port, `${name}: checks the port it listens on`);
    }
    assert.equal(
      compose.services.gateway.depends_on?.server?.condition,
      'service_healthy',
      'the gateway waits for a healthy server',
    );
    const coturn = compose.services.coturn.healthcheck?.test ?? [];
    const listening = confKeys(readFileSync(COTURN_CONF, 'utf8')).find((o) => o.key === 'listening-port');
    assert.equal(
      coturn[coturn.indexOf('-p') + 1],
      listening?.value,
      'coturn is checked on its listening-port',
    );
  });

  test('TURN_SECRET reaches coturn and the server from the same required variable', () => {
    const secretOf = (name) => raw.services[name].environment.TURN_SECRET;
    assert.match(secretOf('server'), /^\$\{TURN_SECRET:\?[^}]*\}$/, 'the server: ${TURN_SECRET:?…}');
    assert.match(secretOf('coturn'), /^\$\{TURN_SECRET:\?[^}]*\}$/, 'coturn: ${TURN_SECRET:?…}');
    assert.equal(envOf(compose.services.server).TURN_SECRET, SAMPLE_VARS.TURN_SECRET);
    assert.throws(() => interpolateAll(raw, { ...SAMPLE_VARS, TURN_SECRET: '' }), /TURN_SECRET/);
    // coturn's entrypoint is the mounted docker/coturn/entrypoint.sh, its config the mounted file.
    const coturn = compose.services.coturn;
    const mounts = new Map(
      (coturn.volumes ?? []).map((v) => {
        const [src, dest] = v.split(':');
        assert.ok(existsSync(path.resolve(DOCKER, src)), `volume ${src} exists`);
        return [dest, path.resolve(DOCKER, src)];
      }),
    );
    const script = argv(coturn.entrypoint).find((a) => mounts.has(a));
    assert.equal(mounts.get(script), COTURN_ENTRYPOINT, 'coturn starts through docker/coturn/entrypoint.sh');
    const scriptText = readFileSync(COTURN_ENTRYPOINT, 'utf8');
    const confPath = scriptText.match(/RTCGATE_COTURN_CONF:-([^}]+)\}/)?.[1];
    assert.equal(
      mounts.get(confPath),
      COTURN_CONF,
      `the script reads ${confPath}: the mounted docker config`,
    );
    for (const key of Object.keys(envOf(coturn))) {
      assert.match(scriptText, new RegExp(`\\$\\{?${key}\\b`), `coturn's ${key} is read by its entrypoint`);
    }
    // Run it (turnserver replaced by a stand-in): the secret goes into the file, not the command line.
    const run = runCoturnEntrypoint(envOf(coturn));
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.args.slice(0, 1), ['-c']);
    assert.ok(!run.args.join(' ').includes(SAMPLE_VARS.TURN_SECRET), 'no secret on the command line');
    const keys = confKeys(run.conf);
    assert.deepEqual(
      keys.filter((o) => o.key === 'static-auth-secret').map((o) => o.value),
      [envOf(compose.services.server).TURN_SECRET],
      'coturn gets the server’s secret',
    );
    assert.ok(keys.some((o) => o.key === 'use-auth-secret'));
    assert.deepEqual(
      keys.filter((o) => o.key === 'external-ip').map((o) => o.value),
      [SAMPLE_VARS.EXTERNAL_IP],
    );
    assert.equal(run.mode, 0o600, 'the written configuration is readable by coturn’s user only');
    assert.notEqual(runCoturnEntrypoint({ TURN_SECRET: '' }).status, 0, 'no secret: coturn does not start');
    assert.ok(!confKeys(runCoturnEntrypoint({ TURN_SECRET: 'x' }).conf).some((o) => o.key === 'external-ip'));
    // coturn's image ships turnserver with the file capability NET_BIND_SERVICE: exec fails without it.
    if (coturn.cap_drop?.includes('ALL')) assert.ok(coturn.cap_add?.includes('NET_BIND_SERVICE'));
  });

  test('coturn: every option it is started with exists in turnserver, and the hardening is there', (t) => {
    const run = runCoturnEntrypoint({ TURN_SECRET: 'x', EXTERNAL_IP: '203.0.113.10' });
    const fromFile = confKeys(run.conf).map((o) => o.key);
    const fromArgs = run.args.filter((a) => a.startsWith('-')).map((a) => a.replace(/^--/, '').split('=')[0]);
    const used = [...new Set([...fromFile, ...fromArgs])];
    let known = turnserverOptions();
    if (known) {
      const stale = COTURN_OPTIONS_4_6_1.filter((o) => !known.has(o));
      assert.deepEqual(stale, [], 'the checked-in option list matches this turnserver');
    } else {
      t.diagnostic(
        'turnserver is not installed: checking against the checked-in list of coturn 4.6.1 options',
      );
      known = new Set(COTURN_OPTIONS_4_6_1);
    }
    assert.deepEqual(
      used.filter((o) => !known.has(o)),
      [],
      'options turnserver does not have',
    );
    const conf = confKeys(readFileSync(COTURN_CONF, 'utf8'));
    const has = (key, value) => conf.some((o) => o.key === key && (value === undefined || o.value === value));
    for (const key of [
      'use-auth-secret',
      'realm',
      'fingerprint',
      'stale-nonce',
      'no-cli',
      'no-multicast-peers',
      'no-tlsv1',
      'no-tlsv1_1',
      'user-quota',
      'total-quota',
      'no-software-attribute',
    ]) {
      assert.ok(has(key), `turnserver.docker.conf sets ${key}`);
    }
    for (const range of [
      '10.0.0.0-10.255.255.255',
      '127.0.0.0-127.255.255.255',
      '172.16.0.0-172.31.255.255',
      '192.168.0.0-192.168.255.255',
      '100.64.0.0-100.127.255.255',
      '169.254.0.0-169.254.255.255',
      '::1',
    ]) {
      assert.ok(has('denied-peer-ip', range), `denied-peer-ip=${range}`);
    }
    for (const key of [
      'allow-loopback-peers',
      'no-auth',
      'lt-cred-mech',
      'user',
      'static-auth-secret',
      'server-relay',
    ]) {
      assert.ok(!has(key), `turnserver.docker.conf must not set ${key}`);
    }
    const coturn = compose.services.coturn;
    assert.equal(coturn.read_only, true);
    assert.ok(coturn.security_opt?.includes('no-new-privileges:true'));
    assert.doesNotMatch(coturn.image, /:latest$/);
  });

  test('docker/env.example lists every variable the compose file reads', () => {
    const example = new Set(
      readFileSync(ENV_EXAMPLE, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
        .map((l) => l.split('=')[0]),
    );
    assert.deepEqual(
      [...used].filter((v) => !example.has(v)),
      [],
      'variables missing from env.example',
    );
    assert.deepEqual(
      [...example].filter((v) => !used.has(v)),
      [],
      'env.example lists variables not used',
    );
  });
});

// ---- docker/README.md ---------------------------------------------------------------------------

test('docker/README.md explains every variable, environment variable and port of the compose file', () => {
  const readme = readFileSync(README, 'utf8');
  const { compose, used } = loadCompose();
  const names = new Set(used);
  for (const service of Object.values(compose.services))
    for (const key of Object.keys(envOf(service))) names.add(key);
  assert.deepEqual(
    [...names].filter((n) => !wordRe(n).test(readme)),
    [],
    'names docker/README.md does not mention',
  );
  const ports = new Set();
  for (const service of Object.values(compose.services)) {
    for (const p of (service.ports ?? []).map(parsePort))
      ports.add(String(p.published)).add(String(p.target));
  }
  ports.add(envOf(compose.services.gateway).STATUS_PORT);
  for (const o of confKeys(readFileSync(COTURN_CONF, 'utf8'))) {
    if (['listening-port', 'min-port', 'max-port', 'tls-listening-port'].includes(o.key)) ports.add(o.value);
  }
  assert.deepEqual(
    [...ports].filter((p) => !wordRe(p).test(readme)),
    [],
    'ports docker/README.md does not mention',
  );
});

// ---- the commands, run ----------------------------------------------------------------------------

test('the image’s entrypoint with the compose commands and environment starts; the health checks pass', async (t) => {
  const { compose } = loadCompose();
  const { entrypoint } = loadDockerfile();
  const children = [];
  t.after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  /** Starts a service as its container would (ports swapped for free ones), in the repository root. */
  const start = (name, env) => {
    const [node, ...args] = entrypoint;
    assert.equal(node, 'node');
    const child = spawn(process.execPath, [...args, ...argv(compose.services[name].command)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    children.push(child);
    return { child, output: () => output };
  };
  const healthcheck = async (name, env) => {
    const [kind, cmd, ...args] = compose.services[name].healthcheck.test;
    assert.equal(kind, 'CMD');
    assert.equal(cmd, 'node');
    try {
      await execFileAsync(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
      return { ok: true };
    } catch (err) {
      return { ok: false, message: `${err.stderr ?? ''}${err.message}` };
    }
  };
  const healthy = async (name, env, proc) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const result = await healthcheck(name, env);
      if (result.ok) return;
      if (proc.child.exitCode !== null || Date.now() > deadline) {
        assert.fail(`${name} never became healthy: ${result.message}\n${proc.output()}`);
      }
      await sleep(250);
    }
  };

  const serverEnv = { ...envOf(compose.services.server), PORT: String(await freePort()) };
  const server = start('server', serverEnv);
  await healthy('server', serverEnv, server);

  const signal = new URL(envOf(compose.services.gateway).SIGNAL_URL);
  signal.port = serverEnv.PORT;
  const gatewayEnv = {
    ...envOf(compose.services.gateway),
    SIGNAL_URL: signal.toString(),
    STATUS_PORT: String(await freePort()),
  };
  const gateway = start('gateway', gatewayEnv);
  await healthy('gateway', gatewayEnv, gateway);

  // The health checks can fail: a port nobody listens on, a gateway without its status port, an
  // error status, a gateway still starting.
  const closed = String(await freePort());
  assert.equal((await healthcheck('server', { ...serverEnv, PORT: closed })).ok, false);
  assert.equal((await healthcheck('gateway', { ...gatewayEnv, STATUS_PORT: '' })).ok, false);
  for (const [status, body] of [
    [503, { status: 'ok' }],
    [200, { status: 'starting' }],
  ]) {
    const fake = createHttpServer((_req, res) => res.writeHead(status).end(JSON.stringify(body)));
    await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const result = await healthcheck('gateway', { ...gatewayEnv, STATUS_PORT: String(fake.address().port) });
    fake.close();
    assert.equal(result.ok, false, `${status} ${JSON.stringify(body)} is not healthy`);
  }

  for (const proc of [gateway, server]) {
    proc.child.kill('SIGTERM');
    const code = await new Promise((resolve) =>
      proc.child.exitCode !== null ? resolve(proc.child.exitCode) : proc.child.once('exit', resolve),
    );
    assert.equal(code, 0, `stops cleanly on SIGTERM (what docker stop sends):\n${proc.output()}`);
  }
});
