/**
 * The browser's end of the signaling protocol over either transport: a WebSocket speaking an
 * rtcgate.signal subprotocol, or Socket.IO's /signal namespace. Both deliver the same decoded
 * server messages; frames the server sends are validated with the same schema it uses.
 *
 * openSignaling() is one connection for one peer (rtcgate.signal.v1). SharedSignaling is one
 * connection for many peers of a page (rtcgate.signal.v2): a browser opens WebSockets to one host
 * one at a time (RFC 6455 §4.1), so a page that starts many connections at once should share one.
 */
import { io } from 'socket.io-client';
import {
  PROTOCOL,
  PROTOCOL_V2,
  decodeServerFrame,
  encode,
  type ClientMessage,
  type ProtocolName,
  type Role,
  type ServerMessage,
  type ServerMessageOf,
  type ServerMessageV2,
} from 'rtcgate-server/protocol';
import { RtcgateError } from './errors.js';

export const SIGNAL_TRANSPORTS = ['ws', 'socket.io'] as const;
export type SignalTransport = (typeof SIGNAL_TRANSPORTS)[number];

type Listener = (message: ServerMessage) => void;

export abstract class Signaling {
  abstract readonly transport: SignalTransport;
  #listeners = new Set<Listener>();
  #closeListeners = new Set<(reason: string) => void>();
  #closedReason: string | undefined;

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
  /**
   * Resolves with the next message that matches. Rejects with SIGNALING_FAILED after `timeoutMs`,
   * and with CLOSED as soon as the signaling connection is gone (or if it already is).
   */
  next(match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    if (this.#closedReason !== undefined) {
      return Promise.reject(new RtcgateError('CLOSED', `signaling closed: ${this.#closedReason}`));
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        off();
        offClose();
      };
      const timer = setTimeout(() => {
        done();
        reject(new RtcgateError('SIGNALING_FAILED', `no expected signaling message within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onMessage((m) => {
        if (!match(m)) return;
        done();
        resolve(m);
      });
      const offClose = this.onClose((reason) => {
        done();
        reject(new RtcgateError('CLOSED', `signaling closed: ${reason}`));
      });
    });
  }

  /** Why the signaling connection ended; undefined while it is open. */
  get closedReason(): string | undefined {
    return this.#closedReason;
  }

  protected deliver(frame: unknown): void {
    const decoded = decodeServerFrame(frame);
    if (!decoded.ok) {
      console.warn(`rtcgate: ignoring a server frame: ${decoded.message}`);
      return;
    }
    this.dispatch(decoded.message);
  }

  protected dispatch(message: ServerMessage): void {
    for (const listener of [...this.#listeners]) listener(message);
  }

  protected closed(reason: string): void {
    this.#closedReason ??= reason;
    for (const listener of [...this.#closeListeners]) listener(reason);
    this.#closeListeners.clear();
  }
}

/** One open signaling socket of either transport: frames out, frames and the end in (handlers). */
interface Wire {
  readonly transport: SignalTransport;
  send(frame: string | ArrayBuffer): void;
  close(): void;
}

interface WireHandlers {
  frame(data: unknown): void;
  closed(reason: string): void;
}

/** Opens a socket to the server's /signal speaking `protocol`; handlers get every frame from the start. */
function openWire(
  transport: SignalTransport,
  serverUrl: string,
  timeoutMs: number,
  protocol: ProtocolName,
  handlers: WireHandlers,
): Promise<Wire> {
  const base = new URL(serverUrl);
  if (transport === 'ws') {
    const url = new URL('/signal', base);
    url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url.href, protocol);
      const timer = setTimeout(() => {
        ws.close();
        reject(new RtcgateError('SIGNALING_FAILED', `no WebSocket to ${url.href} within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.addEventListener('message', (e: MessageEvent) => handlers.frame(e.data));
      ws.addEventListener('close', (e: CloseEvent) => handlers.closed(e.reason || `closed (${e.code})`));
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        if (ws.protocol !== protocol) {
          ws.close();
          reject(new RtcgateError('SIGNALING_REFUSED', `server did not select ${protocol}`));
          return;
        }
        resolve({
          transport,
          send: (frame) => {
            if (ws.readyState === WebSocket.OPEN) ws.send(frame);
          },
          close: () => ws.close(1000, 'bye'),
        });
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new RtcgateError('SIGNALING_FAILED', `WebSocket to ${url.href} failed`));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const socket = io(new URL('/signal', base).href, {
      auth: { protocol },
      reconnection: false,
      timeout: timeoutMs,
    });
    socket.on('signal', (text: unknown) => handlers.frame(text));
    socket.on('disconnect', (reason) => handlers.closed(reason));
    socket.once('connect', () =>
      resolve({
        transport,
        // Socket.IO buffers what is emitted while disconnected, for good without reconnection.
        send: (frame) => {
          if (socket.connected) socket.emit('signal', frame);
        },
        close: () => void socket.disconnect(),
      }),
    );
    socket.once('connect_error', (err: Error) => {
      socket.close();
      const refused = err.message.startsWith('SUBPROTOCOL_REQUIRED');
      reject(new RtcgateError(refused ? 'SIGNALING_REFUSED' : 'SIGNALING_FAILED', err.message));
    });
  });
}

/** A connection of its own (rtcgate.signal.v1). */
class WireSignaling extends Signaling {
  #wire: Wire | undefined;
  constructor(readonly transport: SignalTransport) {
    super();
  }
  attach(wire: Wire): void {
    this.#wire = wire;
  }
  receive(frame: unknown): void {
    this.deliver(frame);
  }
  ended(reason: string): void {
    this.closed(reason);
  }
  sendRaw(frame: string | ArrayBuffer): void {
    this.#wire?.send(frame);
  }
  close(): void {
    this.#wire?.close();
  }
}

/** Where the server is: the page's own origin by default. */
export function defaultServerUrl(): string {
  return location.origin;
}

export async function openSignaling(
  transport: SignalTransport,
  serverUrl: string = defaultServerUrl(),
  timeoutMs = 10_000,
): Promise<Signaling> {
  const signaling = new WireSignaling(transport);
  const wire = await openWire(transport, serverUrl, timeoutMs, PROTOCOL, {
    frame: (data) => signaling.receive(data),
    closed: (reason) => signaling.ended(reason),
  });
  signaling.attach(wire);
  return signaling;
}

export type JoinedMessage = ServerMessageOf<'joined'> | Extract<ServerMessageV2, { type: 'joined' }>;

/** A join waiting for its answer; the server answers joins in the order they were sent. */
interface PendingJoin {
  settle(reply: Extract<ServerMessageV2, { type: 'joined' | 'error' }>): void;
  fail(err: RtcgateError): void;
}

/**
 * One signaling connection (rtcgate.signal.v2) shared by many peers of this page: each join() is one
 * more peer, with a Signaling of its own that GatewayConnection.connect() takes as `signaling`.
 * Closing a peer's Signaling makes that peer leave; close() ends the connection and every peer.
 */
export class SharedSignaling {
  #wire: Wire | undefined;
  #peers = new Map<string, PeerSignaling>();
  #joins: PendingJoin[] = [];
  #closeReason: string | undefined;

  private constructor(readonly transport: SignalTransport) {}

  static async open(
    transport: SignalTransport = 'ws',
    serverUrl: string = defaultServerUrl(),
    timeoutMs = 10_000,
  ): Promise<SharedSignaling> {
    const shared = new SharedSignaling(transport);
    shared.#wire = await openWire(transport, serverUrl, timeoutMs, PROTOCOL_V2, {
      frame: (data) => shared.#receive(data),
      closed: (reason) => shared.#ended(reason),
    });
    return shared;
  }

