/**
 * The browser's end of the signaling protocol over either transport: a WebSocket speaking the
 * rtcgate.signal.v1 subprotocol, or Socket.IO's /signal namespace. Both deliver the same decoded
 * server messages; frames the server sends are validated with the same schema it uses.
 */
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL,
  decodeServerFrame,
  encode,
  type ClientMessage,
  type ServerMessage,
} from 'rtcgate-server/protocol';
import { RtcgateError } from './errors.js';

export const SIGNAL_TRANSPORTS = ['ws', 'socket.io'] as const;
export type SignalTransport = (typeof SIGNAL_TRANSPORTS)[number];

type Listener = (message: ServerMessage) => void;

export abstract class Signaling {
  abstract readonly transport: SignalTransport;
  #listeners = new Set<Listener>();
  #closeListeners = new Set<(reason: string) => void>();

  /** Sends one protocol message. */
  send(message: ClientMessage): void {
    this.sendRaw(encode(message));
  }

  /** Sends a frame as is (the interop suite uses it to send malformed frames). */
  abstract sendRaw(frame: string | ArrayBuffer): void;
  abstract close(): void;

  onMessage(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Resolves with the next message that matches. */
  next(match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new RtcgateError('SIGNALING_FAILED', `no expected signaling message within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onMessage((m) => {
        if (!match(m)) return;
        clearTimeout(timer);
        off();
        resolve(m);
      });
    });
  }

  protected deliver(frame: unknown): void {
    const decoded = decodeServerFrame(frame);
    if (!decoded.ok) {
      console.warn(`rtcgate: ignoring a server frame: ${decoded.message}`);
      return;
    }
    for (const listener of [...this.#listeners]) listener(decoded.message);
  }

  protected closed(reason: string): void {
    for (const listener of [...this.#closeListeners]) listener(reason);
    this.#closeListeners.clear();
  }
}

class WsSignaling extends Signaling {
  readonly transport = 'ws' as const;
  constructor(private readonly ws: WebSocket) {
    super();
    ws.addEventListener('message', (e: MessageEvent) => this.deliver(e.data));
    ws.addEventListener('close', (e: CloseEvent) => this.closed(e.reason || `closed (${e.code})`));
  }
  sendRaw(frame: string | ArrayBuffer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }
  close(): void {
    this.ws.close(1000, 'bye');
  }
}

class SocketIoSignaling extends Signaling {
  readonly transport = 'socket.io' as const;
  constructor(private readonly socket: Socket) {
    super();
    socket.on('signal', (text: unknown) => this.deliver(text));
    socket.on('disconnect', (reason) => this.closed(reason));
  }
  sendRaw(frame: string | ArrayBuffer): void {
    this.socket.emit('signal', frame);
  }
  close(): void {
    this.socket.disconnect();
  }
}

/** Where the server is: the page's own origin by default. */
export function defaultServerUrl(): string {
  return location.origin;
}

export function openSignaling(
  transport: SignalTransport,
  serverUrl: string = defaultServerUrl(),
  timeoutMs = 10_000,
): Promise<Signaling> {
  const base = new URL(serverUrl);
  if (transport === 'ws') {
    const url = new URL('/signal', base);
    url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url.href, PROTOCOL);
      const timer = setTimeout(() => {
        ws.close();
        reject(new RtcgateError('SIGNALING_FAILED', `no WebSocket to ${url.href} within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        if (ws.protocol !== PROTOCOL) {
          ws.close();
          reject(new RtcgateError('SIGNALING_REFUSED', `server did not select ${PROTOCOL}`));
          return;
        }
        resolve(new WsSignaling(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new RtcgateError('SIGNALING_FAILED', `WebSocket to ${url.href} failed`));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const socket = io(new URL('/signal', base).href, {
      auth: { protocol: PROTOCOL },
      reconnection: false,
      timeout: timeoutMs,
    });
    socket.once('connect', () => resolve(new SocketIoSignaling(socket)));
    socket.once('connect_error', (err: Error) => {
      socket.close();
      const refused = err.message.startsWith('SUBPROTOCOL_REQUIRED');
      reject(new RtcgateError(refused ? 'SIGNALING_REFUSED' : 'SIGNALING_FAILED', err.message));
    });
  });
}
