/**
 * One DataChannel of a session, as the gateway's handlers see it: typed events, typed errors,
 * W3C state names (webrtc-pc §6.2 RTCDataChannelState), and no node-datachannel exception escapes.
 */
import { EventEmitter } from 'node:events';
import type { DataChannel } from 'node-datachannel';
import { emitSafely, GatewayError, messageOf } from './errors.js';
import { hold, release } from './nativeRefs.js';
import type { Logger } from 'rtcgate-server';

export const DATA_CHANNEL_STATES = ['connecting', 'open', 'closing', 'closed'] as const;
export type DataChannelState = (typeof DATA_CHANNEL_STATES)[number];

export type ChannelMessage = string | Buffer;

export interface ChannelEvents {
  open: [];
  message: [ChannelMessage];
  /** bufferedAmount fell from above bufferedAmountLowThreshold to at or below it. */
  bufferedamountlow: [];
  close: [];
  error: [GatewayError];
}

/** What `write()` waits for by default: at most this much queued in the channel's send buffer. */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/**
 * How often the send buffer is re-read while someone waits for it to drain. node-datachannel's
 * own low-buffer callback can stay silent (node-datachannel #204), so it is not relied on alone.
 */
const DRAIN_POLL_MS = 5;

/**
 * The channel's reliability and negotiation, in RTCDataChannel's terms (webrtc-pc §6.2). Known for
 * channels the gateway opened and for negotiated ones; for a channel the browser announced,
 * node-datachannel 0.33 gives no way to read the reliability it carried (its DataChannel has no
 * such getter), so `ordered` is null there and the other two read null as well.
 */
export interface ChannelOptions {
  ordered: boolean | null;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
  negotiated: boolean;
}

