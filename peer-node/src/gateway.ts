/**
 * The gateway: joins a room as "gateway" over the signaling subprotocol and serves every browser
 * that negotiates with it, one PeerSession each. Each channel goes where its label's route says
 * (routes.ts): echo, a WebSocket or TCP backend through a bridge (bridge.ts), or an in-process
 * handler registered with `handle()`. Labels without a route go to "channel" listeners on the
 * session, and are closed with NO_ROUTE when no listener takes them.
 */
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import {
  CONTROL_LABEL,
  createLogger,
  maskUrl,
  DEFAULT_ROOM,
  type IceServer,
  type Logger,
  type ServerMessage,
  type SessionEndCode,
} from 'rtcgate-server';
import { connectEcho, connectTcp, connectWs, type Backend } from './backends.js';
import { Bridge, DEFAULT_CONNECT_TIMEOUT_MS, type BridgeInfo, type BridgeOptions } from './bridge.js';
import type { GatewayChannel } from './channel.js';
import { ChannelControl, type PingInfo } from './channelControl.js';
import { GatewayMetrics } from './metrics.js';
import { emitSafely, GatewayError, messageOf } from './errors.js';
import { describeTarget, matchRoute, type Route, type RouteTarget } from './routes.js';
import { convertIceServers } from './iceServers.js';
import { PeerSession, type SessionInfo } from './peerSession.js';
import { SignalClient } from './signalClient.js';

export type ChannelHandler = (channel: GatewayChannel, session: PeerSession) => void;

export interface GatewayOptions {
  /** ws://host:port/signal */
  signalUrl: string;
  room?: string;
  /** Overrides the ICE servers the signaling server hands out. */
  iceServers?: IceServer[];
  /** Reconnect to signaling after it drops (default true), with backoff up to 5 s. */
  reconnect?: boolean;
  maxMessageSize?: number;
  /** Where channels go by label (routes.ts); "echo" and handlers registered by name need none. */
  routes?: Route[];
  /** Credit window, limits and timeouts of bridged channels. */
  bridge?: BridgeOptions;
  /** Longest close() lets bridges deliver what they hold before cutting them (default 3 s). */
  shutdownGraceMs?: number;
  /**
   * A session whose browser (rtcgate library) has answered the control channel's pings and then
   * leaves one unanswered this long, while its association sent almost nothing (under 64 KiB), is
   * ended with SESSION_STALLED (default 60 s; 0: no pings).
   */
  stallTimeoutMs?: number;
  log?: Logger;
  /**
   * The Prometheus registry of the gateway's metrics (metrics.ts); default a new one without the
   * process metrics (the CLI passes createRegistry(), which has them). Share the signaling
   * server's to serve both from one /metrics.
   */
  registry?: Registry;
}

export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface GatewayEvents {
  session: [PeerSession];
  /** Joined (again, after a reconnect) under this peer id. */
  ready: [peerId: string];
}

/**
 * Echo: every message back to its sender, text as text, binary as binary. The gateway never runs
 * it as a plain handler: registered under any name (the label "echo" has it by default), it is
 * served as a bridge to an in-process echo, metered like any backend (backends.ts, connectEcho).
 * A library user's own handler may call it on a channel it serves, unmetered.
 */
export const echoHandler: ChannelHandler = (channel) => {
  channel.on('message', (data) => {
    try {
      channel.send(data);
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'CHANNEL_NOT_OPEN') return;
      throw err;
    }
  });
};

export class Gateway extends EventEmitter<GatewayEvents> {
  readonly room: string;
  readonly sessions = new Map<string, PeerSession>();
  readonly #handlers = new Map<string, ChannelHandler>([['echo', echoHandler]]);
  readonly #controls = new WeakMap<PeerSession, ChannelControl>();
  readonly #bridges = new Set<Bridge>();
  readonly #log: Logger;
  /** Prometheus metrics (its registry: `metrics.registry`). */
  readonly metrics: GatewayMetrics;
  #signal: SignalClient | undefined;
  #iceServers: IceServer[] = [];
  #peerId: string | undefined;
  #closed = false;
  /** Sessions closed but whose PeerConnection is still lingering (PeerSession.released pending). */
  readonly #releasing = new Set<Promise<void>>();
  #reconnectTimer: NodeJS.Timeout | undefined;
  #iceRefreshTimer: NodeJS.Timeout | undefined;

  constructor(readonly options: GatewayOptions) {
    super();
    this.room = options.room ?? DEFAULT_ROOM;
    this.#log = options.log ?? createLogger('gateway');
    this.metrics = new GatewayMetrics(options.registry ?? new Registry(), () => this.sessions.values());
  }