  /** Peers of this connection that have not left. */
  get peers(): number {
    return this.#peers.size;
  }

  get closed(): boolean {
    return this.#closeReason !== undefined;
  }

  /**
   * Joins `room` as one more peer. Rejects with SIGNALING_ERROR (the server's code in `signalCode`)
   * if the server refuses, SIGNALING_FAILED if no answer comes in time, CLOSED if the connection is
   * gone. A join that timed out and is accepted later leaves at once.
   */
  join(
    room: string,
    role: Role = 'browser',
    timeoutMs = 10_000,
  ): Promise<{ signaling: Signaling; joined: JoinedMessage }> {
    if (this.#closeReason !== undefined) {
      return Promise.reject(new RtcgateError('CLOSED', `signaling connection closed: ${this.#closeReason}`));
    }
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new RtcgateError('SIGNALING_FAILED', `no answer to join within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#joins.push({
        settle: (reply) => {
          clearTimeout(timer);
          if (reply.type === 'error') {
            if (!timedOut)
              reject(new RtcgateError('SIGNALING_ERROR', `join refused (${reply.code})`, reply.code));
            return;
          }
          if (timedOut) {
            this.#send({ type: 'leave', as: reply.peerId });
            return;
          }
          const signaling = new PeerSignaling(this, reply.peerId);
          this.#peers.set(reply.peerId, signaling);
          resolve({ signaling, joined: reply });
        },
        fail: (err) => {
          clearTimeout(timer);
          if (!timedOut) reject(err);
        },
      });
      this.#send({ type: 'join', room, role });
    });
  }

  /** Ends the connection: every peer of it leaves. */
  close(): void {
    this.#wire?.close();
  }

  /** @internal a peer's message, sent as that peer. */
  sendAs(peerId: string, message: ClientMessage): void {
    if (message.type === 'join') throw new TypeError('a peer of a shared connection cannot join again');
    this.#send({ ...message, as: peerId });
  }

  /** @internal */
  sendRaw(frame: string | ArrayBuffer): void {
    this.#wire?.send(frame);
  }

  /** @internal the peer leaves; the connection stays. */
  leave(peerId: string): void {
    if (!this.#peers.delete(peerId)) return;
    this.#send({ type: 'leave', as: peerId });
  }

  #send(message: Parameters<typeof encode>[0]): void {
    this.#wire?.send(encode(message));
  }

  #receive(frame: unknown): void {
    const decoded = decodeServerFrame(frame, PROTOCOL_V2);
    if (!decoded.ok) {
      console.warn(`rtcgate: ignoring a server frame: ${decoded.message}`);
      return;
    }
    const m = decoded.message;
    // A join's answer: `joined`, or an error about a join that named no peer (joins have no `as`).
    if (m.type === 'joined' || (m.type === 'error' && m.ref === 'join' && m.to === undefined)) {
      const pending = this.#joins.shift();
      if (pending) pending.settle(m);
      return;
    }
    const { to, ...rest } = m;
    // The peer's view is v1's: the same messages without `to`.
    const message = rest as ServerMessage;
    if (to !== undefined) this.#peers.get(to)?.receive(message);
    // An error that names no peer (an unreadable frame): every peer hears of it.
    else for (const peer of [...this.#peers.values()]) peer.receive(message);
  }

  #ended(reason: string): void {
    this.#closeReason ??= reason;
    const joins = this.#joins;
    this.#joins = [];
    for (const pending of joins) {
      pending.fail(new RtcgateError('CLOSED', `signaling connection closed: ${reason}`));
    }
    const peers = [...this.#peers.values()];
    this.#peers.clear();
    for (const peer of peers) peer.ended(reason);
  }
}

/** One peer of a SharedSignaling: the Signaling a GatewayConnection uses; close() is a leave. */
class PeerSignaling extends Signaling {
  readonly transport: SignalTransport;
  #left = false;

  constructor(
    private readonly shared: SharedSignaling,
    readonly peerId: string,
  ) {
    super();
    this.transport = shared.transport;
  }

  override send(message: ClientMessage): void {
    if (!this.#left) this.shared.sendAs(this.peerId, message);
  }

  sendRaw(frame: string | ArrayBuffer): void {
    if (!this.#left) this.shared.sendRaw(frame);
  }

  close(): void {
    if (this.#left) return;
    this.shared.leave(this.peerId);
    this.ended('left');
  }

  receive(message: ServerMessage): void {
    if (!this.#left) this.dispatch(message);
  }

  ended(reason: string): void {
    if (this.#left) return;
    this.#left = true;
    this.closed(reason);
  }
}
