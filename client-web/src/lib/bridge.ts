/**
 * Channels to the gateway's bridged routes, with backpressure both ways (docs/bridges.md) and the
 * reason the gateway closed a channel. The browser's end of rtcgate.ctl.v1 (docs/protocol.md,
 * "Channel control"): one control channel per connection carries credit grants and close reasons.
 */
import {
  CONTROL_LABEL,
  CONTROL_PROTOCOL,
  decodeControl,
  encodeControl,
  type ChannelCloseCode,
  type ControlMessage,
} from 'rtcgate-server/protocol';
import { RtcgateError } from './errors.js';

export type BridgeMessage = string | ArrayBuffer;

/** How a bridged channel ended: `code` is the gateway's reason, or null when this page closed it. */
export interface BridgeEnd {
  code: ChannelCloseCode | null;
  message: string;
}

export interface BridgeOptions {
  /** Bytes the gateway may send ahead of what this page has read (default 1 MiB). */
  window?: number;
  /** Most bytes queued in the channel's send buffer before send() waits (default 1 MiB). */
  highWaterMark?: number;
  /** Reliability of the channel (RTCDataChannelInit). */
  init?: RTCDataChannelInit;
  timeoutMs?: number;
}

const DEFAULT_WINDOW = 1024 * 1024;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** How long a closed channel waits for the gateway's reason (it travels on another stream). */
const REASON_WAIT_MS = 1000;
const encoder = new TextEncoder();

function sizeOf(data: string | ArrayBuffer | ArrayBufferView): number {
  return typeof data === 'string' ? encoder.encode(data).byteLength : data.byteLength;
}

/** The control channel of one connection. */
export class ControlChannel {
  readonly #credit = new Map<number, (upTo: number) => void>();
  readonly #reasons = new Map<number, { code: ChannelCloseCode; message: string }>();
  readonly #reasonWaiters = new Map<number, Set<() => void>>();

  private constructor(readonly channel: RTCDataChannel) {
    channel.addEventListener('message', (ev: MessageEvent) => this.#onMessage(ev.data));
  }

  static open(pc: RTCPeerConnection, timeoutMs: number): Promise<ControlChannel> {
    const channel = pc.createDataChannel(CONTROL_LABEL, { protocol: CONTROL_PROTOCOL });
    // Listening from the start: a browser may deliver a message that arrives right after the open
    // before its own open event has run our handler.
    const control = new ControlChannel(channel);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RtcgateError('CHANNEL_TIMEOUT', `control channel not open within ${timeoutMs} ms`));
      }, timeoutMs);
      channel.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(control);
      });
      channel.addEventListener('close', () => {
        clearTimeout(timer);
        reject(new RtcgateError('CLOSED', 'control channel closed before it opened'));
      });
    });
  }

  send(message: ControlMessage): void {
    if (this.channel.readyState === 'open') this.channel.send(encodeControl(message));
  }

  /**
   * Credit the gateway grants on channel `id` goes to `listener` (one per id). A reason kept for an
   * earlier channel on the same stream id is dropped: ids are reused.
   */
  onCredit(id: number, listener: (upTo: number) => void): () => void {
    this.#reasons.delete(id);
    this.#credit.set(id, listener);
    return () => {
      if (this.#credit.get(id) === listener) this.#credit.delete(id);
    };
  }

  /** The gateway's reason for closing channel `id`, waiting up to `waitMs` for it to arrive. */
  async reasonFor(
    id: number,
    waitMs = REASON_WAIT_MS,
  ): Promise<{ code: ChannelCloseCode; message: string } | undefined> {
    if (!this.#reasons.has(id) && this.channel.readyState === 'open') {
      await new Promise<void>((resolve) => {
        const waiters = this.#reasonWaiters.get(id) ?? new Set();
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        waiters.add(done);
        this.#reasonWaiters.set(id, waiters);
      });
    }
    const reason = this.#reasons.get(id);
    this.#reasons.delete(id);
    return reason;
  }

  #onMessage(data: unknown): void {
    const decoded = decodeControl(data);
    if (!decoded.ok) return; // a newer gateway's message this library does not know
    const m = decoded.message;
    if (m.t === 'ping') {
      // The gateway watches the association by these (protocol.md, "Liveness"): answer at once.
      this.send({ t: 'pong', n: m.n });
      return;
    }
    if (m.t === 'credit') {
      this.#credit.get(m.id)?.(m.upTo);
      return;
    }
    if (m.t !== 'reason') return; // `close` and `pong` go the other way
    this.#reasons.set(m.id, { code: m.code, message: m.message });
    for (const done of this.#reasonWaiters.get(m.id) ?? []) done();
  }
}

/**
 * A channel to a bridged route. `send()` resolves once the message is handed to the channel,
 * waiting for the gateway's credit and for room in the send buffer: a loop of `await send()`
 * goes as fast as the backend takes data. `read()` (or `for await`) takes messages in order and
 * grants the gateway credit as they are read: a page that reads slowly slows the backend.
 */
