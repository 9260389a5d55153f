/**
 * A browser's session with the gateway: join a room over either signaling transport, negotiate one
 * RTCPeerConnection with the gateway (the browser offers, or asks the gateway to), trickle ICE both
 * ways, open channels, read stats. The page and the interop suite both use this class.
 */
import type { ChannelRequest, ClientMessage, PeerInfo, ServerMessage } from 'rtcgate-server/protocol';
import { BridgeChannel, ControlChannel, type BridgeOptions } from './bridge.js';
import { RtcgateError, type ClientErrorCode } from './errors.js';
import {
  openSignaling,
  type JoinedMessage,
  type SharedSignaling,
  type Signaling,
  type SignalTransport,
} from './signaling.js';
import { readStats, type ConnectionStats } from './stats.js';

export type Offerer = 'browser' | 'gateway';

/** Longest end() waits for the channels to close (see end()). */
export const END_TIMEOUT_MS = 15_000;

/** How many closed channels `allChannels` keeps, the latest ones (open ones are all kept). */
export const CLOSED_CHANNELS_KEPT = 64;

/** How long a closed SCTP association waits for the gateway's bye before ending the session. */
const BYE_GRACE_MS = 250;

export interface ConnectOptions {
  /** http(s) origin of the signaling server; the page's origin by default. */
  serverUrl?: string;
  room?: string;
  transport?: SignalTransport;
  /**
   * Join over this page's shared signaling connection (SharedSignaling.open()) instead of opening
   * one of its own; `transport` and `serverUrl` are then the shared connection's. A page that
   * starts many connections at once should share one: a browser opens WebSockets to one host one
   * at a time. close() and end() leave the room; the shared connection stays open.
   */
  signaling?: SharedSignaling;
  offerer?: Offerer;
  /**
   * Channels open when connect() resolves: opened by the browser or, when the gateway offers, by
   * it. A `negotiated` channel is created on both sides with its `id`: when the gateway offers, the
   * offer-request tells it to; when the browser offers, the gateway application must create it.
   */
  channels?: ChannelRequest[];
  /** Extra RTCConfiguration (iceServers default to the ones the server hands out). */
  rtcConfig?: RTCConfiguration;
  timeoutMs?: number;
  /** Called for every step, for the page's timeline. */
  onEvent?: (event: ConnectionEvent) => void;
}

export type ConnectionEvent =
  | { kind: 'signaling'; detail: string }
  | { kind: 'iceGatheringState'; state: RTCIceGatheringState }
  | { kind: 'iceConnectionState'; state: RTCIceConnectionState }
  | { kind: 'connectionState'; state: RTCPeerConnectionState }
  | { kind: 'signalingState'; state: RTCSignalingState }
  | { kind: 'dtlsState'; state: string }
  | { kind: 'channel'; label: string; state: RTCDataChannelState }
  | { kind: 'candidate'; side: 'local' | 'remote'; candidate: string }
  /** Every signaling message of this connection, sent or received: its type and a short summary. */
  | { kind: 'signal'; direction: 'sent' | 'received'; type: string; detail: string }
  /** The SCTP association (RTCSctpTransport.state), from the moment the answer is applied. */
  | { kind: 'sctpState'; state: RTCSctpTransportState }
  | { kind: 'closed'; reason: string };

/** A signaling message in a few words, for a timeline: what it is, never the whole SDP. */
export function describeSignal(message: ClientMessage | ServerMessage): string {
  switch (message.type) {
    case 'join':
      return `join room ${message.room} as ${message.role}`;
    case 'joined':
      return `joined room ${message.room} as ${message.peerId}, ${message.peers.length} other peer(s)`;
    case 'peer-joined':
      return `peer-joined: ${message.role} ${message.peerId}`;
    case 'peer-left':
      return `peer-left: ${message.peerId} (${message.reason})`;
    case 'error':
      return `error ${message.code}: ${message.message}`;
    case 'offer':
    case 'answer':
      return `${message.type} (SDP, ${message.sdp.split('\n').filter((l) => l.startsWith('m=')).length} m-line(s))`;
    case 'candidate': {
      if (message.candidate === null) return 'candidate: end of candidates';
      // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
      // (RFC 8839 §5.1)
      const parts = (message.candidate.candidate ?? '').split(' ');
      const typ = parts.indexOf('typ');
      return `candidate ${typ > 0 ? (parts[typ + 1] ?? '?') : '?'} ${parts[2]?.toLowerCase() ?? '?'}`;
    }
    case 'offer-request':
      return `offer-request (${(message.channels ?? [{ label: 'echo' }]).map((c) => c.label).join(', ')})`;
    case 'bye':
      return `bye${message.reason ? `: ${message.reason}` : ''}`;
  }
}

