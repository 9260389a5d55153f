// @ts-check
/**
 * Signaling load (issue 6, figure 6): how many signaling clients one server process holds, what each
 * costs in memory, and how fast it relays, over each transport (the rtcgate.signal.v1 WebSocket
 * subprotocol and Socket.IO).
 *
 *   node signaling-load.mjs [--quick] [--clients N] [--seconds S] [--transport ws|socket.io]
 *                           [--window W] [--cpu-prof DIR]
 *
 * Three processes per transport: this one (the coordinator: it reads the server's /proc entries),
 * the real server (`rtcgate server`, peer-node/dist/src/cli.js), and a load generator (this script again with
 * --role generator), so the server's memory and CPU are its own.
 *
 * - Ramp: N clients in rooms of two (one gateway, one browser), at most --concurrency handshakes
 *   at a time, each joined; what joined within the ramp bound is reported.
 * - Memory: the server's VmRSS before any client (idle) and with all clients joined (loaded);
 *   per client = (loaded - idle) / joined.
 * - Relay: browsers send `candidate` messages to their room's gateway, round robin over all rooms,
 *   with at most --window messages in flight in all (a closed loop: each one received lets the
 *   next one go). Each carries the generator's clock (performance.now()) in its usernameFragment;
 *   the gateway side computes the relay latency. Counted over --seconds after a warm-up.
 *
 * The server has no per-client rate limit (server/src/config.ts, signalHub.ts): the only limits are
 * per frame (64 KiB, hard 1 MiB) and 4 MiB unread per ws client, which a closed loop never reaches.
 *
 * stdout: one JSON line, `{ "ws": {...}, "socket.io": {...}, "quick": bool }`; progress: stderr.
 * Exits 0 when it measured (targets are for the caller to judge), 1 when it could not.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const PROTOCOL = 'rtcgate.signal.v1';
const TRANSPORTS = /** @type {const} */ (['ws', 'socket.io']);
/** @typedef {(typeof TRANSPORTS)[number]} Transport */

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    transport: { type: 'string' },
    window: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '100' },
    'ramp-timeout': { type: 'string' },
    'cpu-prof': { type: 'string' },
    role: { type: 'string' },
  },
});

/** @param {unknown} m */
const tell = (m) => process.send?.(m);
/** @param {string} text */
const progress = (text) => process.stderr.write(`[signaling-load] ${text}\n`);
/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** @param {number} x @param {number} digits */
const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * @param {string} name
 * @param {string | undefined} value
 * @param {number} fallback
 * @param {number} min
 */
function positive(name, value, fallback, min = 1) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) {
    progress(`--${name} must be a number ≥ ${min}; got "${value}"`);
    process.exit(2);
  }
  return n;
}

if (values.role === 'generator') await generator();
else await coordinator();

// ---------------------------------------------------------------------------------------------
// The load generator: its own process, driven by the coordinator over IPC.

/**
 * @typedef {{ send(text: string): void, close(): void }} Conn
 * @typedef {{
 *   index: number, room: string, gateway?: Conn, browser?: Conn, gatewayId?: string,
 *   gatewayJoined: boolean, browserJoined: boolean, pending: number, dead: boolean
 * }} Pair
 * @typedef {{ cmd: 'ramp', transport: Transport, url: string, clients: number, concurrency: number,
 *   timeoutMs: number }} RampCommand
 * @typedef {{ cmd: 'relay', seconds: number, warmupSeconds: number, window: number }} RelayCommand
 */

