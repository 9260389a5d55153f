/**
 * The gateway's end of rtcgate.ctl.v1 for one session (docs/protocol.md, "Channel control"): reads
 * the browser's credit grants and hands each to the channel it names, sends the gateway's grants,
 * and tells the browser why the gateway closed a channel. The browser library opens the control
 * channel; a session without one (a page using RTCDataChannel directly) has no metering and no
 * close reasons, and everything else works the same.
 *
 * It also watches the session: it pings the browser and, once the browser has answered a ping, a
 * ping left unanswered for `stallTimeoutMs` while the association sent almost nothing over that
 * time means it has stopped delivering (docs/protocol.md, "Liveness"), and `onStall` is called once.
 */
import {
  decodeControl,
  encodeControl,
  UNLIMITED_CREDIT,
  type ChannelCloseCode,
  type ControlMessage,
  type Logger,
} from 'rtcgate-server';
import type { GatewayChannel } from './channel.js';
import { GatewayError, messageOf } from './errors.js';

/** What a channel does with the browser's credit: a bridge meters; other routes are unmetered. */
export type CreditListener = (upTo: number) => void;
/** The browser closes the channel after `sent` bytes in all (rtcgate.ctl.v1 `close`). */
export type CloseListener = (sent: number) => void;

interface Binding {
  label: string;
  credit: CreditListener | 'unmetered';
  close: CloseListener | undefined;
  /**
   * A credit for this channel has arrived. The library sends a channel's first credit before its
   * `close`, and the control channel is ordered: a `close` that comes before any credit belongs to
   * an earlier channel on the same (reused) stream id, and is dropped.
   */
  credited: boolean;
}

export interface StallWatch {
  /** How long an answered session may leave a ping unanswered (0: never pinged). */
  timeoutMs: number;
  /** Bytes the session's association has sent so far (its progress). */
  bytesSent: () => number;
  onStall: (detail: string) => void;
}

/** Pings and answers so far on a session's control channel. */
export interface PingInfo {
  sent: number;
  answered: number;
  /** Round trip of the latest answered ping, in ms; null before the first. */
  lastRttMs: number | null;
}

/** Pings per stall timeout: a stall is seen at most a sixth of the timeout late. */
const PINGS_PER_TIMEOUT = 6;
/**
 * An association that sent more than this over the last timeout is slow, not stalled: a ping can
 * wait behind queued data on a slow link. A stalled one sends only heartbeats and acknowledgements.
 */
export const STALL_PROGRESS_BYTES = 64 * 1024;

export class ChannelControl {
  #channel: GatewayChannel | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  /** Pings not answered yet: number → when sent. */
  readonly #pending = new Map<number, number>();
  readonly #pings: PingInfo = { sent: 0, answered: 0, lastRttMs: null };
  #stalled = false;
  /** The association's bytes sent at each of the last ticks, and when the last tick ran. */
  #progress: number[] = [];
  #lastTick = 0;
  /** Credits that arrived before their channel was routed (the two travel on different streams). */
  readonly #early = new Map<number, number>();
  /** Closes announced before their channel was routed, by stream id. */
  readonly #earlyClose = new Map<number, { label: string; sent: number }>();
  readonly #bindings = new Map<number, Binding>();

  constructor(
    private readonly log: Logger,
    private readonly watch?: StallWatch,
  ) {}

