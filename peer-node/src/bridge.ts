/**
 * One DataChannel carried to one backend connection, with backpressure both ways and nothing
 * accepted lost on a close (docs/bridges.md).
 *
 * node-datachannel cannot stop reading a channel: every message is queued to JavaScript as it
 * arrives. So the browser is slowed by credit instead (rtcgate.ctl.v1): the gateway lets the
 * browser have sent at most `window` bytes more than the backend's kernel has taken, and grants
 * more as the backend reads. The other way, a browser that reads slowly grants slowly, and the
 * bridge stops reading the backend while it has no credit to send with. A channel whose browser
 * does not meter it (no rtcgate library) is bounded by closing it once `unmeteredLimit` bytes wait.
 */
import type { ChannelCloseCode, Logger } from 'rtcgate-server';
import type { Backend, BackendMessage } from './backends.js';
import type { ChannelMessage, GatewayChannel } from './channel.js';
import type { ChannelControl } from './channelControl.js';
import { GatewayError, messageOf } from './errors.js';

export interface BridgeOptions {
  /** Bytes the browser may send ahead of what the backend has taken (default 1 MiB). */
  window?: number;
  /** For unmetered channels: close once this many bytes wait for the backend (default 8 MiB). */
  unmeteredLimit?: number;
  /** Longest a backend connect may take (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Told each time backpressure holds one side: `to_browser` when the backend is paused because
   * the browser reads slowly, `from_browser` when the browser has used up its credit because the
   * backend takes slowly (the gateway's metrics count these).
   */
  onPause?: (direction: 'to_browser' | 'from_browser') => void;
}

export interface BridgeInfo {
  label: string;
  id: number;
  metered: boolean;
  /** Bytes from the browser: received, taken by the backend's kernel, and granted (upTo). */
  fromBrowser: { received: number; flushed: number; granted: number };
  /** Bytes to the browser: sent, the browser's credit, waiting in the gateway; reading paused. */
  toBrowser: { sent: number; credit: number; queued: number; backendPaused: boolean };
  ending: ChannelCloseCode | null;
  backendConnected: boolean;
  backendClosed: boolean;
}

export const DEFAULT_WINDOW = 1024 * 1024;
export const DEFAULT_UNMETERED_LIMIT = 8 * 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Toward the browser: what may sit in the channel's send buffer before the bridge waits. */
const SEND_BUFFER_MARK = 256 * 1024;
/** Toward the browser: the backend is paused while this much waits for credit or buffer room. */
const PAUSE_BACKEND_AT = 256 * 1024;

function sizeOf(data: ChannelMessage | BackendMessage): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