/** Sends one signaling message, then tells the timeline (a send that throws is not told). */
function sendSignal(
  signaling: Signaling,
  message: ClientMessage,
  emit: (event: ConnectionEvent) => void,
): void {
  signaling.send(message);
  emit({ kind: 'signal', direction: 'sent', type: message.type, detail: describeSignal(message) });
}

function toInit(channel: ChannelRequest): RTCDataChannelInit {
  const init: RTCDataChannelInit = {};
  if (channel.protocol !== undefined) init.protocol = channel.protocol;
  if (channel.ordered !== undefined) init.ordered = channel.ordered;
  if (channel.maxRetransmits !== undefined) init.maxRetransmits = channel.maxRetransmits;
  if (channel.maxPacketLifeTime !== undefined) init.maxPacketLifeTime = channel.maxPacketLifeTime;
  if (channel.negotiated !== undefined) init.negotiated = channel.negotiated;
  if (channel.id !== undefined) init.id = channel.id;
  return init;
}

export function waitForOpen(channel: RTCDataChannel, timeoutMs = 10_000): Promise<RTCDataChannel> {
  if (channel.readyState === 'open') return Promise.resolve(channel);
  if (channel.readyState === 'closing' || channel.readyState === 'closed') {
    return Promise.reject(new RtcgateError('CLOSED', `channel "${channel.label}" is ${channel.readyState}`));
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new RtcgateError('CHANNEL_TIMEOUT', `channel "${channel.label}" not open in ${timeoutMs} ms`)),
      timeoutMs,
    );
    channel.addEventListener('open', () => {
      clearTimeout(timer);
      resolve(channel);
    });
    channel.addEventListener('close', () => {
      clearTimeout(timer);
      reject(new RtcgateError('CLOSED', `channel "${channel.label}" closed before opening`));
    });
  });
}

export class GatewayConnection {
  /**
   * The latest channel per label, open or closed; a closed one leaves when it leaves
   * `allChannels` (the CLOSED_CHANNELS_KEPT closed ones made last are kept).
   */
  readonly channels = new Map<string, RTCDataChannel>();
  #closed = false;
  #pendingCandidates: RTCIceCandidateInit[] = [];
  #channelWaiters = new Map<string, ((c: RTCDataChannel) => void)[]>();
  #closeReason: string | undefined;
  #onClose = new Set<(reason: string) => void>();
  #control: Promise<ControlChannel> | undefined;
  /** While connect() negotiates: fails it (the first call wins). */
  #failConnect: ((err: RtcgateError) => void) | undefined;
  /** Every channel of this connection that has not closed yet (end() closes them first). */
  #live = new Set<RTCDataChannel>();
  #bridges = new Map<RTCDataChannel, BridgeChannel>();
  #all: RTCDataChannel[] = [];
  /** The DTLS and SCTP transports whose state changes are reported (each once). */
  #watched = new WeakSet<object>();

  private constructor(
    readonly signaling: Signaling,
    readonly pc: RTCPeerConnection,
    readonly peerId: string,
    readonly gatewayId: string,
    readonly room: string,
    private readonly emitEvent: (event: ConnectionEvent) => void,
  ) {}