  /** The browser opened the control channel. A second one replaces the first. */
  attach(channel: GatewayChannel): void {
    this.#channel = channel;
    channel.on('message', (data) => this.#onMessage(data));
    channel.on('close', () => {
      if (this.#channel !== channel) return;
      this.#channel = undefined;
      this.stop();
    });
    const timeoutMs = this.watch?.timeoutMs ?? 0;
    if (timeoutMs > 0 && !this.#pingTimer) {
      // The first ping waits for the browser's first message on the channel (below): Chromium has
      // been seen to lose a message that arrives right after a channel opens (docs/interop.md).
      this.#pingTimer = setInterval(() => this.#ping(), this.#interval()).unref();
    }
  }

  /** No more pings (the session ended, or its control channel closed). */
  stop(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#pending.clear();
    this.#progress = [];
  }

  pingInfo(): PingInfo {
    return { ...this.#pings };
  }

  /** A sixth of the timeout, within what setInterval takes. */
  #interval(): number {
    return Math.min(2 ** 31 - 1, Math.max(100, (this.watch?.timeoutMs ?? 0) / PINGS_PER_TIMEOUT));
  }

  #ping(): void {
    const watch = this.watch!;
    const now = Date.now();
    const every = this.#interval();
    // The gateway itself was not running (a blocked event loop, a paused machine): answers may be
    // waiting unread, so the watch starts over rather than blame the browser.
    if (this.#lastTick > 0 && now - this.#lastTick > 3 * every) {
      this.#pending.clear();
      this.#progress = [];
    }
    this.#lastTick = now;
    this.#progress.push(watch.bytesSent());
    if (this.#progress.length > PINGS_PER_TIMEOUT + 1) this.#progress.shift();
    const sentOverTimeout =
      this.#progress.length > PINGS_PER_TIMEOUT ? this.#progress.at(-1)! - this.#progress[0]! : Infinity;
    // Watched only once the browser has answered: a page with an older library never does.
    const oldest = Math.min(...this.#pending.values());
    if (
      this.#pings.answered > 0 &&
      now - oldest >= watch.timeoutMs &&
      sentOverTimeout < STALL_PROGRESS_BYTES &&
      !this.#stalled
    ) {
      const detail =
        `no answer on the control channel for ${now - oldest} ms (${this.#pending.size} pings), ` +
        `${sentOverTimeout} bytes sent in that time`;
      this.#stalled = true;
      this.stop();
      watch.onStall(detail);
      return;
    }
    const n = this.#pings.sent++;
    this.#pending.set(n, now);
    // A browser that never answers is never watched: keep only its latest pings (an answer to an
    // older one is ignored). A watched one stalls long before it has this many.
    if (this.#pending.size > 2 * PINGS_PER_TIMEOUT) this.#pending.delete(this.#pending.keys().next().value!);
    this.#send({ t: 'ping', n });
  }

  /**
   * A routed channel's credit goes to `listener` (its bridge) or, for 'unmetered' routes, is
   * answered with an unlimited grant. Call when the channel is routed; until the channel closes.
   */
  bind(channel: GatewayChannel, listener: CreditListener | 'unmetered', onClose?: CloseListener): void {
    const id = channel.id;
    const early = this.#early.get(id);
    this.#early.delete(id);
    const binding: Binding = {
      label: channel.label,
      credit: listener,
      close: onClose,
      credited: early !== undefined,
    };
    this.#bindings.set(id, binding);
    channel.once('close', () => {
      if (this.#bindings.get(id) === binding) this.#bindings.delete(id);
      this.#early.delete(id);
      this.#earlyClose.delete(id);
    });
    if (early !== undefined) this.#deliver(id, listener, early);
    const close = this.#earlyClose.get(id);
    this.#earlyClose.delete(id);
    if (close && close.label === binding.label) onClose?.(close.sent);
  }

  /**
   * Drops a credit kept for channel `id` that was never routed (refused): stream ids are reused,
   * and a later channel on the same id must not inherit it.
   */
  forget(id: number): void {
    this.#early.delete(id);
    this.#earlyClose.delete(id);
  }

  /** Tells the browser it may send up to `upTo` bytes in all on channel `id`. */
  grant(id: number, upTo: number): void {
    this.#send({ t: 'credit', id, upTo });
  }

  /** Tells the browser why the gateway is closing channel `id` (before it closes it). */
  reason(id: number, code: ChannelCloseCode, message: string): void {
    this.#send({ t: 'reason', id, code, message });
  }

  #send(message: ControlMessage): void {
    const channel = this.#channel;
    if (!channel || channel.state !== 'open') return;
    try {
      channel.send(encodeControl(message));
    } catch (err) {
      // Called from backend and node-datachannel callbacks: never throw out of here.
      if (!(err instanceof GatewayError && err.code === 'CHANNEL_NOT_OPEN')) {
        this.log.warn('control message not sent', { type: message.t, error: messageOf(err) });
      }
    }
  }

  #onMessage(data: string | Buffer): void {
    const decoded = decodeControl(data);
    if (!decoded.ok) {
      this.log.warn('bad control message ignored', { error: decoded.error });
      return;
    }
    const m = decoded.message;
    if (this.#pingTimer && this.#pings.sent === 0) this.#ping();
    if (m.t === 'pong') {
      const sentAt = this.#pending.get(m.n);
      if (sentAt === undefined) return;
      this.#pings.answered++;
      this.#pings.lastRttMs = Date.now() - sentAt;
      // An answer covers the pings before it too: the control channel is ordered.
      for (const n of this.#pending.keys()) if (n <= m.n) this.#pending.delete(n);
      return;
    }
    if (m.t === 'close') {
      const binding = this.#bindings.get(m.id);
      // Kept for a channel not routed yet only after its credit came (see Binding.credited).
      if (!binding && this.#early.has(m.id)) this.#earlyClose.set(m.id, { label: m.label, sent: m.sent });
      else if (binding?.credited && binding.label === m.label) binding.close?.(m.sent);
      return;
    }
    if (m.t !== 'credit') {
      this.log.warn('control message the gateway does not accept ignored', { type: m.t });
      return;
    }
    const binding = this.#bindings.get(m.id);
    if (binding) {
      binding.credited = true;
      this.#deliver(m.id, binding.credit, m.upTo);
    } else this.#early.set(m.id, Math.max(m.upTo, this.#early.get(m.id) ?? 0));
  }

  #deliver(id: number, listener: CreditListener | 'unmetered', upTo: number): void {
    if (listener === 'unmetered') this.grant(id, UNLIMITED_CREDIT);
    else listener(upTo);
  }
}
