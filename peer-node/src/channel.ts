/**
 * One DataChannel of a session, as the gateway's handlers see it: typed events, typed errors,
 * W3C state names (webrtc-pc §6.2 RTCDataChannelState), and no node-datachannel exception escapes.
 */
import { EventEmitter } from 'node:events';
import type { DataChannel } from 'node-datachannel';
import { emitSafely, GatewayError, messageOf } from './errors.js';
import type { Logger } from 'rtcgate-server';

export const DATA_CHANNEL_STATES = ['connecting', 'open', 'closing', 'closed'] as const;
export type DataChannelState = (typeof DATA_CHANNEL_STATES)[number];

export type ChannelMessage = string | Buffer;

export interface ChannelEvents {
  open: [];
  message: [ChannelMessage];
  close: [];
  error: [GatewayError];
}

export interface ChannelInfo {
  label: string;
  id: number;
  protocol: string;
  state: DataChannelState;
  opener: 'browser' | 'gateway';
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export class GatewayChannel extends EventEmitter<ChannelEvents> {
  readonly label: string;
  readonly id: number;
  readonly protocol: string;
  #state: DataChannelState;
  #stats = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };

  constructor(
    readonly dc: DataChannel,
    readonly opener: 'browser' | 'gateway',
    private readonly log: Logger,
  ) {
    super();
    this.label = dc.getLabel();
    this.id = dc.getId();
    this.protocol = dc.getProtocol();
    // Channels announced by the remote side (onDataChannel) are already open.
    this.#state = dc.isOpen() ? 'open' : 'connecting';
    dc.onOpen(() => this.#setState('open'));
    dc.onClosed(() => this.#setState('closed'));
    dc.onError((err) => {
      this.log.warn('channel error', { label: this.label, error: err });
      if (this.listenerCount('error') > 0) {
        emitSafely(this.log, 'error', () => this.emit('error', new GatewayError('NATIVE_ERROR', err)));
      }
    });
    dc.onMessage((msg) => {
      if (this.#state === 'closed') return;
      const data: ChannelMessage =
        typeof msg === 'string' ? msg : Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
      this.#stats.messagesIn++;
      this.#stats.bytesIn += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      emitSafely(this.log, 'message', () => this.emit('message', data));
    });
  }

  get state(): DataChannelState {
    return this.#state;
  }

  /** Largest message the remote side accepts (its a=max-message-size, RFC 8841 §6). */
  get maxMessageSize(): number {
    try {
      return this.dc.maxMessageSize();
    } catch {
      return 0;
    }
  }

  get bufferedAmount(): number {
    try {
      return this.dc.bufferedAmount();
    } catch {
      return 0;
    }
  }

  info(): ChannelInfo {
    return {
      label: this.label,
      id: this.id,
      protocol: this.protocol,
      state: this.#state,
      opener: this.opener,
      ...this.#stats,
    };
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
      throw new GatewayError('NATIVE_ERROR', `send on "${this.label}" failed: ${messageOf(err)}`, {
        cause: err,
      });
    }
    this.#stats.messagesOut++;
    this.#stats.bytesOut += size;
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

  // The one place the state changes: repeats ignored, closed is final, each change emitted once.
  #setState(next: DataChannelState): void {
    if (this.#state === next || this.#state === 'closed') return;
    if (next === 'open' && this.#state === 'closing') return;
    this.#state = next;
    if (next === 'open') emitSafely(this.log, 'open', () => this.emit('open'));
    if (next === 'closed') emitSafely(this.log, 'close', () => this.emit('close'));
  }
}