  /** Joins, negotiates and resolves once connected with the requested channels open. */
  static async connect(options: ConnectOptions = {}): Promise<GatewayConnection> {
    const emit = options.onEvent ?? (() => undefined);
    const timeoutMs = options.timeoutMs ?? 20_000;
    const room = options.room ?? 'default';
    let signaling: Signaling;
    let joined: JoinedMessage;
    const onReceived = (m: ServerMessage) =>
      emit({ kind: 'signal', direction: 'received', type: m.type, detail: describeSignal(m) });
    if (options.signaling) {
      // The shared connection sends the join and reads its answer: told here as they happen to it.
      emit({ kind: 'signal', direction: 'sent', type: 'join', detail: `join room ${room} as browser` });
      ({ signaling, joined } = await options.signaling.join(room, 'browser', timeoutMs));
      onReceived(joined as ServerMessage);
      signaling.onMessage(onReceived);
    } else {
      const transport = options.transport ?? 'ws';
      signaling = await openSignaling(transport, options.serverUrl, timeoutMs);
      emit({ kind: 'signaling', detail: `connected over ${transport}` });
      signaling.onMessage(onReceived);
      try {
        joined = await GatewayConnection.#join(signaling, room, timeoutMs, emit);
      } catch (err) {
        signaling.close();
        throw err;
      }
    }
    try {
      emit({ kind: 'signaling', detail: `joined room ${room} as ${joined.peerId}` });
      const gatewayId = await GatewayConnection.#findGateway(signaling, joined.peers, timeoutMs);
      emit({ kind: 'signaling', detail: `gateway is ${gatewayId}` });
      const pc = new RTCPeerConnection({ iceServers: joined.iceServers, ...options.rtcConfig });
      const conn = new GatewayConnection(signaling, pc, joined.peerId, gatewayId, room, emit);
      await conn.#negotiate(options.offerer ?? 'browser', options.channels ?? [{ label: 'echo' }], timeoutMs);
      return conn;
    } catch (err) {
      signaling.close();
      throw err;
    }
  }