export interface ChannelInfo extends ChannelOptions {
  label: string;
  id: number;
  protocol: string;
  state: DataChannelState;
  opener: 'browser' | 'gateway';
  /** Largest message either way: the smaller of the two sides' a=max-message-size. */
  maxMessageSize: number;
  bufferedAmount: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export class GatewayChannel extends EventEmitter<ChannelEvents> {
  readonly label: string;
  readonly protocol: string;
  readonly options: ChannelOptions;
  #state: DataChannelState;
  #lastId = 65535;
  #closedReadings = 0;
  #stats = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  #lowThreshold = 0;
  #aboveThreshold = false;
  #drainWaiters = new Set<{ limit: number; resolve: () => void; reject: (err: GatewayError) => void }>();
  #drainTimer: NodeJS.Timeout | undefined;
  #nativeClosed!: () => void;
  /**
   * Resolves when libdatachannel reports the channel closed (after the peer acknowledged the
   * stream reset), which can come after markClosed(). PeerSession waits for it before tearing down
   * the SCTP association, so that a lost packet is retransmitted instead of leaving the peer's
   * channel open.
   */
  readonly nativeClosed: Promise<void> = new Promise((resolve) => (this.#nativeClosed = resolve));
  /** Bytes the peer said it sent on this channel in all (expectInbound()). */
  #announcedIn: number | undefined;
  #inboundWaiters = new Set<() => void>();

  constructor(
    readonly dc: DataChannel,
    readonly opener: 'browser' | 'gateway',
    private readonly log: Logger,
    options: ChannelOptions = {
      ordered: null,
      maxRetransmits: null,
      maxPacketLifeTime: null,
      negotiated: false,
    },
  ) {
    super();
    this.label = dc.getLabel();
    this.protocol = dc.getProtocol();
    this.options = options;
    // Channels announced by the remote side (onDataChannel) are open when announced; one that
    // reads closed already was closed before its callbacks existed (see checkAlive()).
    this.#state = opener === 'browser' || dc.isOpen() ? 'open' : 'connecting';
    // The order of these registrations matters. node-datachannel gives every callback its own
    // thread-safe function, and libuv runs pending ones in the order they were created. Open comes
    // before message: a browser sends as soon as its channel opens, and a message delivered ahead
    // of the open event found the channel still "connecting" (its echo was refused). Message comes
    // before closed: the closed callback frees the channel and drops messages still queued behind
    // it, so a peer's close() overtook its last data (webrtc-pc §6.2 forbids that).
    dc.onOpen(() => this.#setState('open'));
    dc.onMessage((msg) => {
      if (this.#state === 'closed') return;
      // Data only flows on an open channel, whatever order the callbacks ran in.
      if (this.#state === 'connecting') this.#setState('open');
      const data: ChannelMessage =
        typeof msg === 'string' ? msg : Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
      this.#stats.messagesIn++;
      this.#stats.bytesIn += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      emitSafely(this.log, 'message', () => this.emit('message', data));
      if (this.#inboundWaiters.size > 0 && !this.awaitingInbound) this.#wakeInbound();
    });
    dc.onBufferedAmountLow(() => this.#pump());
    dc.onError((err) => {
      this.log.warn('channel error', { label: this.label, error: err });
      if (this.listenerCount('error') > 0) {
        emitSafely(this.log, 'error', () => this.emit('error', new GatewayError('NATIVE_ERROR', err)));
      }
    });
    // Held until the binding has reported the close (src/nativeRefs.ts).
    hold(dc);
    dc.onClosed(() => {
      release(dc);
      this.#nativeClosed();
      this.#setState('closed');
    });
  }

  /**
   * Notices a close node-datachannel did not report (node-datachannel #211). A browser that closes
   * a channel right after creating or opening it can have it reset between libdatachannel
   * announcing it and our onDataChannel callback running; the binding has no native close handler
   * yet then, and libdatachannel's saved close event is dropped, so onClosed never fires while
   * isOpen() already reads false. PeerSession calls this once its listeners are attached (after
   * onClosed is registered: any later close fires the callback) and then every 500 ms; two closed
   * readings in a row close the channel.
   */
  checkAlive(): void {
    if (this.#state !== 'open') return;
    let open: boolean;
    try {
      open = this.dc.isOpen();
    } catch {
      open = false; // freed natively
    }
    // Two readings in a row (the first may come while libdatachannel is still opening it).
    this.#closedReadings = open ? 0 : this.#closedReadings + 1;
    if (this.#closedReadings >= 2) {
      this.log.warn('channel closed without a close callback', { label: this.label });
      this.#setState('closed');
    }
  }

  /**
   * The SCTP stream id. Read live: a channel created before the connection is up gets its id only
   * once the DTLS role is known (RFC 8832 §6: even for the DTLS client), 65535 until then.
   */
  get id(): number {
    if (this.#state === 'closed') return this.#lastId;
    try {
      this.#lastId = this.dc.getId();
    } catch {
      // a freed channel: keep the last id it had
    }
    return this.#lastId;
  }

  get state(): DataChannelState {
    return this.#state;
  }

  /**
   * Largest message that can be sent or received on this channel: node-datachannel takes the
   * smaller of the two sides' a=max-message-size (RFC 8841 §6), as browsers do for
   * `pc.sctp.maxMessageSize`.
   */
  get maxMessageSize(): number {
    try {
      return this.dc.maxMessageSize();
    } catch {
      return 0;
    }
  }

  /**
   * Bytes queued in node-datachannel and not yet taken by SCTP. The SCTP send buffer in front of
   * it (about 1 MiB) is not counted, so this reads 0 until that buffer is full.
   */
  get bufferedAmount(): number {
    if (this.#state === 'closed') return 0;
    try {
      return this.dc.bufferedAmount();
    } catch {
      return 0;
    }
  }

  get bufferedAmountLowThreshold(): number {
    return this.#lowThreshold;
  }

  set bufferedAmountLowThreshold(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`bufferedAmountLowThreshold must be a byte count, got ${bytes}`);
    }
    this.#lowThreshold = bytes;
    try {
      this.dc.setBufferedAmountLowThreshold(bytes);
    } catch (err) {
      this.log.debug('setBufferedAmountLowThreshold failed', { label: this.label, error: messageOf(err) });
    }
  }

  info(): ChannelInfo {
    return {
      label: this.label,
      id: this.id,
      protocol: this.protocol,
      state: this.#state,
      opener: this.opener,
      ...this.options,
      maxMessageSize: this.maxMessageSize,
      bufferedAmount: this.bufferedAmount,
      ...this.#stats,
    };
  }

  /**
   * Sends like `send()`, then resolves once no more than `highWaterMark` bytes are queued: a loop of
   * `await channel.write(chunk)` streams any amount with bounded memory. Rejects with
   * CHANNEL_NOT_OPEN if the channel closes while it waits (what was queued may be lost then).
   */
  async write(data: ChannelMessage | Uint8Array, highWaterMark = DEFAULT_HIGH_WATER_MARK): Promise<void> {
    if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
      throw new RangeError(`highWaterMark must be a byte count, got ${highWaterMark}`);
    }
    this.send(data);
    if (this.bufferedAmount <= highWaterMark) return;
    await new Promise<void>((resolve, reject) => {
      this.#drainWaiters.add({ limit: highWaterMark, resolve, reject });
      this.#pump();
    });
  }

  /** Sends text as a text message and bytes as a binary message. */
  send(data: ChannelMessage | Uint8Array): void {
    if (this.#state !== 'open') {
      throw new GatewayError('CHANNEL_NOT_OPEN', `channel "${this.label}" is ${this.#state}`);
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    const max = this.maxMessageSize;
    if (max > 0 && size > max) {
      throw new GatewayError(
        'MESSAGE_TOO_LARGE',
        `message of ${size} bytes is over the remote maximum of ${max} bytes`,
      );
    }
    try {
      if (typeof data === 'string') this.dc.sendMessage(data);
      else this.dc.sendMessageBinary(data);
    } catch (err) {
      // node-datachannel can close a channel without calling back (node-datachannel #211): the
      // send is the first to know. Report it as what it is, and close our side.
      if (/DataChannel is closed/i.test(messageOf(err))) {
        this.log.warn('channel found closed on send', { label: this.label });
        this.#setState('closed');
        throw new GatewayError('CHANNEL_NOT_OPEN', `channel "${this.label}" is closed`, { cause: err });
      }
      throw new GatewayError('NATIVE_ERROR', `send on "${this.label}" failed: ${messageOf(err)}`, {
        cause: err,
      });
    }
    this.#stats.messagesOut++;
    this.#stats.bytesOut += size;
    if (!this.#aboveThreshold && this.bufferedAmount > this.#lowThreshold) {
      this.#aboveThreshold = true;
      this.#pump();
    }
  }

  /**
   * The peer said (rtcgate.ctl `close`) that it sent `total` bytes on this channel in all. Until
   * they are in, a session that ends keeps the channel open for them (PeerSession.close()): the
   * peer sent them before it left, and they may still be on the way to JavaScript.
   */
  expectInbound(total: number): void {
    this.#announcedIn = total;
    if (!this.awaitingInbound) this.#wakeInbound();
  }

  /** Bytes the peer announced have not all come yet (and the channel can still bring them). */
  get awaitingInbound(): boolean {
    return (
      this.#state !== 'closed' && this.#announcedIn !== undefined && this.#stats.bytesIn < this.#announcedIn
    );
  }

  /** Resolves when nothing announced is awaited any more (all in, or the channel closed), or after `timeoutMs`. */
  inboundDone(timeoutMs: number): Promise<void> {
    if (!this.awaitingInbound) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#inboundWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.log.warn('announced data did not all come', {
          label: this.label,
          announced: this.#announcedIn,
          received: this.#stats.bytesIn,
        });
        done();
      }, timeoutMs);
      this.#inboundWaiters.add(done);
    });
  }

  #wakeInbound(): void {
    for (const done of [...this.#inboundWaiters]) done();
  }

  close(): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#setState('closing');
    try {
      this.dc.close();
    } catch (err) {
      this.log.debug('close failed', { label: this.label, error: messageOf(err) });
    }
  }

  /** Marks the channel closed when its session goes away (node-datachannel may not say so). */
  markClosed(): void {
    this.#setState('closed');
  }

  /**
   * Re-reads the send buffer: fires bufferedamountlow on a downward crossing of the threshold and
   * resolves write() waiters whose mark is met. Keeps polling while either is pending.
   */
  #pump(): void {
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    if (this.#state === 'closed') return;
    const buffered = this.bufferedAmount;
    if (this.#aboveThreshold && buffered <= this.#lowThreshold) {
      this.#aboveThreshold = false;
      emitSafely(this.log, 'bufferedamountlow', () => this.emit('bufferedamountlow'));
    }
    for (const waiter of this.#drainWaiters) {
      if (buffered <= waiter.limit) {
        this.#drainWaiters.delete(waiter);
        waiter.resolve();
      }
    }
    if (this.#aboveThreshold || this.#drainWaiters.size > 0) {
      this.#drainTimer = setTimeout(() => this.#pump(), DRAIN_POLL_MS);
    }
  }

  // The one place the state changes: repeats ignored, closed is final, each change emitted once.
  #setState(next: DataChannelState): void {
    if (this.#state === next || this.#state === 'closed') return;
    if (next === 'open' && this.#state === 'closing') return;
    this.#state = next;
    if (next === 'open') emitSafely(this.log, 'open', () => this.emit('open'));
    if (next === 'closed') {
      this.#wakeInbound();
      clearTimeout(this.#drainTimer);
      this.#drainTimer = undefined;
      this.#aboveThreshold = false;
      const waiters = [...this.#drainWaiters];
      this.#drainWaiters.clear();
      for (const w of waiters) {
        w.reject(new GatewayError('CHANNEL_NOT_OPEN', `channel "${this.label}" closed while writing`));
      }
      emitSafely(this.log, 'close', () => this.emit('close'));
    }
  }
}
