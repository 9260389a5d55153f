/**
 * The backend end of a bridge: one connection per channel, to a WebSocket or TCP target, or the
 * gateway's own echo. Each kind turns its connection into the same small interface: messages out
 * (with a callback once the kernel has them), messages in, pause/resume of reading, a graceful end
 * and a hard destroy.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import WebSocket from 'ws';
import { maskUrl } from 'rtcgate-server';
import { messageOf } from './errors.js';
import type { TcpFraming } from './routes.js';

export type BackendMessage = string | Buffer;

export interface BackendEvents {
  message: [BackendMessage];
  /** The connection ended. `error` is set when it ended by an error rather than a close. */
  close: [{ detail: string; error: boolean }];
}

export interface Backend extends EventEmitter<BackendEvents> {
  /**
   * Starts delivering events: until then messages and a close are held, so that nothing the
   * backend sends right after the connect is lost before the bridge listens.
   */
  start(): void;
  /** Queues one message; `flushed` runs once the kernel has taken it. */
  write(data: BackendMessage, flushed: () => void): void;
  pause(): void;
  resume(): void;
  /** Sends what is queued, then closes. */
  end(): void;
  destroy(): void;
}

/** A backend connect that failed: refused, answered with an HTTP error, or timed out. */
export class BackendConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendConnectError';
  }
}

/** Holds events until start(): a connect resolves in a later microtask than the first data. */
abstract class HeldEvents extends EventEmitter<BackendEvents> {
  #held: (() => void)[] | undefined = [];

  start(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const emit of held) emit();
  }

  protected deliver<K extends keyof BackendEvents>(event: K, ...args: BackendEvents[K]): void {
    const emit = () => void (this.emit as (e: K, ...a: BackendEvents[K]) => boolean)(event, ...args);
    if (this.#held) this.#held.push(emit);
    else emit();
  }
}

class WsBackend extends HeldEvents implements Backend {
  constructor(private readonly ws: WebSocket) {
    super();
    let lastError: Error | undefined;
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(new Uint8Array(data));
      this.deliver('message', isBinary ? buf : buf.toString('utf8'));
    });
    ws.on('error', (err) => (lastError = err));
    ws.on('close', (code, reason) => {
      const text = reason.toString('utf8');
      const detail = lastError
        ? `WebSocket failed: ${lastError.message}`
        : `WebSocket closed with ${code}${text ? ` (${text})` : ''}`;
      this.deliver('close', { detail, error: lastError !== undefined || code === 1006 });
    });
  }

  write(data: BackendMessage, flushed: () => void): void {
    this.ws.send(data, { binary: typeof data !== 'string' }, () => flushed());
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000, 'channel closed');
    }
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/**
 * Opens the WebSocket of one channel. The backend learns which channel and browser it serves from
 * two request headers: X-Rtcgate-Label (the label, percent-encoded) and X-Rtcgate-Peer.
 */
export function connectWs(
  url: string,
  timeoutMs: number,
  who: { label: string; peerId: string; maxPayload: number },
): Promise<Backend> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      handshakeTimeout: timeoutMs,
      // A larger message could not be sent on the channel anyway: refuse it before buffering it.
      maxPayload: Math.max(1, who.maxPayload),
      // ws offers permessage-deflate unless told not to. A backend that accepts it would make the
      // gateway compress and inflate every message on its one thread, and hold zlib state per
      // channel that the credit window does not count.
      perMessageDeflate: false,
      headers: { 'X-Rtcgate-Label': encodeURIComponent(who.label), 'X-Rtcgate-Peer': who.peerId },
    });
    const onResponse = (_req: unknown, res: { statusCode?: number }) =>
      fail(`${maskUrl(url)} answered HTTP ${res.statusCode}`);
    const onError = (err: Error) => fail(`${maskUrl(url)}: ${messageOf(err)}`);
    const settle = () => {
      ws.off('unexpected-response', onResponse);
      ws.off('error', onError);
      ws.off('open', onOpen);
    };
    const fail = (message: string) => {
      settle();
      ws.on('error', () => {});
      ws.terminate();
      reject(new BackendConnectError(message));
    };
    const onOpen = () => {
      settle();
      resolve(new WsBackend(ws));
    };
    ws.once('unexpected-response', onResponse);
    ws.once('error', onError);
    ws.once('open', onOpen);
  });
}