  static async #join(
    signaling: Signaling,
    room: string,
    timeoutMs: number,
    emit: (event: ConnectionEvent) => void,
  ): Promise<JoinedMessage> {
    const reply = signaling.next(
      (m) => m.type === 'joined' || (m.type === 'error' && m.ref === 'join'),
      timeoutMs,
    );
    sendSignal(signaling, { type: 'join', room, role: 'browser' }, emit);
    const joined = await reply;
    if (joined.type !== 'joined') {
      const code = joined.type === 'error' ? joined.code : 'unknown';
      throw new RtcgateError('SIGNALING_ERROR', `join refused (${code})`, code);
    }
    return joined;
  }

  static async #findGateway(signaling: Signaling, peers: PeerInfo[], timeoutMs: number): Promise<string> {
    const present = peers.find((p) => p.role === 'gateway');
    if (present) return present.peerId;
    try {
      const m = await signaling.next((x) => x.type === 'peer-joined' && x.role === 'gateway', timeoutMs);
      if (m.type === 'peer-joined') return m.peerId;
    } catch (err) {
      // The signaling connection went: say so, not that no gateway came.
      if (err instanceof RtcgateError && err.code === 'CLOSED') throw err;
    }
    throw new RtcgateError('NO_GATEWAY', `no gateway joined the room within ${timeoutMs} ms`);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Every DataChannel of this connection in the order it was made or announced, the library's
   * control channel (rtcgate.ctl) included: every open one, and of the closed ones the
   * CLOSED_CHANNELS_KEPT made last (a long session that opens many channels does not keep them
   * all; a channel made early may leave the list at its own close). `channels` holds the latest
   * one per label, pruned the same way.
   */
  get allChannels(): readonly RTCDataChannel[] {
    return this.#all;
  }

  /** Waits for a channel the gateway opened (or one opened here) by label. */
  channel(label: string, timeoutMs = 10_000): Promise<RTCDataChannel> {
    const existing = this.channels.get(label);
    if (existing) return waitForOpen(existing, timeoutMs);
    return new Promise((resolve, reject) => {
      const list = this.#channelWaiters.get(label) ?? [];
      const waiter = (c: RTCDataChannel) => {
        clearTimeout(timer);
        waitForOpen(c, timeoutMs).then(resolve, reject);
      };
      const timer = setTimeout(() => {
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        reject(new RtcgateError('CHANNEL_TIMEOUT', `no channel "${label}" within ${timeoutMs} ms`));
      }, timeoutMs);
      list.push(waiter);
      this.#channelWaiters.set(label, list);
    });
  }

  /**
   * Opens a channel to a bridged route (or any route) with credit-based backpressure and the
   * gateway's close reasons (bridge.ts). Resolves once the channel is open; a route the gateway
   * refuses still opens, then closes with its reason in `closed`.
   */
  async bridge(label: string, options: BridgeOptions = {}): Promise<BridgeChannel> {
    if (this.#closed) throw new RtcgateError('CLOSED', 'connection is closed');
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#control ??= ControlChannel.open(this.pc, timeoutMs).then((c) => {
      this.#remember(c.channel);
      return c;
    });
    let control: ControlChannel;
    try {
      control = await this.#control;
    } catch (err) {
      this.#control = undefined;
      throw err;
    }
    const channel = this.pc.createDataChannel(label, options.init ?? {});
    this.#track(channel);
    const bridge = new BridgeChannel(channel, control, options);
    this.#bridges.set(channel, bridge);
    // A refused route can close the channel before this page saw it open: `closed` says why.
    await new Promise<void>((resolve, reject) => {
      if (channel.readyState !== 'connecting') return resolve();
      const timer = setTimeout(() => {
        reject(new RtcgateError('CHANNEL_TIMEOUT', `channel "${label}" not open within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      channel.addEventListener('open', done, { once: true });
      channel.addEventListener('close', done, { once: true });
    });
    return bridge;
  }

  /** Opens a channel from the browser side and resolves once it is open. */
  openChannel(label: string, init: RTCDataChannelInit = {}, timeoutMs = 10_000): Promise<RTCDataChannel> {
    if (this.#closed) return Promise.reject(new RtcgateError('CLOSED', 'connection is closed'));
    const channel = this.pc.createDataChannel(label, init);
    this.#track(channel);
    return waitForOpen(channel, timeoutMs);
  }

  stats(): Promise<ConnectionStats> {
    return readStats(this.pc);
  }

  onClose(listener: (reason: string) => void): void {
    if (this.#closeReason !== undefined) listener(this.#closeReason);
    else this.#onClose.add(listener);
  }

  /**
   * Leaves without losing what was sent: closes every channel first (a browser delivers what a
   * channel has queued before it reports the channel closed: the WebRTC closing procedure), waits
   * until all have closed or `timeoutMs` has passed, then says bye and closes like close().
   * Resolves true when every channel closed in time. close() instead ends at once, and what the
   * channels still had queued is lost with the PeerConnection.
   *
   * The default wait is 15 s: a channel reports its close only once its SCTP stream reset is
   * answered, and a lost reset is sent again after the retransmission timer, which a bulk transfer
   * just before has often backed off (Chromium, loopback: 2 of 30 closes took 9.7 and 9.9 s).
   */
  async end(reason = 'ended by the page', timeoutMs = END_TIMEOUT_MS): Promise<boolean> {
    if (this.#closed) return true;
    const channels = [...this.#live];
    const closing = channels.map(
      (c) => new Promise<void>((resolve) => c.addEventListener('close', () => resolve(), { once: true })),
    );
    for (const c of channels) {
      const bridge = this.#bridges.get(c);
      if (bridge) bridge.close();
      else c.close();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      Promise.all(closing).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.close(reason);
    return drained;
  }

  /** Says bye to the gateway, closes the PeerConnection and the signaling connection. */
  close(reason = 'closed by the page'): void {
    if (this.#closed) return;
    try {
      sendSignal(this.signaling, { type: 'bye', to: this.gatewayId, reason }, this.emitEvent);
    } catch {
      // signaling already gone
    }
    this.#finish(reason);
  }

  /**
   * Ends the connection for `reason`. While connect() negotiates, that is also why it fails, with
   * `code`: the signaling close this causes comes after and would only say "signaling closed".
   */
  #finish(reason: string, code: ClientErrorCode = 'CLOSED'): void {
    if (this.#closed) return;
    this.#failConnect?.(new RtcgateError(code, `${reason} while connecting`));
    this.#closed = true;
    this.#closeReason = reason;
    this.pc.close();
    this.signaling.close();
    this.emitEvent({ kind: 'closed', reason });
    for (const listener of this.#onClose) listener(reason);
    this.#onClose.clear();
  }

  #remember(channel: RTCDataChannel): void {
    this.#all.push(channel);
    // In place, oldest first: a caller's reference to the list stays the list.
    const prune = () => {
      let excess = this.#all.filter((c) => c.readyState === 'closed').length - CLOSED_CHANNELS_KEPT;
      for (let i = 0; i < this.#all.length && excess > 0;) {
        const c = this.#all[i]!;
        if (c.readyState === 'closed') {
          this.#all.splice(i, 1);
          // Its label leaves `channels` too, unless a later channel has taken it.
          if (this.channels.get(c.label) === c) this.channels.delete(c.label);
          excess--;
        } else i++;
      }
    };
    if (channel.readyState === 'closed') prune();
    else channel.addEventListener('close', prune);
  }

  #track(channel: RTCDataChannel): void {
    this.channels.set(channel.label, channel);
    this.#remember(channel);
    if (channel.readyState !== 'closed') {
      this.#live.add(channel);
      channel.addEventListener('close', () => {
        this.#live.delete(channel);
        this.#bridges.delete(channel);
      });
    }
    const report = () => this.emitEvent({ kind: 'channel', label: channel.label, state: channel.readyState });
    report();
    channel.addEventListener('open', report);
    channel.addEventListener('close', report);
    const waiters = this.#channelWaiters.get(channel.label);
    if (waiters) {
      this.#channelWaiters.delete(channel.label);
      for (const w of waiters) w(channel);
    }
  }

  async #negotiate(
    offerer: 'browser' | 'gateway',
    channels: ChannelRequest[],
    timeoutMs: number,
  ): Promise<void> {
    const { pc, signaling, gatewayId } = this;
    const emit = this.emitEvent;
    let failure: ((err: RtcgateError) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      failure = reject;
    });
    failed.catch(() => undefined);
    this.#failConnect = failure;

    pc.addEventListener('icecandidate', (e: RTCPeerConnectionIceEvent) => {
      if (e.candidate) emit({ kind: 'candidate', side: 'local', candidate: e.candidate.candidate });
      const c = e.candidate;
      sendSignal(
        signaling,
        {
          type: 'candidate',
          to: gatewayId,
          candidate: c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } : null,
        },
        emit,
      );
    });
    pc.addEventListener('icegatheringstatechange', () =>
      emit({ kind: 'iceGatheringState', state: pc.iceGatheringState }),
    );
    pc.addEventListener('iceconnectionstatechange', () =>
      emit({ kind: 'iceConnectionState', state: pc.iceConnectionState }),
    );
    pc.addEventListener('signalingstatechange', () =>
      emit({ kind: 'signalingState', state: pc.signalingState }),
    );
    pc.addEventListener('connectionstatechange', () => {
      this.#watchTransports();
      emit({ kind: 'connectionState', state: pc.connectionState });
      if (pc.connectionState === 'failed') {
        failure?.(new RtcgateError('CONNECTION_FAILED', 'ICE or DTLS failed'));
        this.#finish('connection failed');
      }
    });
    pc.addEventListener('datachannel', (e: RTCDataChannelEvent) => this.#track(e.channel));

    const offMessages = signaling.onMessage((m) => {
      void this.#onSignal(m).catch((err: unknown) => {
        failure?.(new RtcgateError('NEGOTIATION_FAILED', err instanceof Error ? err.message : String(err)));
      });
    });
    signaling.onClose((reason) => {
      offMessages();
      emit({ kind: 'signaling', detail: `signaling closed: ${reason}` });
      // Before the channels are open, nothing more can come: fail now rather than at the timeout.
      failure?.(new RtcgateError('CLOSED', `signaling closed while connecting: ${reason}`));
    });

    const wanted: Promise<RTCDataChannel>[] = [];
    if (offerer === 'browser') {
      for (const c of channels) {
        const channel = pc.createDataChannel(c.label, toInit(c));
        this.#track(channel);
        wanted.push(waitForOpen(channel, timeoutMs));
      }
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      sendSignal(
        signaling,
        { type: 'offer', to: gatewayId, sdp: pc.localDescription?.sdp ?? offer.sdp ?? '' },
        emit,
      );
      emit({ kind: 'signaling', detail: 'sent offer' });
    } else {
      for (const c of channels) {
        // A negotiated channel is announced by nobody: each side creates its own (same id).
        if (c.negotiated === true) {
          const channel = pc.createDataChannel(c.label, toInit(c));
          this.#track(channel);
          wanted.push(waitForOpen(channel, timeoutMs));
        } else {
          wanted.push(this.channel(c.label, timeoutMs));
        }
      }
      sendSignal(signaling, { type: 'offer-request', to: gatewayId, channels }, emit);
      emit({ kind: 'signaling', detail: 'asked the gateway to offer' });
    }

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RtcgateError(
              'CONNECT_TIMEOUT',
              `not connected within ${timeoutMs} ms (${pc.connectionState})`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all(wanted), failed, timeout]);
    } catch (err) {
      this.#finish(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      clearTimeout(timer);
      this.#failConnect = undefined;
    }
    this.#watchTransports();
    const sctp = pc.sctp;
    // The gateway's SCTP association is gone (it closed its PeerConnection): no channel can open
    // again, so the session is over now rather than when ICE consent runs out (RFC 7675, ~30 s).
    // Firefox reports this at once; Chromium only when ICE fails.
    // A gateway that ends the session on purpose says bye first, but the bye travels through the
    // signaling server and the SCTP close does not: give the bye (and its reason) a moment.
    sctp?.addEventListener('statechange', () => {
      if (sctp.state === 'closed')
        setTimeout(() => this.#finish('the gateway closed the connection'), BYE_GRACE_MS);
    });
  }

  /**
   * Reports the DTLS and SCTP transports' states from when they exist: a browser makes them once an
   * answer is applied (W3C webrtc-pc §4.4.1.5, "set the RTCSessionDescription"), before ICE can
   * connect, so the timeline sees DTLS go connecting → connected. Each transport is watched once;
   * its state at that moment is reported first.
   */
  #watchTransports(): void {
    const sctp = this.pc.sctp;
    if (!sctp || this.#closed) return;
    const emit = this.emitEvent;
    const dtls = sctp.transport;
    if (!this.#watched.has(dtls)) {
      this.#watched.add(dtls);
      emit({ kind: 'dtlsState', state: dtls.state });
      dtls.addEventListener('statechange', () => emit({ kind: 'dtlsState', state: dtls.state }));
    }
    if (!this.#watched.has(sctp)) {
      this.#watched.add(sctp);
      emit({ kind: 'sctpState', state: sctp.state });
      sctp.addEventListener('statechange', () => emit({ kind: 'sctpState', state: sctp.state }));
    }
  }

  async #onSignal(m: ServerMessage): Promise<void> {
    const { pc, signaling, gatewayId } = this;
    if ('from' in m && m.from !== gatewayId) return;
    switch (m.type) {
      case 'offer': {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await this.#flushCandidates();
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        sendSignal(
          signaling,
          { type: 'answer', to: gatewayId, sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' },
          this.emitEvent,
        );
        this.#watchTransports();
        this.emitEvent({ kind: 'signaling', detail: 'received offer, sent answer' });
        return;
      }
      case 'answer':
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        this.#watchTransports();
        await this.#flushCandidates();
        this.emitEvent({ kind: 'signaling', detail: 'received answer' });
        return;
      case 'candidate': {
        if (m.candidate === null) return; // end-of-candidates: nothing more will come
        const init = m.candidate as RTCIceCandidateInit;
        this.emitEvent({ kind: 'candidate', side: 'remote', candidate: init.candidate ?? '' });
        if (!pc.remoteDescription) this.#pendingCandidates.push(init);
        else await pc.addIceCandidate(init);
        return;
      }
      case 'bye':
        // The gateway says "connection failed" when its ICE or DTLS failed (docs/protocol.md),
        // which the browser may not have seen yet.
        this.#finish(
          `gateway said bye${m.reason ? `: ${m.reason}` : ''}`,
          m.reason === 'connection failed' ? 'CONNECTION_FAILED' : 'CLOSED',
        );
        return;
      case 'peer-left':
        if (m.peerId === gatewayId) this.#finish(`gateway left (${m.reason})`);
        return;
      case 'joined':
      case 'peer-joined':
      case 'offer-request':
      case 'error':
        return;
    }
  }

  async #flushCandidates(): Promise<void> {
    const pending = this.#pendingCandidates;
    this.#pendingCandidates = [];
    for (const c of pending) await this.pc.addIceCandidate(c);
  }
}

/** Sends `data` on an echo channel and resolves with the reply and the round trip in ms. */
export function echo(
  channel: RTCDataChannel,
  data: string | ArrayBuffer,
  timeoutMs = 10_000,
): Promise<{ reply: string | ArrayBuffer; rttMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const timer = setTimeout(() => {
      done();
      reject(new RtcgateError('CHANNEL_TIMEOUT', `no echo on "${channel.label}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      channel.removeEventListener('message', onMessage);
      channel.removeEventListener('close', onClose);
    };
    const onMessage = (e: MessageEvent) => {
      done();
      resolve({ reply: e.data as string | ArrayBuffer, rttMs: performance.now() - started });
    };
    const onClose = () => {
      done();
      reject(new RtcgateError('CLOSED', `channel "${channel.label}" closed before the echo came`));
    };
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('message', onMessage);
    channel.addEventListener('close', onClose);
    try {
      if (typeof data === 'string') channel.send(data);
      else channel.send(data);
    } catch (err) {
      // Not open, or its buffer full: nothing was sent, so nothing is waited for.
      done();
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
