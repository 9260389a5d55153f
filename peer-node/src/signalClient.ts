/**
 * A Node client of the rtcgate.signal.v1 WebSocket subprotocol. The gateway uses it; so do the
 * server's loopback tests, which is why it depends on nothing of the gateway.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  PROTOCOL,
  decodeServerFrame,
  encode,
  type ClientMessage,
  type Role,
  type ServerMessage,
  type ServerMessageOf,
} from 'rtcgate-server/protocol';
import { maskUrl } from 'rtcgate-server';
import { GatewayError } from './errors.js';

export interface SignalClientEvents {
  message: [ServerMessage];
  close: [code: number, reason: string];
  error: [GatewayError];
}

export class SignalClient extends EventEmitter<SignalClientEvents> {
  readonly #ws: WebSocket;
  #joined: ServerMessageOf<'joined'> | undefined;

  private constructor(ws: WebSocket) {
    super();
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const decoded = decodeServerFrame((data as Buffer).toString('utf8'));
      if (!decoded.ok) {
        // An "error" event without a listener would throw inside ws's message handler.
        if (this.listenerCount('error') > 0) {
          this.emit('error', new GatewayError('SIGNALING_FAILED', `bad server message: ${decoded.message}`));
        }
        return;
      }
      if (decoded.message.type === 'joined') this.#joined = decoded.message;
      this.emit('message', decoded.message);
    });
    ws.on('close', (code, reason) => this.emit('close', code, reason.toString()));
    ws.on('error', (err) => {
      if (this.listenerCount('error') > 0) {
        this.emit('error', new GatewayError('SIGNALING_FAILED', err.message, { cause: err }));
      }
    });
  }

  /** Opens the WebSocket with the subprotocol; rejects with SIGNALING_REFUSED / SIGNALING_FAILED. */
  static connect(url: string, options: { timeoutMs?: number } = {}): Promise<SignalClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, PROTOCOL, { handshakeTimeout: options.timeoutMs ?? 10_000 });
      const onError = (err: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        reject(
          new GatewayError('SIGNALING_FAILED', `cannot reach ${maskUrl(url)}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      ws.once('error', onError);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          ws.removeAllListeners();
          ws.on('error', () => undefined);
          ws.terminate();
          const code = res.headers['x-rtcgate-error'];
          reject(
            new GatewayError(
              'SIGNALING_REFUSED',
              `${maskUrl(url)} refused the connection (${res.statusCode}${typeof code === 'string' ? ` ${code}` : ''}): ${body.trim()}`,
            ),
          );
        });
      });
      ws.once('open', () => {
        ws.off('error', onError);
        if (ws.protocol !== PROTOCOL) {
          ws.terminate();
          reject(new GatewayError('SIGNALING_REFUSED', `server did not accept ${PROTOCOL}`));
          return;
        }
        resolve(new SignalClient(ws));
      });
    });
  }

  get joined(): ServerMessageOf<'joined'> | undefined {
    return this.#joined;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  send(message: ClientMessage): void {
    this.sendRaw(encode(message));
  }

  /** Sends a frame as is: for tests of the server's error handling. */
  sendRaw(frame: string | Buffer): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(frame);
  }

  /** Resolves with the next server message that satisfies `match`. */
  next<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs?: number): Promise<T>;
  next(match?: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  next(match: (m: ServerMessage) => boolean = () => true, timeoutMs = 5000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', onMessage);
        reject(new GatewayError('SIGNALING_FAILED', `no matching signaling message in ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: ServerMessage) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.off('message', onMessage);
        resolve(m);
      };
      this.on('message', onMessage);
    });
  }

  /** Joins and resolves with the server's reply (joined), or rejects with its error. */
  async join(room: string, role: Role, timeoutMs = 5000): Promise<ServerMessageOf<'joined'>> {
    const reply = this.next(
      (m) => m.type === 'joined' || (m.type === 'error' && m.ref === 'join'),
      timeoutMs,
    );
    this.send({ type: 'join', room, role });
    const m = await reply;
    if (m.type !== 'joined') {
      throw new GatewayError(
        'SIGNALING_REFUSED',
        m.type === 'error' ? `${m.code}: ${m.message}` : 'join failed',
      );
    }
    return m;
  }

  close(code = 1000, reason = 'bye'): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      this.#ws.once('close', () => resolve());
      this.#ws.close(code, reason);
      setTimeout(() => this.#ws.terminate(), 2000).unref();
    });
  }

  /** Drops the TCP connection without a close handshake (tests of dead-peer detection). */
  terminate(): void {
    this.#ws.terminate();
  }
}
