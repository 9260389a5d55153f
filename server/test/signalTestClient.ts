/**
 * A small signaling client for the server's loopback tests, over either transport. It is not the
 * gateway's SignalClient on purpose: the server is the lower package and must not import peer-node.
 *
 * Every client keeps its own inbox. `next()` takes the oldest unread message, so a test reads the
 * exact sequence the server sent and a stray relay shows up as the wrong "next" message. Every wait
 * has a timeout that names the client and lists what did arrive, so a broken case fails instead of
 * hanging. Every frame the server sends is checked against the schema of the protocol the client
 * speaks (serverMessageSchema for rtcgate.signal.v1, serverMessageSchemaV2 for v2) on arrival.
 * A client speaks v1 unless it was connected with another protocol (`protocol` of connect()).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import {
  PROTOCOL,
  decodeServerFrame,
  encode,
  type ClientMessage,
  type ClientMessageV2,
  type PROTOCOL_V2,
  type ProtocolName,
  type Role,
  type ServerMessage,
  type ServerMessageV2,
  type SignalErrorCode,
} from '../src/protocol/index.js';
import type { ServerConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

import { TRANSPORTS, type Transport } from '../src/signalHub.js';

/** The transports the server speaks, as the hub names them. */
export const TEST_TRANSPORTS = TRANSPORTS;
export type TestTransport = Transport;

/** How the connection ended: a ws close code, or Socket.IO's disconnect reason. */
export interface Ended {
  code?: number;
  reason: string;
}

export const DEFAULT_WAIT_MS = 3000;

type V1 = typeof PROTOCOL;
/** What a client of protocol P sends and receives. */
export type ClientMessageFor<P extends ProtocolName> = P extends typeof PROTOCOL_V2
  ? ClientMessageV2
  : ClientMessage;
export type ServerMessageFor<P extends ProtocolName> = P extends typeof PROTOCOL_V2
  ? ServerMessageV2
  : ServerMessage;
export type ServerTypeFor<P extends ProtocolName> = ServerMessageFor<P>['type'];
export type ServerMessageOfFor<P extends ProtocolName, T extends ServerTypeFor<P>> = Extract<
  ServerMessageFor<P>,
  { type: T }
>;

export abstract class TestClient<P extends ProtocolName = V1> {
  abstract readonly transport: TestTransport;
  /** Resolves once the connection is gone, whoever ended it. */
  readonly ended: Promise<Ended>;
  #queue: ServerMessageFor<P>[] = [];
  #received: ServerMessageFor<P>[] = [];
  #badFrames: string[] = [];
  readonly #waiters = new Set<() => void>();
  #endedWith: Ended | undefined;
  #resolveEnded!: (ended: Ended) => void;
  #peerId: string | undefined;