/**
 * The gateway's own echo as a backend: what it takes from the browser comes straight back. Run
 * through a Bridge, the echo is metered like any backend: it takes no more while paused (the
 * browser reads slowly), so the browser's credit stops growing and nothing piles up in the gateway.
 */
class EchoBackend extends EventEmitter<BackendEvents> implements Backend {
  #waiting: { data: BackendMessage; flushed: () => void }[] = [];
  #started = false;
  #paused = false;
  #ending = false;
  #closed = false;

  start(): void {
    this.#started = true;
    this.#drain();
  }

  write(data: BackendMessage, flushed: () => void): void {
    if (this.#closed) return;
    this.#waiting.push({ data, flushed });
    this.#drain();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#drain();
  }

  /** What it has taken is echoed first (once it may echo), then it closes. */
  end(): void {
    this.#ending = true;
    this.#drain();
  }

  destroy(): void {
    this.#waiting = [];
    this.#close();
  }

  #drain(): void {
    // Each echo can pause it again (the bridge pauses once 256 KiB wait for the browser).
    while (this.#started && !this.#paused && !this.#closed && this.#waiting.length > 0) {
      const { data, flushed } = this.#waiting.shift()!;
      flushed();
      this.emit('message', data);
    }
    if (this.#ending && this.#waiting.length === 0) this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Later, as a socket's would: the bridge is still inside the call that ended it.
    queueMicrotask(() => this.emit('close', { detail: 'echo ended', error: false }));
  }
}

export function connectEcho(): Promise<Backend> {
  return Promise.resolve(new EchoBackend());
}

/** Longest binary message a raw TCP bridge sends toward the browser. */
export const RAW_CHUNK_BYTES = 64 * 1024;

class TcpBackend extends HeldEvents implements Backend {
  #pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly socket: net.Socket,
    private readonly framing: TcpFraming,
    private readonly maxMessageSize: number,
  ) {
    super();
    let failure: Error | undefined;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => (failure = err));
    socket.on('close', () => {
      const cut = this.#cutFrame();
      const detail = failure
        ? `TCP connection failed: ${failure.message}`
        : cut
          ? `TCP connection closed by the backend in the middle of a frame (${cut})`
          : 'TCP connection closed by the backend';
      this.deliver('close', { detail, error: failure !== undefined || cut !== undefined });
    });
  }

  #onData(chunk: Buffer): void {
    if (this.framing === 'raw') {
      const size = Math.max(1, Math.min(RAW_CHUNK_BYTES, this.maxMessageSize));
      for (let at = 0; at < chunk.length; at += size) this.deliver('message', chunk.subarray(at, at + size));
      return;
    }
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 4) {
      const length = this.#pending.readUInt32BE(0);
      if (length > this.maxMessageSize) {
        this.socket.destroy(
          new Error(
            `frame of ${length} bytes is over the channel's maximum message size (${this.maxMessageSize})`,
          ),
        );
        return;
      }
      if (this.#pending.length < 4 + length) return;
      const frame = Buffer.from(this.#pending.subarray(4, 4 + length));
      this.#pending = this.#pending.subarray(4 + length);
      this.deliver('message', frame);
    }
  }

  /** A length-prefixed frame begun and not finished, described; undefined when there is none. */
  #cutFrame(): string | undefined {
    if (this.framing === 'raw' || this.#pending.length === 0) return undefined;
    if (this.#pending.length < 4) return `${this.#pending.length} of the 4 length bytes`;
    return `${this.#pending.length - 4} of ${this.#pending.readUInt32BE(0)} bytes`;
  }

  write(data: BackendMessage, flushed: () => void): void {
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.framing === 'raw') {
      this.socket.write(payload, () => flushed());
      return;
    }
    const header = Buffer.alloc(4);
    header.writeUInt32BE(payload.length, 0);
    this.socket.write(header);
    this.socket.write(payload, () => flushed());
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function connectTcp(
  target: { host: string; port: number; framing: TcpFraming },
  timeoutMs: number,
  maxMessageSize: number,
): Promise<Backend> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const where = `tcp://${target.host}:${target.port}`;
    const timer = setTimeout(() => fail(`${where}: no connection within ${timeoutMs} ms`), timeoutMs);
    const onError = (err: Error) => fail(`${where}: ${messageOf(err)}`);
    function fail(message: string): void {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      socket.on('error', () => {});
      socket.destroy();
      reject(new BackendConnectError(message));
    }
    function onConnect(): void {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(new TcpBackend(socket, target.framing, maxMessageSize));
    }
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}
