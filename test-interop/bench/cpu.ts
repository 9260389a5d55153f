/**
 * CPU time from /proc, for the benches' profiling figures: what one process and the whole machine
 * spent between two marks. A ratio of two routes' CPU per megabyte, measured in one run, tells a
 * route that costs more CPU from one that waits more.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Page } from '@playwright/test';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * The fields of /proc/PID/stat after the command name (which may hold spaces, inside
 * parentheses): [0] is the state, [1] the parent's pid, [11] utime, [12] stime.
 */
export function procStatFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Seconds of CPU (user + system) process `pid` has used since it started. */
export function processCpuSeconds(pid: number): number {
  const fields = procStatFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Seconds of CPU the whole machine has spent busy (all cores; not idle, not waiting on I/O). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // up to steal; guest is inside user
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return (total - idle) / TICKS_PER_SECOND;
}

/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was full, all sockets, IPv4
 * and IPv6 (RcvbufErrors in /proc/net/snmp and /proc/net/snmp6). On loopback nothing else loses
 * packets, and SCTP answers each loss by halving its congestion window: the figure that tells a
 * transfer slowed by loss from one slowed by CPU. Chromium reads its WebRTC socket with a 64 KiB
 * receive buffer (docs/benchmarks.md).
 */
export function udpReceiveDrops(): number {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const v6 = /^Udp6RcvbufErrors\s+(\d+)/m.exec(read('/proc/net/snmp6'));
  // Two "Udp:" lines: the field names, then the values.
  const [names, values] = read('/proc/net/snmp')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'))
    .map((line) => line.split(/\s+/));
  const at = names?.indexOf('RcvbufErrors') ?? -1;
  return Number(v6?.[1] ?? 0) + (at > 0 ? Number(values?.[at] ?? 0) : 0);
}

interface CpuSample {
  at: number;
  gateway: number;
  worker: number;
  machine: number;
  udpDrops: number;
}

/** One sample: the gateway process, this process (the test worker with its backends), the machine. */
function sampleCpu(gatewayPid: number): CpuSample {
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    gateway: processCpuSeconds(gatewayPid),
    worker: (own.user + own.system) / 1e6,
    machine: machineBusySeconds(),
    udpDrops: udpReceiveDrops(),
  };
}

/** CPU seconds between two samples, and the wall time. */
function cpuBetween(a: CpuSample, b: CpuSample): CpuTotals {
  return {
    wallS: (b.at - a.at) / 1000,
    gateway: b.gateway - a.gateway,
    worker: b.worker - a.worker,
    machine: b.machine - a.machine,
    udpDrops: b.udpDrops - a.udpDrops,
  };
}

export interface CpuTotals {
  wallS: number;
  gateway: number;
  worker: number;
  machine: number;
  /** UDP datagrams dropped for a full receive buffer, machine-wide (udpReceiveDrops). */
  udpDrops: number;
}

/** The page's `benchCpu` (exposeCpuMeter): null for "start", else the interval's figures. */
export type BenchCpu = (mark: string) => Promise<CpuTotals | null>;
declare global {
  var benchCpu: BenchCpu;
}

/**
 * Gives the page `benchCpu(mark)`: "start" samples, and any other mark adds the CPU used since the
 * last start to that mark's totals, and resolves with that interval's figures (for per-round
 * records). Returns what each mark has gathered so far.
 */
export async function exposeCpuMeter(page: Page, gatewayPid: number): Promise<() => Map<string, CpuTotals>> {
  const totals = new Map<string, CpuTotals>();
  let started: CpuSample | undefined;
  await page.exposeFunction('benchCpu', (mark: string) => {
    const now = sampleCpu(gatewayPid);
    if (mark === 'start') {
      started = now;
      return null;
    }
    if (!started) return null;
    const d = cpuBetween(started, now);
    const sum = totals.get(mark) ?? { wallS: 0, gateway: 0, worker: 0, machine: 0, udpDrops: 0 };
    totals.set(mark, {
      wallS: sum.wallS + d.wallS,
      gateway: sum.gateway + d.gateway,
      worker: sum.worker + d.worker,
      machine: sum.machine + d.machine,
      udpDrops: sum.udpDrops + d.udpDrops,
    });
    return d;
  });
  return () => totals;
}

const round3 = (x: number) => Number(x.toFixed(3));

/**
 * Per mark: CPU seconds per MB moved (`mb` in all, per mark) in the gateway, the test worker and
 * the whole machine, `busy`, the machine's use of all its cores over the marked time, and UDP
 * datagrams dropped for a full receive buffer per MB.
 */
export function cpuPerMB(
  totals: Map<string, CpuTotals>,
  mb: number,
): Record<
  string,
  { gatewayPerMB: number; workerPerMB: number; machinePerMB: number; busy: number; udpDropsPerMB: number }
> {
  return Object.fromEntries(
    [...totals].map(([mark, c]) => [
      mark,
      {
        gatewayPerMB: round3(c.gateway / mb),
        workerPerMB: round3(c.worker / mb),
        machinePerMB: round3(c.machine / mb),
        busy: round3(c.machine / c.wallS / cpus().length),
        udpDropsPerMB: round3(c.udpDrops / mb),
      },
    ]),
  );
}
