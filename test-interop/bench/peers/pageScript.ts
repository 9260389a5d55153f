/**
 * The comparison bench's page code (service.mjs and page.mjs) as one classic script for
 * page.addScriptTag (import/export lines removed), and how a bench starts a Node peer.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classicScript } from '../../fixtures/classicScript.js';
import { startProcess, type Proc } from '../../fixtures/processes.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const PAGE_SCRIPT = classicScript(here, ['service.mjs', 'page.mjs'], ['benchPage']);

export const NODE_PEERS = ['gateway', 'ndc', 'werift', 'wrtc'] as const;
export type NodePeer = (typeof NODE_PEERS)[number];

/** What refpeer.mjs's GET /stats answers. */
export interface PeerStats {
  rss: number;
  sessions: number;
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
}

/** Starts refpeer.mjs as `kind` in `room`; `stats()` reads its GET /stats, `resetStats()` the delay. */
export async function startPeer(
  kind: NodePeer,
  signalUrl: string,
  room: string,
): Promise<{ proc: Proc; stats(): Promise<PeerStats>; resetStats(): Promise<void> }> {
  const { proc, match } = await startProcess(
    path.join(here, 'refpeer.mjs'),
    ['--kind', kind, '--signal-url', signalUrl, '--room', room],
    /refpeer \w+ ready, stats on (http:\/\/127\.0\.0\.1:\d+)\//,
  );
  const url = match[1] ?? '';
  return {
    proc,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as PeerStats,
    resetStats: async () => void (await fetch(`${url}/stats/reset`, { method: 'POST' })),
  };
}
