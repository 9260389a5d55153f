/**
 * Where the bench's processes run. On one machine the browser, the gateway and the backend share
 * the cores, so CPU the server side spends (a backend, loopback TCP) is CPU the browser's network
 * thread does not get, and its socket drops datagrams (docs/benchmarks.md). In a deployment the
 * browser runs on another machine. `split` models that: the browser's processes on the first half
 * of this process's CPUs, the gateway and this worker (which runs the backends) on the rest.
 * `shared` is every process on every CPU, as the benches run otherwise. Needs `taskset`
 * (util-linux); without it, or with one CPU, only `shared` is measured.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { procStatFields } from './cpu.js';

export type PlacementMode = 'shared' | 'split';

declare global {
  /** Exposed to the bench's page: moves the processes before a round (bridge.bench.ts). */
  var benchPlacement: (mode: PlacementMode) => Promise<void>;
}

/** A CPU list as taskset prints it ("0-3,6") into CPU numbers. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

function affinity(pid: number): number[] {
  const out = execFileSync('taskset', ['-p', '-c', String(pid)]).toString();
  return parseCpuList(out.slice(out.lastIndexOf(':') + 1));
}

/** Every process under `pid` (children, theirs, …), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(procStatFields(entry)[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

const NODE_BINARY = realpathSync(process.execPath);

/** Whether `pid` runs this Node binary (the gateway, the signaling server). */
function isNode(pid: number): boolean {
  try {
    return realpathSync(`/proc/${pid}/exe`) === NODE_BINARY;
  } catch {
    return false;
  }
}

/** The threads of `pid` whose CPUs are not `cpus` (none once the process has gone). */
function strayThreads(pid: number, cpus: number[]): number[] {
  const want = cpus.join(',');
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.map(Number).filter((tid) => {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
      return list !== undefined && parseCpuList(list).join(',') !== want;
    } catch {
      return false; // the thread has ended
    }
  });
}

/**
 * Pins every thread of `pid` to `cpus`, and checks. `taskset -a` stops at the first thread that
 * ends while it works, leaving the rest where they were, so it is repeated until every thread
 * that is still there reads `cpus`. True when they do (or the process has gone).
 */
function pin(pid: number, cpus: number[]): boolean {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { stdio: 'ignore' });
    } catch {
      // a thread or the process ended meanwhile: checked below
    }
    if (strayThreads(pid, cpus).length === 0) return true;
  }
  return false;
}

export interface Placement {
  /** Whether `split` can be had: it needs `taskset` and at least two CPUs. */
  readonly canSplit: boolean;
  /** Why not, when it cannot. */
  readonly reason?: string;
  /** The CPUs each side gets under `split`. */
  readonly browserCpus: number[];
  readonly serverCpus: number[];
  /**
   * Moves the processes. Returns how many browser processes were found and how many of them have
   * every thread on the CPUs asked for; throws when a server-side process could not be moved.
   */
  apply(mode: PlacementMode): { browsers: number; moved: number };
}

/**
 * The placement of this worker's browser (its descendants that do not run Node) against every
 * Node process under this worker: the worker itself (with the backends), and its Node children
 * (the gateway, the signaling server). The Playwright runner above it is left alone: it only
 * reports, and a runner left pinned would pass its CPUs on to every worker it starts later.
 */
export function placement(): Placement {
  let all: number[];
  try {
    all = affinity(process.pid);
  } catch (err) {
    const reason = `taskset (util-linux) did not run: ${String(err)}`;
    return {
      canSplit: false,
      reason,
      browserCpus: [],
      serverCpus: [],
      apply: () => ({ browsers: 0, moved: 0 }),
    };
  }
  // The first half of the CPUs this process may use go to the browser, the rest to the server.
  const half = Math.floor(all.length / 2);
  const browserCpus = all.slice(0, half);
  const serverCpus = all.slice(half);
  const canSplit = half >= 1;
  return {
    canSplit,
    ...(canSplit ? {} : { reason: `one CPU (${all.join(',')})` }),
    browserCpus,
    serverCpus,
    apply(mode) {
      const split = mode === 'split' && canSplit;
      const under = descendants(process.pid);
      const server = [process.pid, ...under.filter(isNode)];
      const browser = under.filter((p) => !server.includes(p));
      // Every process is moved before a failure is reported, so a restore goes as far as it can.
      const stuck = server.filter((p) => !pin(p, split ? serverCpus : all));
      const moved = browser.filter((p) => pin(p, split ? browserCpus : all)).length;
      if (stuck.length > 0)
        throw new Error(`placement ${mode}: could not move Node processes ${stuck.join(', ')}`);
      return { browsers: browser.length, moved };
    },
  };
}