export class BridgeChannel {
  readonly #window: number;
  readonly #highWaterMark: number;
  #queue: BridgeMessage[] = [];
  #readers: ((m: BridgeMessage | null) => void)[] = [];
  #read = 0;
  #granted = 0;
  #sent = 0;
  #credit = 0;
  #creditWaiters = new Set<() => void>();
  #ended = false;
  #closedByPage = false;
  #stopCredit: () => void;
  /** Resolves when the channel has closed, with the gateway's reason if it gave one. */
  readonly closed: Promise<BridgeEnd>;

  constructor(
    readonly channel: RTCDataChannel,
    private readonly control: ControlChannel,
    options: BridgeOptions = {},
  ) {
    this.#window = options.window ?? DEFAULT_WINDOW;
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = this.#highWaterMark / 2;
    const id = channel.id!;
    this.#stopCredit = control.onCredit(id, (upTo) => {
      if (upTo <= this.#credit) return;
      this.#credit = upTo;
      this.#wake();
    });
    channel.addEventListener('message', (ev: MessageEvent) => {
      const data = ev.data as BridgeMessage;
      const reader = this.#readers.shift();
      if (reader) {
        this.#consumed(data);
        reader(data);
      } else this.#queue.push(data);
    });
    channel.addEventListener('bufferedamountlow', () => this.#wake());
    this.closed = new Promise((resolve) => {
      channel.addEventListener('close', () => {
        this.#ended = true;
        this.#stopCredit();
        this.#wake();
        for (const reader of this.#readers.splice(0)) reader(null);
        if (this.#closedByPage) {
          resolve({ code: null, message: 'closed by the page' });
          return;
        }
        void control
          .reasonFor(id)
          .then((reason) =>
            resolve(
              reason ?? { code: null, message: 'the channel closed without a reason from the gateway' },
            ),
          );
      });
    });
    // Asks the gateway to meter this channel, and lets it send a window's worth.
    this.#grant(this.#window);
  }

  get label(): string {
    return this.channel.label;
  }

  /** Where the channel stands: bytes sent against the gateway's credit, read against our grants. */
  info(): {
    sent: number;
    credit: number;
    read: number;
    granted: number;
    queued: number;
    bufferedAmount: number;
    readyState: RTCDataChannelState;
  } {
    return {
      sent: this.#sent,
      credit: this.#credit,
      read: this.#read,
      granted: this.#granted,
      queued: this.#queue.length,
      bufferedAmount: this.channel.bufferedAmount,
      readyState: this.channel.readyState,
    };
  }

  /** Sends one message once there is credit and room; rejects with CLOSED if the channel closes. */
  async send(data: string | ArrayBuffer | ArrayBufferView<ArrayBuffer>): Promise<void> {
    while (
      !this.#ended &&
      (this.#sent >= this.#credit || this.channel.bufferedAmount > this.#highWaterMark)
    ) {
      await new Promise<void>((resolve) => this.#creditWaiters.add(resolve));
    }
    if (this.#ended || this.channel.readyState !== 'open') {
      throw new RtcgateError('CLOSED', `channel "${this.label}" is closed`);
    }
    if (typeof data === 'string') this.channel.send(data);
    else if (data instanceof ArrayBuffer) this.channel.send(data);
    else this.channel.send(data);
    // Counted once sent: a send that throws (too large, closed) leaves the credit as it was.
    this.#sent += sizeOf(data);
  }

  /** The next message, or null once the channel has closed and everything was read. */
  read(): Promise<BridgeMessage | null> {
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#consumed(next);
      return Promise.resolve(next);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<BridgeMessage> {
    for (;;) {
      const m = await this.read();
      if (m === null) return;
      yield m;
    }
  }

  /**
   * Closes the channel; what was sent is still delivered. The gateway is also told on the control
   * channel how many bytes were sent in all, so that it ends the backend connection once they have
   * arrived even if the channel's SCTP stream reset is late or lost.
   */
  close(): void {
    if (!this.#ended && !this.#closedByPage && this.channel.readyState === 'open') {
      this.control.send({ t: 'close', id: this.channel.id!, label: this.label, sent: this.#sent });
    }
    this.#closedByPage = true;
    this.channel.close();
  }

  #consumed(data: BridgeMessage): void {
    this.#read += sizeOf(data);
    const upTo = this.#read + this.#window;
    // No grants once closed: the stream id may already belong to a new channel.
    if (!this.#ended && upTo - this.#granted >= this.#window / 4) this.#grant(upTo);
  }

  #grant(upTo: number): void {
    this.#granted = upTo;
    this.control.send({ t: 'credit', id: this.channel.id!, upTo });
  }

  #wake(): void {
    const waiters = [...this.#creditWaiters];
    this.#creditWaiters.clear();
    for (const w of waiters) w();
  }
}