async function generator() {
  const { default: WebSocket } = await import('ws');
  const { io } = await import('socket.io-client');
  process.on('disconnect', () => process.exit(0)); // the coordinator is gone: so are we

  /** @type {Pair[]} */
  const pairs = [];
  /** @type {Record<string, number>} */
  const errors = {};
  /** @param {string} what */
  const count = (what) => (errors[what] = (errors[what] ?? 0) + 1);
  let closedAfterJoin = 0;

  // Relay state (used from the message handlers).
  let running = false;
  let measuring = false;
  let inFlight = 0;
  let window = 64;
  let sent = 0;
  let received = 0;
  let cursor = 0;
  /** @type {Pair[]} */
  let active = [];
  /** @type {number[]} */
  let latencies = [];
  const line =
    'candidate:842163049 1 udp 1677729535 192.0.2.10 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0';

  const pump = () => {
    let skipped = 0;
    while (running && inFlight < window && skipped < active.length) {
      const pair = /** @type {Pair} */ (active[cursor]);
      cursor = cursor + 1 === active.length ? 0 : cursor + 1;
      if (pair.dead) {
        skipped++;
        continue;
      }
      skipped = 0;
      pair.pending++;
      inFlight++;
      sent++;
      pair.browser?.send(
        JSON.stringify({
          type: 'candidate',
          to: pair.gatewayId,
          candidate: {
            candidate: line,
            sdpMid: '0',
            sdpMLineIndex: 0,
            usernameFragment: String(performance.now()),
          },
        }),
      );
    }
  };

  /** @param {Pair} pair */
  const settle = (pair) => {
    inFlight -= pair.pending;
    pair.pending = 0;
  };

  /**
   * @param {Pair} pair
   * @param {'gateway' | 'browser'} role
   * @param {string} text
   * @param {() => void} onJoined
   */
  const onText = (pair, role, text, onJoined) => {
    /** @type {any} */
    const m = JSON.parse(text);
    switch (m.type) {
      case 'candidate': {
        const now = performance.now();
        if (pair.pending > 0) {
          pair.pending--;
          inFlight--;
        }
        if (measuring) {
          received++;
          latencies.push(now - Number(m.candidate.usernameFragment));
        }
        pump();
        return;
      }
      case 'joined':
        if (role === 'gateway') pair.gatewayJoined = true;
        else {
          pair.browserJoined = true;
          const gw = /** @type {{ peerId: string, role: string }[]} */ (m.peers).find(
            (p) => p.role === 'gateway',
          );
          if (gw) pair.gatewayId = gw.peerId;
        }
        onJoined();
        return;
      case 'peer-joined':
        if (role === 'browser' && m.role === 'gateway') pair.gatewayId = m.peerId;
        return;
      case 'error':
        count(`error ${m.code}`);
        if (m.ref === 'candidate' && pair.pending > 0) {
          pair.pending--;
          inFlight--;
          pump();
        }
        if (m.ref === 'join') onJoined(); // refused: the ramp task ends (not joined)
        return;
      default:
        return;
    }
  };

  /**
   * One client: connect, join, resolve true once joined (false on failure or timeout).
   * @param {RampCommand} cmd
   * @param {Pair} pair
   * @param {'gateway' | 'browser'} role
   * @returns {Promise<boolean>}
   */
  const openClient = (cmd, pair, role) =>
    new Promise((resolve) => {
      let done = false;
      let joined = false;
      let lastError = '';
      /** @param {boolean} ok @param {string} [why] */
      const finish = (ok, why) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (!ok && why) count(why);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false, 'join timeout'), 20_000);
      const joinText = JSON.stringify({ type: 'join', room: pair.room, role });
      const onJoined = () => {
        joined = role === 'gateway' ? pair.gatewayJoined : pair.browserJoined;
        finish(joined, joined ? undefined : 'join refused');
      };
      const onClosed = () => {
        if (joined) {
          closedAfterJoin++;
          pair.dead = true;
          settle(pair);
        }
        finish(false, lastError ? `connect ${lastError}` : 'closed before joined');
      };
      /** @type {Conn} */
      let conn;
      if (cmd.transport === 'ws') {
        const ws = new WebSocket(`${cmd.url.replace(/^http/, 'ws')}signal`, PROTOCOL, {
          perMessageDeflate: false,
          handshakeTimeout: 15_000,
        });
        conn = { send: (t) => ws.send(t), close: () => ws.terminate() };
        ws.on('open', () => ws.send(joinText));
        ws.on('message', (data) => onText(pair, role, String(data), onJoined));
        ws.on('error', (err) => (lastError = err.message));
        ws.on('close', onClosed);
      } else {
        const socket = io(`${cmd.url}signal`, {
          auth: { protocol: PROTOCOL },
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          timeout: 15_000,
        });
        conn = { send: (t) => socket.emit('signal', t), close: () => socket.disconnect() };
        socket.on('connect', () => socket.emit('signal', joinText));
        socket.on('signal', (/** @type {string} */ text) => onText(pair, role, text, onJoined));
        socket.on('connect_error', (err) => {
          count(`connect ${err.message}`);
          finish(false);
        });
        socket.on('disconnect', onClosed);
      }
      if (role === 'gateway') pair.gateway = conn;
      else pair.browser = conn;
    });

  /** @param {RampCommand} cmd */
  const ramp = async (cmd) => {
    const nPairs = Math.ceil(cmd.clients / 2);
    for (let i = 0; i < nPairs; i++) {
      pairs.push({
        index: i,
        room: `load-${i}`,
        gatewayJoined: false,
        browserJoined: false,
        pending: 0,
        dead: false,
      });
    }
    const started = performance.now();
    const deadline = started + cmd.timeoutMs;
    let next = 0;
    let joined = 0;
    let failed = 0;
    const ticker = setInterval(
      () => progress(`  ${cmd.transport}: ${joined} joined, ${failed} failed of ${nPairs * 2}`),
      2000,
    );
    const worker = async () => {
      while (next < nPairs * 2 && performance.now() < deadline) {
        const n = next++;
        const ok = await openClient(
          cmd,
          /** @type {Pair} */ (pairs[n >> 1]),
          n % 2 === 0 ? 'gateway' : 'browser',
        );
        if (ok) joined++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: cmd.concurrency }, worker));
    const rampSeconds = (performance.now() - started) / 1000;
    clearInterval(ticker);
    // A browser that joined first learns its gateway from peer-joined, which may still be on its way.
    const ready = () => pairs.filter((p) => p.gatewayJoined && p.browserJoined && p.gatewayId && !p.dead);
    for (
      let i = 0;
      i < 40 && ready().length < pairs.filter((p) => p.gatewayJoined && p.browserJoined).length;
      i++
    ) {
      await sleep(50);
    }
    active = ready();
    tell({
      ev: 'ramped',
      joined,
      failed,
      notTried: nPairs * 2 - joined - failed,
      pairsReady: active.length,
      rampSeconds,
      errors,
    });
  };

  /** @param {RelayCommand} cmd */
  const relay = async (cmd) => {
    window = cmd.window;
    const lag = monitorEventLoopDelay({ resolution: 10 });
    running = true;
    pump();
    await sleep(cmd.warmupSeconds * 1000);
    latencies = [];
    received = 0;
    const sentBefore = sent;
    const cpu = process.cpuUsage();
    tell({ ev: 'measure-start' });
    lag.enable();
    measuring = true;
    const t0 = performance.now();
    await sleep(cmd.seconds * 1000);
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    lag.disable();
    const used = process.cpuUsage(cpu);
    running = false;
    const sorted = Float64Array.from(latencies).sort();
    /** @param {number} q */
    const quantile = (q) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
    tell({
      ev: 'measure-end',
      seconds,
      sent: sent - sentBefore,
      received,
      p50: quantile(0.5),
      p99: quantile(0.99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      cpuPct: ((used.user + used.system) / 1e6 / seconds) * 100,
      loopDelayP99Ms: lag.percentile(99) / 1e6,
      closedAfterJoin,
      errors,
    });
  };

  process.on('message', (/** @type {RampCommand | RelayCommand | { cmd: 'exit' }} */ cmd) => {
    if (cmd.cmd === 'ramp') void ramp(cmd);
    else if (cmd.cmd === 'relay') void relay(cmd);
    else process.exit(0);
  });
  tell({ ev: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// The coordinator: starts the server and the generator, reads the server's /proc, prints the JSON.

async function coordinator() {
  const quick = values.quick ?? false;
  const clients = Math.ceil(positive('clients', values.clients, quick ? 300 : 10_000, 2) / 2) * 2;
  const seconds = positive('seconds', values.seconds, quick ? 2 : 10);
  const warmupSeconds = quick ? 0.5 : 1;
  const window = Math.floor(positive('window', values.window, 64));
  const concurrency = Math.floor(positive('concurrency', values.concurrency, 100));
  const rampTimeoutMs = positive('ramp-timeout', values['ramp-timeout'], quick ? 30 : 90) * 1000;
  const cpuProf = values['cpu-prof'];
  /** @type {readonly Transport[]} */
  let transports = TRANSPORTS;
  if (values.transport !== undefined) {
    if (!(/** @type {readonly string[]} */ (TRANSPORTS).includes(values.transport))) {
      progress(`--transport must be ws or socket.io; got "${values.transport}"`);
      process.exit(2);
    }
    transports = [/** @type {Transport} */ (values.transport)];
  }

  const self = fileURLToPath(import.meta.url);
  const cli = fileURLToPath(new URL('../../peer-node/dist/src/cli.js', import.meta.url));
  if (!existsSync(cli)) {
    progress(`${cli} is missing: run "npm run build" first`);
    process.exit(1);
  }

  // File descriptors: each of the server and the generator holds one socket per client. Children
  // start through bash to raise their soft limit to the hard one (root may not raise the hard one
  // in a container).
  const hardNofile = Number(
    /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'NaN',
  );
  const nofile = Number.isFinite(hardNofile) ? hardNofile : Infinity; // "unlimited"
  if (clients + 200 > nofile) {
    progress(
      `${clients} clients need ${clients + 200} file descriptors per process; the hard limit is ${nofile}`,
    );
    process.exit(1);
  }
  const [lowPort, highPort] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  const ephemeralPorts = Number(highPort) - Number(lowPort) + 1;
  if (clients > ephemeralPorts) {
    progress(`${clients} clients to one server port need more than the ${ephemeralPorts} ephemeral ports`);
    process.exit(1);
  }

  /** @type {Set<import('node:child_process').ChildProcess>} */
  const children = new Set();
  const killAll = () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }

  /**
   * @param {string[]} nodeArgs
   * @param {import('node:child_process').StdioOptions} stdio
   * @param {NodeJS.ProcessEnv} env
   */
  const start = (nodeArgs, stdio, env) => {
    const child = spawn(
      'bash',
      ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...nodeArgs],
      { stdio, env },
    );
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  /** @param {import('node:child_process').ChildProcess} child */
  const exited = (child) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => child.once('exit', resolve));
  const profArgs = cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProf];

  /** @param {number} pid */
  const proc = (pid) => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    /** @param {string} key */
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of proc(5)), in clock ticks of 1/100 s (USER_HZ on Linux).
    return {
      rssKiB: kib('VmRSS'),
      hwmKiB: kib('VmHWM'),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100,
    };
  };
  /** Busy and total CPU time of the whole machine, in clock ticks (the first line of /proc/stat). */
  const machine = () => {
    const ticks = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '')
      .split(/\s+/)
      .map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
  };
  /** @param {string} url @returns {Promise<any>} */
  const getJson = (url) =>
    new Promise((resolve, reject) => {
      http
        .get(url, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => {
            try {
              resolve(JSON.parse(body));
            } catch (err) {
              reject(err);
            }
          });
        })
        .on('error', reject);
    });

  /** @param {Transport} transport */
  const measure = async (transport) => {
    progress(`${transport}: starting the server`);
    const server = start(
      [...profArgs, cli, 'server', '--port', '0', '--host', '127.0.0.1'],
      ['ignore', 'pipe', 'pipe'],
      {
        ...process.env,
        LOG_LEVEL: 'info',
      },
    );
    /** @type {string[]} */
    const tail = [];
    let warnings = 0;
    /** @type {(url: string) => void} */
    let onListening = () => undefined;
    const listening = new Promise((resolve) => (onListening = resolve));
    /** @type {string | undefined} */
    let head = '';
    server.stdout?.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
      // Read to the end: the server logs one line per join, and a full pipe would block it.
      if (head === undefined) return;
      head += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(head);
      if (m) {
        onListening(String(m[1]));
        head = undefined;
      }
    });
    server.stderr?.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
      for (const l of chunk.split('\n').filter(Boolean)) {
        warnings++;
        tail.push(l);
        if (tail.length > 5) tail.shift();
      }
    });
    const serverExit = exited(server).then(() => {
      throw new Error(
        `${transport}: the server exited (${server.exitCode ?? server.signalCode}) ${tail.join(' | ')}`.trim(),
      );
    });
    const url = /** @type {string} */ (
      await Promise.race([
        listening,
        serverExit,
        new Promise((_, reject) => {
          // unref: a pending deadline must not keep this process alive after the JSON line.
          setTimeout(
            () => reject(new Error(`${transport}: the server did not print "listening on" within 15 s`)),
            15_000,
          ).unref();
        }),
      ])
    );
    const pid = /** @type {number} */ (server.pid);
    await sleep(1000);
    const idle = proc(pid);
    progress(`${transport}: server pid ${pid} at ${url}, idle RSS ${(idle.rssKiB / 1024).toFixed(1)} MiB`);

    const gen = start(
      [...profArgs, self, '--role', 'generator'],
      ['ignore', 'ignore', 'inherit', 'ipc'],
      process.env,
    );
    /** @type {Map<string, (m: any) => void>} */
    const waiting = new Map();
    gen.on('message', (/** @type {any} */ m) => {
      waiting.get(m.ev)?.(m);
      waiting.delete(m.ev);
    });
    const genExit = exited(gen).then(() => {
      throw new Error(`${transport}: the load generator exited (${gen.exitCode ?? gen.signalCode})`);
    });
    /** @param {string} ev @returns {Promise<any>} */
    const next = (ev) =>
      Promise.race([new Promise((resolve) => waiting.set(ev, resolve)), serverExit, genExit]);
    await next('ready');

    progress(`${transport}: ramping to ${clients} clients (${concurrency} handshakes at a time)`);
    gen.send({ cmd: 'ramp', transport, url, clients, concurrency, timeoutMs: rampTimeoutMs });
    const ramped = await next('ramped');
    progress(
      `${transport}: ${ramped.joined} joined in ${ramped.rampSeconds.toFixed(1)} s` +
        `${ramped.failed ? `, ${ramped.failed} failed ${JSON.stringify(ramped.errors)}` : ''}`,
    );
    await sleep(2000);
    const loaded = proc(pid);
    const health = await getJson(`${url}healthz`);
    if (ramped.pairsReady === 0) {
      throw new Error(`${transport}: no room got both peers joined ${JSON.stringify(ramped.errors)}`);
    }

    progress(`${transport}: relaying for ${seconds} s over ${ramped.pairsReady} rooms, window ${window}`);
    gen.send({ cmd: 'relay', seconds, warmupSeconds, window });
    await next('measure-start');
    const before = proc(pid);
    const machineBefore = machine();
    const relayed = await next('measure-end');
    const after = proc(pid);
    const machineAfter = machine();
    if (relayed.received === 0)
      throw new Error(`${transport}: nothing was relayed ${JSON.stringify(relayed.errors)}`);

    if (cpuProf !== undefined) {
      // Profiles are written when the processes exit on their own.
      gen.send({ cmd: 'exit' });
      server.kill('SIGTERM');
      await Promise.race([
        Promise.all([exited(server), exited(gen)]),
        new Promise((resolve) => setTimeout(resolve, 30_000).unref()),
      ]);
    }
    server.kill('SIGKILL'); // the server first: its side of each connection keeps the TIME_WAIT
    gen.kill('SIGKILL');
    await Promise.all([exited(server), exited(gen)]);
    serverExit.catch(() => undefined);
    genExit.catch(() => undefined);

    const joined = ramped.joined;
    const serverCpuPct = Math.round(((after.cpuSeconds - before.cpuSeconds) / relayed.seconds) * 100);
    const machineBusyPct =
      ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100 * cores;
    const result = {
      clients,
      joined,
      failed: ramped.failed,
      rampSeconds: round(ramped.rampSeconds, 1),
      rampTimeoutSeconds: rampTimeoutMs / 1000,
      serverPeers: health.peers,
      serverConnections: health.connections,
      rssIdleMiB: round(idle.rssKiB / 1024, 1),
      rssLoadedMiB: round(loaded.rssKiB / 1024, 1),
      rssPerClientKiB: round((loaded.rssKiB - idle.rssKiB) / joined, 2),
      // After traffic, each connection holds more (buffers ws and net allocate on first use, and
      // garbage not yet collected): the per-client cost of a busy server rather than an idle one.
      rssAfterRelayMiB: round(after.rssKiB / 1024, 1),
      rssPerClientAfterRelayKiB: round((after.rssKiB - idle.rssKiB) / joined, 2),
      rssPeakMiB: round(after.hwmKiB / 1024, 1),
      relayRooms: ramped.pairsReady,
      relayWindow: window,
      relaySeconds: round(relayed.seconds, 2),
      relayed: relayed.received,
      relayPerSec: Math.round(relayed.received / relayed.seconds),
      relayP50Ms: round(relayed.p50, 2),
      relayP99Ms: round(relayed.p99, 2),
      relayMaxMs: round(relayed.max, 2),
      serverCpuPct,
      serverCpuUsPerMsg: round(((after.cpuSeconds - before.cpuSeconds) * 1e6) / relayed.received, 1),
      generatorCpuPct: Math.round(relayed.cpuPct),
      // Everything else the machine ran meanwhile (100 = one core): the noise of a shared machine.
      otherCpuPct: Math.max(0, Math.round(machineBusyPct - serverCpuPct - relayed.cpuPct)),
      generatorLoopDelayP99Ms: round(relayed.loopDelayP99Ms, 1),
      closedAfterJoin: relayed.closedAfterJoin,
      errors: relayed.errors,
      serverWarnings: warnings,
      rateLimit: null,
      ...(transport === 'socket.io' ? { clientTransports: ['websocket'] } : {}),
    };
    progress(
      `${transport}: ${result.relayPerSec} msg/s, p50 ${result.relayP50Ms} ms, p99 ${result.relayP99Ms} ms, ` +
        `RSS ${result.rssIdleMiB} → ${result.rssLoadedMiB} MiB (${result.rssPerClientKiB} KiB/client), ` +
        `server CPU ${result.serverCpuPct}%, generator CPU ${result.generatorCpuPct}%`,
    );
    if (result.otherCpuPct > 20) {
      progress(
        `${transport}: other processes used ${result.otherCpuPct}% CPU during the relay (100 = one core): ` +
          'the relay figures are low for this machine, not for the server',
      );
    }
    return result;
  };

  const cores = os.availableParallelism();
  const t0 = performance.now();
  /** @type {Record<string, unknown>} */
  const out = {};
  try {
    for (const transport of transports) {
      out[transport] = await measure(transport);
      await sleep(500);
    }
  } catch (err) {
    killAll();
    progress(`could not measure: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  out.quick = quick;
  out.cores = cores;
  out.seconds = round((performance.now() - t0) / 1000, 1);
  console.log(JSON.stringify(out));
}
