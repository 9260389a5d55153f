/**
 * CPU time from /proc, for the benches' profiling figures: what one process and the whole machine
 * spent between two marks. A ratio of two routes' CPU per megabyte, measured in one run, tells a
 * route that costs more CPU from one that waits more.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Seconds of CPU (user + system) process `pid` has used since it started. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, inside parentheses): utime is the 14th
  // field of the line, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
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

export interface CpuSample {
  at: number;
  gateway: number;
  worker: number;
  machine: number;
}

/** One sample: the gateway process, this process (the test worker with its backends), the machine. */
export function sampleCpu(gatewayPid: number): CpuSample {
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    gateway: processCpuSeconds(gatewayPid),
    worker: (own.user + own.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

/** CPU seconds between two samples, and the wall time. */
export function cpuBetween(
  a: CpuSample,
  b: CpuSample,
): { wallS: number; gateway: number; worker: number; machine: number } {
  return {
    wallS: (b.at - a.at) / 1000,
    gateway: b.gateway - a.gateway,
    worker: b.worker - a.worker,
    machine: b.machine - a.machine,
  };
}
