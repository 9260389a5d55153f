import type { DataChannel } from 'node-datachannel';

/**
 * node-datachannel 0.33 keeps a raw pointer to every DataChannel wrapper in a list that cleanup()
 * walks. A wrapper leaves that list only when its native closed callback has run; its destructor
 * does not remove it. So a channel garbage-collected before then (one whose onClosed was never
 * registered, or whose close the binding dropped: node-datachannel #211) leaves a dangling pointer,
 * and cleanup() at exit crashes the process (SIGSEGV, or SIGABRT in pthread_mutex_lock under
 * DataChannelWrapper::CleanupAll). Every native channel the gateway touches is held here until its
 * closed callback ran; one whose close was never reported stays held (a few hundred bytes) rather
 * than crash the process.
 */
const held = new Set<DataChannel>();

export function hold(dc: DataChannel): DataChannel {
  held.add(dc);
  return dc;
}

/** Call from the channel's onClosed callback: the binding forgets the wrapper right after it. */
export function release(dc: DataChannel): void {
  held.delete(dc);
}

/** How many native channels are held (test/gcCleanup.ts prints it). */
export function heldChannels(): number {
  return held.size;
}
