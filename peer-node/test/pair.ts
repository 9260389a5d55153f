/**
 * Loopback helpers: a real signaling server, a real Gateway, and a node-datachannel peer standing in
 * for the browser, all in this process (tier 2 of the tests; the browsers are tier 3).
 */
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import { createLogger, startServer, type RunningServer, type ServerMessage } from 'rtcgate-server';
import { Gateway, type GatewayOptions } from '../src/gateway.js';
import { hold } from '../src/nativeRefs.js';
import { SignalClient } from '../src/signalClient.js';

export const quiet = createLogger('test', 'silent');

export interface Stack {
  server: RunningServer;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startStack(
  room = 'loop',
  options: Omit<GatewayOptions, 'signalUrl' | 'room'> = {},
): Promise<Stack> {
  const server = await startServer(
    { port: 0, host: '127.0.0.1', staticDir: undefined, heartbeatMs: 500 },
    quiet,
  );
  const gateway = new Gateway({
    signalUrl: `ws://127.0.0.1:${server.port}/signal`,
    room,
    log: quiet,
    ...options,
  });
  await gateway.start();
  return {
    server,
    gateway,
    async close() {
      await gateway.close();
      await server.close();
    },
  };
}

/**
 * This process calls nodeDataChannel.cleanup() at its end, which crashes on a channel that was
 * garbage-collected before its closed callback ran (src/nativeRefs.ts): every channel this peer
 * creates or is announced is held for the life of the process.
 */
function holdingChannels(pc: PeerConnection): PeerConnection {
  return new Proxy(pc, {
    get(target, key) {
      if (key === 'createDataChannel') {
        return (label: string, init?: Parameters<PeerConnection['createDataChannel']>[1]) =>
          hold(init === undefined ? target.createDataChannel(label) : target.createDataChannel(label, init));
      }
      if (key === 'onDataChannel') {
        return (cb: (dc: DataChannel) => void) => target.onDataChannel((dc) => cb(hold(dc)));
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A node-datachannel peer that negotiates with the gateway the way the browser library does. */
export class FakeBrowser {
  readonly pc: PeerConnection;
  readonly received: ServerMessage[] = [];
  /** What was sent and received, in order ("sent:answer", "recv:candidate", …). */
  readonly events: string[] = [];
  gatewayId = '';
  peerId = '';
  /**
   * This peer is node-datachannel too, so as the offerer it has the gateway's own race (see
   * PeerSession's #holdLocalCandidates): its candidates wait until the answer is applied.
   */
  #held: { candidate: string; mid: string }[] | undefined;

  private constructor(readonly signal: SignalClient) {
    this.pc = holdingChannels(new nodeDataChannel.PeerConnection('fake-browser', { iceServers: [] }));
    this.pc.onLocalDescription((sdp, type) => {
      if (type === 'offer' || type === 'answer') {
        this.events.push(`sent:${type}`);
        if (type === 'offer') this.#held ??= [];
        const body = type === 'offer' ? sdp.replace(/^a=(candidate:|end-of-candidates).*\r?\n/gm, '') : sdp;
        this.signal.send({ type, to: this.gatewayId, sdp: body });
      }
    });
    this.pc.onLocalCandidate((candidate, mid) => {
      if (this.#held) this.#held.push({ candidate, mid });
      else this.#sendCandidate(candidate, mid);
    });
    signal.on('message', (m) => {
      this.received.push(m);
      this.events.push(`recv:${m.type}`);
      try {
        if (m.type === 'offer') this.pc.setRemoteDescription(m.sdp, 'offer');
        if (m.type === 'answer') {
          this.pc.setRemoteDescription(m.sdp, 'answer');
          const held = this.#held ?? [];
          this.#held = undefined;
          for (const c of held) this.#sendCandidate(c.candidate, c.mid);
        }
        if (m.type === 'candidate' && m.candidate)
          this.pc.addRemoteCandidate(m.candidate.candidate, m.candidate.sdpMid ?? '0');
      } catch {
        // a test that sends bad input checks the outcome itself
      }
    });
  }

  #sendCandidate(candidate: string, mid: string): void {
    this.signal.send({
      type: 'candidate',
      to: this.gatewayId,
      candidate: { candidate: candidate.replace(/^a=/, ''), sdpMid: mid },
    });
  }

  static async join(stack: Stack, room = 'loop'): Promise<FakeBrowser> {
    const signal = await SignalClient.connect(stack.server.signalUrl.replace('localhost', '127.0.0.1'));
    const joined = await signal.join(room, 'browser');
    const fb = new FakeBrowser(signal);
    fb.peerId = joined.peerId;
    fb.gatewayId = joined.peers.find((p) => p.role === 'gateway')?.peerId ?? '';
    return fb;
  }

  /** Browser offers with one channel and resolves when it is open. */
  offer(label = 'echo'): Promise<DataChannel> {
    const dc = this.pc.createDataChannel(label);
    return openOf(dc);
  }

  /** Asks the gateway to offer; resolves with the channel the gateway opened. */
  requestOffer(label = 'echo'): Promise<DataChannel> {
    return new Promise((resolve) => {
      this.pc.onDataChannel((dc) => resolve(dc));
      this.signal.send({ type: 'offer-request', to: this.gatewayId, channels: [{ label }] });
    });
  }

  async close(): Promise<void> {
    this.pc.close();
    await this.signal.close();
  }
}

export function openOf(dc: DataChannel, timeoutMs = 10_000): Promise<DataChannel> {
  return new Promise((resolve, reject) => {
    if (dc.isOpen()) return resolve(dc);
    const t = setTimeout(
      () => reject(new Error(`channel ${dc.getLabel()} not open in ${timeoutMs} ms`)),
      timeoutMs,
    );
    dc.onOpen(() => {
      clearTimeout(t);
      resolve(dc);
    });
  });
}

export function nextMessage(dc: DataChannel, timeoutMs = 5000): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message')), timeoutMs);
    dc.onMessage((m) => {
      clearTimeout(t);
      resolve(typeof m === 'string' ? m : Buffer.from(m as ArrayBuffer));
    });
  });
}

export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `promise`, or a rejection naming `what` after `ms`; the timer is cleared either way. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