export class Bridge {
  readonly #window: number;
  readonly #unmeteredLimit: number;
  readonly #id: number;
  #backend: Backend | undefined;
  /** Browser → backend: received before the backend connected. */
  #early: ChannelMessage[] = [];
  #received = 0;
  #flushed = 0;
  #granted = 0;
  /** The browser has sent up to its credit and waits for a grant. */
  #browserHeld = false;
  readonly #onPause: BridgeOptions['onPause'];
  #metered = false;
  /** Backend → browser. */
  #toBrowser: BackendMessage[] = [];
  #toBrowserBytes = 0;
  #sent = 0;
  #browserCredit = 0;
  #backendPaused = false;
  /** Set once the bridge is ending: the reason the browser is told, unless the browser ended it. */
  #ending: { code: ChannelCloseCode; message: string } | undefined;
  #channelClosed = false;
  /** The browser announced (rtcgate.ctl `close`) how many bytes it sent before closing. */
  #browserClosing = false;
  /** The channel's close was asked for (with its reason sent); its close event may still come. */
  #closing = false;
  #backendClosed = false;
  #resolveDone!: () => void;
  /** Resolves when both the channel and the backend connection are closed. */
  readonly done = new Promise<void>((resolve) => (this.#resolveDone = resolve));

  constructor(
    private readonly channel: GatewayChannel,
    connect: () => Promise<Backend>,
    private readonly control: ChannelControl | undefined,
    private readonly log: Logger,
    options: BridgeOptions = {},
  ) {
    this.#window = options.window ?? DEFAULT_WINDOW;
    this.#onPause = options.onPause;
    this.#unmeteredLimit = options.unmeteredLimit ?? DEFAULT_UNMETERED_LIMIT;
    this.#id = channel.id;
    channel.bufferedAmountLowThreshold = SEND_BUFFER_MARK;
    channel.on('message', (data) => this.#fromBrowser(data));
    channel.on('bufferedamountlow', () => this.#pumpToBrowser());
    channel.on('close', () => this.#onChannelClose());
    control?.bind(
      channel,
      (upTo) => this.#onCredit(upTo),
      (sent) => this.#onBrowserClosing(sent),
    );
    connect()
      .then(
        (backend) => this.#onConnected(backend),
        (err: unknown) => {
          this.#backendClosed = true;
          this.#end('BACKEND_UNREACHABLE', messageOf(err));
          this.#checkDone();
        },
      )
      .catch((err: unknown) =>
        this.log.error('bridge failed', { label: channel.label, error: messageOf(err) }),
      );
  }

  /** Where the bridge stands, both ways (for status pages and diagnostics). */
  info(): BridgeInfo {
    return {
      label: this.channel.label,
      id: this.#id,
      metered: this.#metered,
      fromBrowser: { received: this.#received, flushed: this.#flushed, granted: this.#granted },
      toBrowser: {
        sent: this.#sent,
        credit: this.#browserCredit,
        queued: this.#toBrowserBytes,
        backendPaused: this.#backendPaused,
      },
      ending: this.#ending?.code ?? null,
      backendConnected: this.#backend !== undefined,
      backendClosed: this.#backendClosed,
    };
  }

  /** Gateway shutdown: the backend is asked to end; what it sent is delivered; then the channel closes. */
  shutdown(): void {
    // A backend still connecting has sent nothing: the channel need not wait for it.
    if (!this.#backend) this.#backendClosed = true;
    this.#end('GATEWAY_SHUTDOWN', 'the gateway is shutting down');
  }

  /**
   * Last resort after shutdown's grace: both ends go now. The browser is still told why (what the
   * backend had not sent by then is lost, and the reason says the gateway shut down).
   */
  destroy(): void {
    this.#ending ??= { code: 'GATEWAY_SHUTDOWN', message: 'the gateway is shutting down' };
    this.#toBrowser = [];
    this.#toBrowserBytes = 0;
    this.#backend?.destroy();
    this.#closeChannel();
  }

  #onConnected(backend: Backend): void {
    this.#backend = backend;
    backend.on('message', (data) => this.#fromBackend(data));
    backend.on('close', ({ detail, error }) => {
      this.#backendClosed = true;
      this.#end(error ? 'BACKEND_ERROR' : 'BACKEND_CLOSED', detail);
      this.#pumpToBrowser();
      this.#checkDone();
    });
    backend.start();
    for (const m of this.#early) this.#toBackend(m);
    this.#early = [];
    if (this.#channelClosed || this.#ending) {
      // The browser went, or the bridge ended, while the backend was connecting: hand over what
      // the browser sent, then end.
      backend.end();
      return;
    }
    this.#maybeGrant();
  }

  // Browser → backend.

  #fromBrowser(data: ChannelMessage): void {
    // After the browser's announced close: more than it said it sent (its backend has had its end).
    if (this.#channelClosed) return;
    const size = sizeOf(data);
    this.#received += size;
    if (this.#metered) {
      // A sender may start a message while under its credit, so it can pass it by one message.
      if (this.#received > this.#granted + this.channel.maxMessageSize) {
        this.#violation(`received ${this.#received} bytes against a credit of ${this.#granted}`);
        return;
      }
      if (!this.#browserHeld && this.#received >= this.#granted) {
        this.#browserHeld = true;
        this.#onPause?.('from_browser');
      }
    } else if (this.#received - this.#flushed > this.#unmeteredLimit) {
      this.#violation(
        `${this.#received - this.#flushed} bytes wait for the backend on a channel without credit ` +
          '(open it with the rtcgate browser library to be slowed down instead)',
      );
      return;
    }
    if (this.#backend) this.#toBackend(data);
    else this.#early.push(data);
    this.#checkBrowserClosed();
  }

  /**
   * The browser announced its close on the control channel. The channel is treated as closed once
   * everything it sent has arrived, without waiting for the SCTP stream reset, which has been seen
   * not to arrive (docs/interop.md, "Bridges").
   */
  #onBrowserClosing(sent: number): void {
    this.#browserClosing = true;
    // The channel counts what came against it; a session that ends now still waits for the rest.
    this.channel.expectInbound(sent);
    this.#checkBrowserClosed();
  }

  #checkBrowserClosed(): void {
    if (!this.#browserClosing || this.#channelClosed || this.channel.awaitingInbound) return;
    this.log.debug('browser closed the channel (control)', { label: this.channel.label });
    this.channel.close();
    this.#onChannelClose();
  }

  #toBackend(data: ChannelMessage): void {
    const size = sizeOf(data);
    this.#backend!.write(data, () => {
      this.#flushed += size;
      this.#maybeGrant();
    });
  }

  #maybeGrant(): void {
    if (!this.#metered || !this.#backend || this.#ending || this.#channelClosed) return;
    const upTo = this.#flushed + this.#window;
    // Grant in steps of a quarter window: often enough to keep the pipe full, rarely enough to
    // keep control traffic small.
    if (this.#granted === 0 || upTo - this.#granted >= this.#window / 4) {
      this.#granted = upTo;
      this.#browserHeld = false;
      this.control?.grant(this.#id, upTo);
    }
  }

  #violation(detail: string): void {
    this.log.warn('channel sent past its credit; closing it', { label: this.channel.label, detail });
    this.#early = [];
    // The backend is cut, not ended: what waits for it is dropped (it came past the limit).
    if (this.#backend) this.#backend.destroy();
    else this.#backendClosed = true;
    this.#end('CREDIT_EXCEEDED', detail);
  }

  // Backend → browser.

  #onCredit(upTo: number): void {
    if (!this.#metered) {
      this.#metered = true;
      this.#maybeGrant();
    }
    if (upTo > this.#browserCredit) this.#browserCredit = upTo;
    this.#pumpToBrowser();
  }

  #fromBackend(data: BackendMessage): void {
    if (this.#channelClosed) return;
    this.#toBrowser.push(data);
    this.#toBrowserBytes += sizeOf(data);
    this.#pumpToBrowser();
  }

  #pumpToBrowser(): void {
    while (this.#toBrowser.length > 0 && !this.#channelClosed) {
      if (this.#metered && this.#sent >= this.#browserCredit) break;
      if (this.channel.bufferedAmount > SEND_BUFFER_MARK) break;
      const data = this.#toBrowser.shift()!;
      const size = sizeOf(data);
      this.#toBrowserBytes -= size;
      try {
        this.channel.send(data);
      } catch (err) {
        if (err instanceof GatewayError && err.code === 'CHANNEL_NOT_OPEN') return;
        // MESSAGE_TOO_LARGE: a backend message the browser cannot take. What came after it is
        // dropped with it (delivering it would leave a gap the browser cannot see).
        this.#toBrowser = [];
        this.#toBrowserBytes = 0;
        this.#backend?.destroy();
        this.#end('BACKEND_ERROR', messageOf(err));
        return;
      }
      this.#sent += size;
    }
    const waiting = this.#toBrowserBytes;
    if (!this.#backendPaused && waiting > PAUSE_BACKEND_AT) {
      this.#backendPaused = true;
      this.#backend?.pause();
      this.#onPause?.('to_browser');
    } else if (this.#backendPaused && waiting <= PAUSE_BACKEND_AT / 2) {
      this.#backendPaused = false;
      this.#backend?.resume();
    }
    // The channel closes once the backend is gone and everything it sent is out: a backend that
    // is asked to end (shutdown) still delivers what it sent before its close.
    if (this.#ending && this.#toBrowser.length === 0 && this.#backendClosed) this.#closeChannel();
  }

  // Ends.

  /**
   * The bridge ends for `code`: the backend is asked to end if it has not, what it sends until
   * then still goes to the browser, and the channel closes after it.
   */
  #end(code: ChannelCloseCode, message: string): void {
    if (this.#ending || this.#channelClosed) return;
    this.#ending = { code, message };
    this.log.info('bridge ending', { label: this.channel.label, code, detail: message });
    if (!this.#backendClosed) this.#backend?.end();
    this.#pumpToBrowser();
  }

  #closeChannel(): void {
    if (this.#channelClosed || this.#closing || !this.#ending) return;
    this.#closing = true;
    this.control?.reason(this.#id, this.#ending.code, this.#ending.message);
    this.channel.close();
  }

  #onChannelClose(): void {
    // Once: the control channel's close may come first, the channel's own close event after it.
    if (this.#channelClosed) return;
    this.#channelClosed = true;
    this.#toBrowser = [];
    this.#toBrowserBytes = 0;
    // A backend paused for a slow reader must be read again, or its close is never seen.
    if (this.#backendPaused) {
      this.#backendPaused = false;
      this.#backend?.resume();
    }
    // The browser closed (or the session ended): the backend gets what was accepted, then an end.
    if (this.#backend && !this.#backendClosed) this.#backend.end();
    this.#checkDone();
  }

  #checkDone(): void {
    if (this.#channelClosed && this.#backendClosed) this.#resolveDone();
  }
}
