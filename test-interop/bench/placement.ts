/**
 * Where the bench's processes run. On one machine the browser, the gateway and the backend share
 * the cores, so CPU the server side spends (a backend, loopback TCP) is CPU the browser's network
 * thread does not get, and its socket drops datagrams (docs/benchmarks.md). In a deployment the
 * browser runs on another machine. `split` models that: the browser's processes on the first half
 * of this process's CPUs, the gateway and this worker (which runs the backends) on the rest.
 * `shared` is every process on every CPU, as the benches run otherwise.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The parent is the 2nd field after the command name (which may hold spaces).
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
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

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Pins every thread of `pid` to `cpus`; false when the process has gone. */
function pin(pid: number, cpus: number[]): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Placement {
  /** Whether `split` can be had: it needs at least two CPUs. */
  readonly canSplit: boolean;
  /** The CPUs each side gets under `split`. */
  readonly browserCpus: number[];
  readonly serverCpus: number[];
  /** Moves the processes; returns how many browser processes were moved (0 means none found). */
  apply(mode: PlacementMode): number;
}

/**
 * The placement of this worker's browser (its non-node descendants) against the gateway process
 * `gatewayPid` (with its descendants) and this worker itself.
 */
export function placement(gatewayPid: number): Placement {
  const all = affinity(process.pid);
  const half = Math.floor(all.length / 2);
  const browserCpus = all.slice(0, half);
  const serverCpus = all.slice(half);
  const canSplit = half >= 1;
  return {
    canSplit,
    browserCpus,
    serverCpus,
    apply(mode) {
      const split = mode === 'split' && canSplit;
      const server = [process.pid, gatewayPid, ...descendants(gatewayPid)];
      const browser = descendants(process.pid).filter((p) => !server.includes(p) && commOf(p) !== 'node');
      for (const p of server) pin(p, split ? serverCpus : all);
      return browser.filter((p) => pin(p, split ? browserCpus : all)).length;
    },
  };
}