  protected constructor(
    readonly name: string,
    /** The protocol the server selected for this connection. */
    readonly protocol: P,
  ) {
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  /** The id the server gave on join (on v2: on the first join). */
  get peerId(): string {
    if (this.#peerId === undefined) throw new Error(`${this.label} has not joined`);
    return this.#peerId;
  }

  get label(): string {
    return `${this.name} (${this.transport})`;
  }

  get isEnded(): boolean {
    return this.#endedWith !== undefined;
  }

  /** Unread messages, oldest first. */
  unread(): readonly ServerMessageFor<P>[] {
    return this.#queue;
  }

  send(message: ClientMessageFor<P>): void {
    this.sendRaw(encode(message));
  }

  /** Sends a frame as is: a ws text or binary frame, or the one argument of a Socket.IO "signal". */
  abstract sendRaw(frame: string | Buffer): void;

  /** Closes politely and resolves once the connection is gone. */
  abstract close(): Promise<void>;

  /** Joins and resolves with `joined`; the next message must be the reply. On v2, one more peer. */
  async join(room: string, role: Role = 'browser'): Promise<ServerMessageOfFor<P, 'joined'>> {
    this.sendRaw(encode({ type: 'join', room, role }));
    const joined = await this.expect('joined');
    this.#peerId ??= joined.peerId;
    return joined;
  }

  /** The oldest unread message, waiting up to `timeoutMs` for one. */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<ServerMessageFor<P>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#assertNoBadFrames();
      const first = this.#queue.shift();
      if (first) return first;
      if (this.#endedWith) {
        throw new Error(
          `${this.label}: connection ended (${describeEnded(this.#endedWith)}) while waiting; ${this.#history()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no message within ${timeoutMs} ms; ${this.#history()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** The next message, which must be of `type`. */
  async expect<T extends ServerTypeFor<P>>(
    type: T,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerMessageOfFor<P, T>> {
    const m = await this.next(timeoutMs);
    if (m.type !== type) {
      throw new Error(`${this.label}: expected "${type}" next, got ${JSON.stringify(m)}`);
    }
    return m as ServerMessageOfFor<P, T>;
  }

  /** The next message, which must be an error with `code`. */
  async expectError(
    code: SignalErrorCode,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerMessageOfFor<P, 'error'>> {
    const m = await this.expect('error', timeoutMs);
    if (m.code !== code) throw new Error(`${this.label}: expected error ${code}, got ${JSON.stringify(m)}`);
    return m;
  }

  /** Waits `ms` and fails if anything arrived meanwhile (or was still unread). */
  async expectQuiet(ms = 150): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.#assertNoBadFrames();
    if (this.#queue.length > 0) {
      throw new Error(`${this.label}: expected no message, got ${JSON.stringify(this.#queue)}`);
    }
  }

  /** Waits for the connection to end. */
  async expectEnded(timeoutMs = DEFAULT_WAIT_MS): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.label}: still connected after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  protected deliver(frame: unknown): void {
    const decoded = decodeServerFrame(frame, this.protocol);
    if (!decoded.ok) {
      this.#badFrames.push(`${decoded.message} in ${String(frame).slice(0, 200)}`);
    } else {
      // decodeServerFrame checked it against this protocol's schema.
      const message = decoded.message as ServerMessageFor<P>;
      this.#queue.push(message);
      this.#received.push(message);
    }
    this.#wake();
  }

  protected markEnded(ended: Ended): void {
    if (this.#endedWith) return;
    this.#endedWith = ended;
    this.#resolveEnded(ended);
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #assertNoBadFrames(): void {
    if (this.#badFrames.length > 0) {
      throw new Error(
        `${this.label}: the server sent frames that fail the ${this.protocol} schema: ${this.#badFrames.join(' | ')}`,
      );
    }
  }

  #history(): string {
    return `received so far: ${JSON.stringify(this.#received)}`;
  }
}

function describeEnded(ended: Ended): string {
  return ended.code === undefined ? ended.reason : `${ended.code} ${ended.reason}`;
}

export class WsTestClient<P extends ProtocolName = V1> extends TestClient<P> {
  readonly transport = 'ws' as const;

  private constructor(
    name: string,
    protocol: P,
    readonly ws: WebSocket,
  ) {
    super(name, protocol);
    ws.on('message', (data, isBinary) => {
      // The default binaryType, "nodebuffer", delivers a Buffer; the other forms are for completeness.
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data;
      this.deliver(isBinary ? bytes : bytes.toString('utf8'));
    });
    ws.on('close', (code, reason) => this.markEnded({ code, reason: reason.toString() }));
    ws.on('error', () => undefined); // the close event follows and says how it ended
  }

  /**
   * Opens a WebSocket offering `offer` (default: just `protocol`) and resolves once the server has
   * selected `protocol` (default rtcgate.signal.v1); any other selection fails.
   */
  static connect<P extends ProtocolName = V1>(
    url: string,
    name: string,
    options: WebSocket.ClientOptions = {},
    timeoutMs = DEFAULT_WAIT_MS,
    protocol: P = PROTOCOL as P,
    offer: readonly string[] = [protocol],
  ): Promise<WsTestClient<P>> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, [...offer], { handshakeTimeout: timeoutMs, ...options });
      const fail = (why: string) => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(new Error(`${name} (ws): ${why}`));
      };
      ws.once('error', (err) => fail(err.message));
      ws.once('unexpected-response', (_req, res) => fail(`handshake refused with HTTP ${res.statusCode}`));
      ws.once('open', () => {
        ws.removeAllListeners();
        if (ws.protocol !== protocol) {
          fail(`server selected subprotocol "${ws.protocol}", not "${protocol}"`);
          return;
        }
        resolve(new WsTestClient(name, protocol, ws));
      });
    });
  }

  sendRaw(frame: string | Buffer): void {
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) {
      this.ws.close(1000, 'test done');
      // A peer that never completes the close handshake is cut off rather than left open.
      setTimeout(() => this.ws.terminate(), 1000).unref();
    }
    return this.ended.then(() => undefined);
  }

  /** Drops the TCP connection without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}

export class IoTestClient<P extends ProtocolName = V1> extends TestClient<P> {
  readonly transport = 'socket.io' as const;

  private constructor(
    name: string,
    protocol: P,
    readonly socket: Socket,
  ) {
    super(name, protocol);
    socket.on('signal', (text: unknown) => this.deliver(text));
    socket.on('disconnect', (reason) => this.markEnded({ reason }));
  }

  /** Connects naming `protocol` (default rtcgate.signal.v1) in the handshake auth. */
  static connect<P extends ProtocolName = V1>(
    httpUrl: string,
    name: string,
    timeoutMs = DEFAULT_WAIT_MS,
    protocol: P = PROTOCOL as P,
  ): Promise<IoTestClient<P>> {
    return new Promise((resolve, reject) => {
      const socket = io(new URL('/signal', httpUrl).href, {
        auth: { protocol },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: timeoutMs,
      });
      socket.once('connect', () => {
        socket.off('connect_error');
        resolve(new IoTestClient(name, protocol, socket));
      });
      socket.once('connect_error', (err: Error) => {
        socket.close();
        reject(new Error(`${name} (socket.io): ${err.message}`));
      });
    });
  }

  sendRaw(frame: string | Buffer): void {
    this.socket.emit('signal', frame);
  }

  /**
   * Stops answering the server's heartbeat pings while the connection stays open, as a peer on a
   * dead network path would. engine.io-client has no switch for it, so its private packet sender
   * is wrapped (engine.io-client 6.x: the pong goes out through `_sendPacket('pong')`).
   */
  stopAnsweringPings(): void {
    const engine = this.socket.io.engine as unknown as {
      _sendPacket: (type: string, ...rest: unknown[]) => void;
    };
    assert.equal(typeof engine._sendPacket, 'function', 'engine.io-client internals changed');
    const send = engine._sendPacket.bind(engine);
    engine._sendPacket = (type: string, ...rest: unknown[]) => {
      if (type !== 'pong') send(type, ...rest);
    };
  }

  close(): Promise<void> {
    if (this.socket.connected) this.socket.disconnect();
    else this.markEnded({ reason: 'io client disconnect' });
    return this.ended.then(() => undefined);
  }
}