  /** The ICE servers new sessions get (TURN credentials are refreshed before they expire). */
  get iceServers(): IceServer[] {
    return this.#iceServers;
  }

  /**
   * Fetches fresh ICE servers (new TURN credentials) from the signaling server's GET /ice-servers,
   * for the sessions created from now on. Called by itself halfway through a credential's life.
   */
  async refreshIceServers(): Promise<IceServer[]> {
    const url = iceServersUrlOf(this.options.signalUrl);
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok)
      throw new GatewayError('SIGNALING_FAILED', `GET ${maskUrl(url.href)} answered ${res.status}`);
    const body = (await res.json()) as { iceServers?: unknown };
    if (!Array.isArray(body.iceServers)) {
      throw new GatewayError('SIGNALING_FAILED', `GET ${maskUrl(url.href)} sent no iceServers list`);
    }
    this.#iceServers = body.iceServers as IceServer[];
    this.#scheduleIceRefresh();
    return this.#iceServers;
  }

  #scheduleIceRefresh(): void {
    clearTimeout(this.#iceRefreshTimer);
    const delay = iceRefreshDelayMs(this.#iceServers);
    if (delay === undefined || this.#closed || this.options.iceServers) return;
    this.#iceRefreshTimer = setTimeout(() => {
      this.refreshIceServers().then(
        () => this.#log.info('TURN credentials refreshed'),
        (err: unknown) => {
          this.#log.warn('TURN credential refresh failed; trying again in 30 s', { error: messageOf(err) });
          this.#iceRefreshTimer = setTimeout(() => this.#scheduleIceRefresh(), 30_000).unref();
        },
      );
    }, delay).unref();
  }

  /** The gateway's peer id in its room, once joined. */
  get peerId(): string | undefined {
    return this.#peerId;
  }

  /**
   * Registers an in-process handler under `name`: routes with target `handler:<name>` lead to it,
   * and so does a channel labelled `name` that no route matches. Replaces a previous one, "echo"
   * included.
   */
  handle(name: string, handler: ChannelHandler): this {
    this.#handlers.set(name, handler);
    return this;
  }

  /** Connects and joins; resolves once joined. Rejects with SIGNALING_* errors. */
  async start(): Promise<string> {
    const signal = await SignalClient.connect(this.options.signalUrl);
    let joined;
    try {
      joined = await signal.join(this.room, 'gateway');
      if (this.#closed) throw new GatewayError('SIGNALING_FAILED', 'gateway closed while joining');
    } catch (err) {
      await signal.close(1000, 'join failed');
      throw err;
    }
    this.#signal = signal;
    this.#peerId = joined.peerId;
    this.#iceServers = this.options.iceServers ?? joined.iceServers;
    for (const { url, reason } of convertIceServers(this.#iceServers).skipped) {
      this.#log.warn('ICE server not usable by node-datachannel', { url, reason });
    }
    this.#scheduleIceRefresh();
    signal.on('message', (m) => this.#onSignal(m));
    signal.on('error', (err) => this.#log.warn('signaling error', { error: err.message }));
    signal.on('close', (code, reason) => this.#onSignalClosed(code, reason));
    this.#log.info('joined', { room: this.room, peerId: joined.peerId, peers: joined.peers.length });
    emitSafely(this.#log, 'ready', () => this.emit('ready', joined.peerId));
    return joined.peerId;
  }

  /** Every bridge still open, with its credit and queues (bridge.ts). */
  bridgeInfo(): BridgeInfo[] {
    return [...this.#bridges].map((b) => b.info());
  }

  /** Each session, with its control channel's pings (null: the browser opened none). */
  sessionInfo(): (SessionInfo & { pings: PingInfo | null })[] {
    return [...this.sessions.values()].map((s) => ({ ...s.info(), pings: this.#pingsOf(s) }));
  }

  #pingsOf(session: PeerSession): PingInfo | null {
    const pings = this.#controls.get(session)?.pingInfo();
    return pings && pings.sent > 0 ? pings : null;
  }

  /**
   * Closes every session (telling each browser) and the signaling connection. Resolves once every
   * PeerConnection is closed, so node-datachannel's cleanup() may follow at once.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#iceRefreshTimer);
    await this.#shutdownBridges();
    for (const session of [...this.sessions.values()]) session.close('gateway shutting down', true);
    await Promise.all([this.#signal?.close(1001, 'gateway shutting down'), ...this.#releasing]);
  }

  #onSignal(m: ServerMessage): void {
    try {
      this.#dispatch(m);
    } catch (err) {
      const from = 'from' in m ? m.from : undefined;
      this.#log.warn('signaling message failed', { type: m.type, from, error: messageOf(err) });
      // A session whose negotiation failed cannot recover: end it and tell the browser why.
      if (from) this.sessions.get(from)?.close(`negotiation failed: ${messageOf(err)}`, true);
    }
  }

  #dispatch(m: ServerMessage): void {
    switch (m.type) {
      case 'offer': {
        // A new offer from a peer with a closed or no session starts a fresh one.
        this.#session(m.from).acceptOffer(m.sdp);
        return;
      }
      case 'offer-request': {
        const existing = this.sessions.get(m.from);
        if (existing) existing.close('replaced by a new negotiation');
        this.#session(m.from).offer(m.channels ?? [{ label: 'echo' }]);
        return;
      }
      case 'answer':
        this.sessions.get(m.from)?.acceptAnswer(m.sdp);
        return;
      case 'candidate':
        this.sessions.get(m.from)?.addRemoteCandidate(m.candidate);
        return;
      case 'bye':
        this.sessions
          .get(m.from)
          ?.close(`browser said bye${m.reason ? `: ${m.reason}` : ''}`, false, { peerLeft: true });
        return;
      case 'peer-left':
        this.sessions.get(m.peerId)?.close(`browser left signaling (${m.reason})`);
        return;
      case 'error':
        this.#log.warn('signaling error reply', { code: m.code, message: m.message, ref: m.ref });
        return;
      case 'joined':
      case 'peer-joined':
        return;
    }
  }

  #session(peerId: string): PeerSession {
    const existing = this.sessions.get(peerId);
    if (existing && !existing.closed) return existing;
    const startedAt = Date.now();
    const session = new PeerSession({
      peerId,
      room: this.room,
      iceServers: this.#iceServers,
      log: this.#log.child('session'),
      ...(this.options.maxMessageSize === undefined ? {} : { maxMessageSize: this.options.maxMessageSize }),
      signal: (message) => this.#signal?.send({ ...message, to: peerId }),
    });
    this.sessions.set(peerId, session);
    this.metrics.session(session, startedAt);
    session.once('close', () => {
      if (this.sessions.get(peerId) === session) this.sessions.delete(peerId);
      const released = session.released.then(() => void this.#releasing.delete(released));
      this.#releasing.add(released);
    });
    session.on('channel', (channel) => this.#route(channel, session));
    this.#sessionLog(session, 'session').info('session created');
    emitSafely(this.#log, 'session', () => this.emit('session', session));
    return session;
  }

  /** A logger for a part of the gateway that works for one session: its lines name the session. */
  #sessionLog(session: PeerSession, part: string): Logger {
    return this.#log
      .child(part)
      .bind({ room: this.room, peerId: session.peerId, sessionId: session.sessionId });
  }

  #controlOf(session: PeerSession): ChannelControl {
    let control = this.#controls.get(session);
    if (!control) {
      const timeoutMs = this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
      const created = new ChannelControl(this.#sessionLog(session, 'control'), {
        timeoutMs,
        bytesSent: () => session.bytesSent,
        onStall: (detail) => this.#onStall(session, created, detail),
      });
      session.once('close', () => created.stop());
      this.#controls.set(session, created);
      control = created;
    }
    return control;
  }

  /**
   * The association stopped delivering (docs/protocol.md, "Liveness"): nothing more will cross it,
   * so the session is ended, and the browser told over signaling, rather than left hanging.
   */
  #onStall(session: PeerSession, control: ChannelControl, detail: string): void {
    const info = session.info();
    this.#sessionLog(session, 'control').error('session stalled; ending it', {
      detail,
      pings: control.pingInfo(),
      bytesSent: info.bytesSent,
      bytesReceived: info.bytesReceived,
      waiting: info.channels.filter((c) => c.bufferedAmount > 0).map((c) => [c.label, c.bufferedAmount]),
    });
    const code: SessionEndCode = 'SESSION_STALLED';
    session.close(`${code}: ${detail}`, true);
  }

  #route(channel: GatewayChannel, session: PeerSession): void {
    const control = this.#controlOf(session);
    if (channel.label === CONTROL_LABEL) {
      control.attach(channel);
      return;
    }
    const route = matchRoute(this.options.routes ?? [], channel.label);
    const target: RouteTarget | undefined =
      route?.target ??
      (this.#handlers.has(channel.label) ? { kind: 'handler', name: channel.label } : undefined);
    // The metrics' name of the route: the label or prefix* that matched, else the handler's label.
    const routeName = route ? (route.label ?? `${route.prefix}*`) : channel.label;
    if (!target) {
      // A library user's own "channel" listener runs after this one in the same emit; give it the
      // rest of this tick to take the channel before refusing the label.
      queueMicrotask(() => {
        if (channel.state === 'closed') return;
        // Taken by the user's listener: a credit the library asks for is answered, unmetered.
        if (channel.listenerCount('message') > 0) control.bind(channel, 'unmetered');
        else this.#refuse(channel, session, control, `no route for the label "${channel.label}"`);
      });
      return;
    }
    switch (target.kind) {
      case 'echo':
      case 'ws':
      case 'tcp':
        this.metrics.channel(channel, routeName);
        this.#bridge(channel, session, control, target, routeName);
        return;
      case 'handler': {
        const handler = this.#handlers.get(target.name);
        // The built-in echo (the label "echo" unless replaced) runs metered, as a bridge.
        if (handler === echoHandler) {
          this.metrics.channel(channel, routeName);
          this.#bridge(channel, session, control, { kind: 'echo' }, routeName);
          return;
        }
        if (!handler) {
          this.#refuse(channel, session, control, `the route's handler "${target.name}" is not registered`);
          return;
        }
        control.bind(channel, 'unmetered');
        this.metrics.channel(channel, routeName);
        handler(channel, session);
        return;
      }
    }
  }

  #refuse(channel: GatewayChannel, session: PeerSession, control: ChannelControl, why: string): void {
    this.#sessionLog(session, 'routes').warn('channel refused; closing it', { label: channel.label, why });
    control.reason(channel.id, 'NO_ROUTE', why);
    channel.close();
    channel.once('close', () => control.forget(channel.id));
  }

  #bridge(
    channel: GatewayChannel,
    session: PeerSession,
    control: ChannelControl,
    target: Extract<RouteTarget, { kind: 'echo' | 'ws' | 'tcp' }>,
    routeName: string,
  ): void {
    const timeoutMs = this.options.bridge?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const connect = (): Promise<Backend> =>
      target.kind === 'echo'
        ? connectEcho()
        : target.kind === 'ws'
          ? connectWs(target.url, timeoutMs, {
              label: channel.label,
              peerId: session.peerId,
              maxPayload: channel.maxMessageSize,
            })
          : connectTcp(target, timeoutMs, channel.maxMessageSize);
    const log = this.#sessionLog(session, 'bridge').bind({ label: channel.label });
    log.info('bridging channel', {
      to: describeTarget(target),
    });
    const userOnPause = this.options.bridge?.onPause;
    const bridge = new Bridge(channel, connect, control, log, {
      ...this.options.bridge,
      onPause: (direction) => {
        this.metrics.pause(routeName, direction);
        userOnPause?.(direction);
      },
    });
    this.#bridges.add(bridge);
    void bridge.done.then(() => this.#bridges.delete(bridge));
  }

  /** Each bridge delivers what it holds and closes both ends, within the grace; then cut. */
  async #shutdownBridges(): Promise<void> {
    if (this.#bridges.size === 0) return;
    const bridges = [...this.#bridges];
    for (const bridge of bridges) bridge.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.shutdownGraceMs ?? 3000);
    });
    await Promise.race([Promise.all(bridges.map((b) => b.done)), grace]);
    clearTimeout(timer);
    for (const bridge of this.#bridges) bridge.destroy();
  }

  #onSignalClosed(code: number, reason: string): void {
    this.#signal = undefined;
    if (this.#closed) return;
    this.#log.warn('signaling connection lost', { code, reason });
    // Browsers are told "peer-left" for this gateway and end their sessions; a reconnected gateway
    // has a new peer id and cannot signal for the old ones. End them here too, now.
    for (const session of [...this.sessions.values()]) session.close('gateway lost signaling');
    if (this.options.reconnect === false) return;
    let delay = 250;
    const attempt = () => {
      this.#reconnectTimer = setTimeout(() => {
        if (this.#closed) return;
        this.start().then(
          () => this.#log.info('signaling reconnected'),
          (err: unknown) => {
            this.#log.warn('signaling reconnect failed', { error: messageOf(err) });
            delay = Math.min(delay * 2, 5000);
            attempt();
          },
        );
      }, delay);
    };
    attempt();
  }
}

/** http(s)://host:port/ice-servers of the signaling server at ws(s)://host:port/signal. */
export function iceServersUrlOf(signalUrl: string): URL {
  const url = new URL('/ice-servers', signalUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url;
}

/**
 * When to fetch fresh ICE servers: halfway between now and the earliest expiry among TURN REST
 * usernames ("<unix seconds>:<name>"); undefined when none expires. Never sooner than 1 s.
 */
export function iceRefreshDelayMs(servers: IceServer[], nowMs: number = Date.now()): number | undefined {
  const expiries = servers
    .map((s) => /^(\d+):/.exec(s.username ?? '')?.[1])
    .filter((e): e is string => e !== undefined)
    .map((e) => Number(e) * 1000);
  if (expiries.length === 0) return undefined;
  return Math.max(1000, Math.floor((Math.min(...expiries) - nowMs) / 2));
}