/** http://127.0.0.1:port/ for a server listening on the loopback address. */
export function httpUrlOf(server: RunningServer): string {
  return `http://127.0.0.1:${server.port}/`;
}

export function wsUrlOf(server: RunningServer): string {
  return `ws://127.0.0.1:${server.port}/signal`;
}

/** Connects over `transport`, speaking `protocol` (default rtcgate.signal.v1). */
export function connectClient<P extends ProtocolName = V1>(
  server: RunningServer,
  transport: TestTransport,
  name: string,
  protocol: P = PROTOCOL as P,
): Promise<TestClient<P>> {
  return transport === 'ws'
    ? WsTestClient.connect(wsUrlOf(server), name, {}, DEFAULT_WAIT_MS, protocol)
    : IoTestClient.connect(httpUrlOf(server), name, DEFAULT_WAIT_MS, protocol);
}

export interface Refusal {
  status: number | undefined;
  error: string | undefined;
  body: string;
}

/** Opens a WebSocket that the server is expected to refuse, and reports the HTTP answer. */
export function refusedHandshake(url: string, protocols: string[]): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url} accepted a handshake offering ${JSON.stringify(protocols)}`));
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        const error = res.headers['x-rtcgate-error'];
        resolve({ status: res.statusCode, error: typeof error === 'string' ? error : undefined, body });
      });
    });
  });
}

/**
 * Runs a table of conformance cases once per transport, each transport against a server of its
 * own; `contextFor` gives each case what it needs (the v1 and v2 suites share this).
 */
export function describeCasesOverTransports<Ctx>(
  title: (transport: TestTransport) => string,
  cases: readonly { name: string; run(ctx: Ctx): Promise<void> }[],
  startTestServer: () => Promise<RunningServer>,
  contextFor: (t: TestContext, transport: TestTransport, server: RunningServer) => Ctx,
): void {
  for (const transport of TEST_TRANSPORTS) {
    describe(title(transport), () => {
      let server: RunningServer | undefined;
      before(async () => {
        server = await startTestServer();
      });
      after(() => server?.close());

      for (const c of cases) {
        test(c.name, async (t) => {
          assert.ok(server, 'server started');
          await c.run(contextFor(t, transport, server));
        });
      }
    });
  }
}

/** A server peer id, as the server makes them. */
export const PEER_ID = /^p_[A-Za-z0-9_-]{8,32}$/;
/** Well-formed, but never handed out by any server. */
export const NOBODY = 'p_nobody000000';
export const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

/** A signaling server on a free loopback port, silent, serving no page; `config` on top. */
export function startQuietServer(config: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    heartbeatMs: 10_000,
    staticDir: undefined,
    iceServers: [],
    logLevel: 'silent',
    ...config,
  });
}
