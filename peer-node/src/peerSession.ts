/**
 * One browser's session with the gateway: one node-datachannel PeerConnection, trickle ICE both
 * ways, the channels on it, and the one place its state changes. The session never throws out of a
 * node-datachannel callback: every callback is guarded.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import type { CandidateInit, ChannelRequest, IceServer, Logger } from 'rtcgate-server';
import { GatewayChannel, type ChannelInfo, type ChannelOptions } from './channel.js';
import { emitSafely, GatewayError, messageOf } from './errors.js';
import { hold, release } from './nativeRefs.js';
import { toNodeIceServers } from './iceServers.js';

/** Longest a closing session waits for its channels' stream resets to be acknowledged. */
export const CLOSE_LINGER_MS = 1000;

/**
 * Longest a closing session keeps a channel open for bytes its peer announced (rtcgate.ctl
 * `close`) and has not delivered yet (GatewayChannel.expectInbound()).
 */
export const INBOUND_LINGER_MS = 5000;

/**
 * Shortest a closing session waits before closing its PeerConnection (two round trips if longer):
 * a channel the browser opened just before the close can still be on its way (its DCEP OPEN is
 * overtaken by a signaling message), and the PeerConnection's own close does not reliably reach
 * Chromium (docs/interop.md); a channel announced in this time is reset like the others.
 */
export const CLOSE_GRACE_MS = 100;

/** W3C RTCPeerConnectionState (webrtc-pc §4.3.3). */
export const PEER_CONNECTION_STATES = [
  'new',
  'connecting',
  'connected',
  'disconnected',
  'failed',
  'closed',
] as const;
export type PeerConnectionState = (typeof PEER_CONNECTION_STATES)[number];

/** What the session sends to its browser through signaling (the gateway adds "to"). */
export type OutboundSignal =
  | { type: 'offer'; sdp: string }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: CandidateInit | null }
  | { type: 'bye'; reason?: string };

export interface SessionEvents {
  state: [PeerConnectionState];
  channel: [GatewayChannel];
  close: [reason: string];
}

export interface CandidateView {
  type: string;
  address: string;
  port: number;
  protocol: string;
}

export interface SessionInfo {
  sessionId: string;
  peerId: string;
  room: string;
  offerer: 'browser' | 'gateway';
  connectionState: PeerConnectionState;
  iceConnectionState: string;
  iceGatheringState: string;
  signalingState: string;
  /**
   * libdatachannel reports "connected" only once DTLS is up, so the DTLS transport state follows
   * the connection state (derived: node-datachannel has no separate DTLS state).
   */
  dtlsState: 'new' | 'connecting' | 'connected' | 'closed' | 'failed';
  selectedPair: { local: CandidateView; remote: CandidateView } | null;
  rttMs: number | null;
  bytesSent: number;
  bytesReceived: number;
  /** The a=max-message-size this gateway advertised (RFC 8841 §6). */
  localMaxMessageSize: number | null;
  /** The browser's a=max-message-size (65536 when it sent none, RFC 8841 §6.1). */
  remoteMaxMessageSize: number | null;
  /** What node-datachannel sends and accepts: the smaller of the two. */
  maxMessageSize: number;
  channels: ChannelInfo[];
  createdAt: string;
  connectedAfterMs: number | null;
}

export interface PeerSessionOptions {
  peerId: string;
  room: string;
  iceServers: IceServer[];
  signal: (message: OutboundSignal) => void;
  log: Logger;
  /** Local a=max-message-size to advertise; node-datachannel's default when unset. */
  maxMessageSize?: number;
}

/** How often open channels are checked for a close node-datachannel did not report. */
const CHANNEL_CHECK_MS = 500;

/** a=mid values of an SDP, in m-line order (for candidates that carry only sdpMLineIndex). */
function midsOf(sdp: string): string[] {
  return [...sdp.matchAll(/^a=mid:(\S+)\r?$/gm)].map((m) => m[1] ?? '');
}

export class PeerSession extends EventEmitter<SessionEvents> {
  readonly sessionId = `s_${randomBytes(6).toString('base64url')}`;
  readonly peerId: string;
  readonly room: string;
  readonly channels = new Set<GatewayChannel>();
  #pc: PeerConnection;
  #state: PeerConnectionState = 'new';
  #offerer: 'browser' | 'gateway' = 'browser';
  #remoteMids: string[] = [];
  #haveRemoteDescription = false;
  #pendingCandidates: CandidateInit[] = [];
  /**
   * While the gateway's offer awaits its answer, the gateway's own candidates are held back.
   * libdatachannel starts ICE inside setRemoteDescription before it stores the remote DTLS
   * fingerprint, and answers the browser's checks before that: a browser that already knows our
   * candidates can finish ICE and send its DTLS certificate in that gap, which then fails
   * verification ("unknown CA"). Without our candidates the browser cannot send a check until
   * the answer is fully applied.
   */
  #holdLocalCandidates = false;
  #heldCandidates: (CandidateInit | null)[] = [];
  #closed = false;
  #released!: () => void;
  /** Resolves once the PeerConnection itself is closed (close() lingers up to CLOSE_LINGER_MS). */
  readonly released: Promise<void> = new Promise((resolve) => (this.#released = resolve));
  /** Resets of channels announced after close() began (see CLOSE_GRACE_MS). */
  readonly #lateResets: Promise<void>[] = [];
  #aliveTimer: NodeJS.Timeout;
  readonly #createdAt = Date.now();
  #connectedAt: number | undefined;
  readonly #signal: (message: OutboundSignal) => void;
  readonly #log: Logger;

  constructor(options: PeerSessionOptions) {
    super();
    this.peerId = options.peerId;
    this.room = options.room;
    this.#signal = options.signal;
    // Every line of this session names it: room, peer and session (docs/configuration.md, Logs).
    this.#log = options.log.bind({ room: options.room, peerId: options.peerId, sessionId: this.sessionId });
    this.#pc = new nodeDataChannel.PeerConnection(`${options.peerId}:${this.sessionId}`, {
      iceServers: toNodeIceServers(options.iceServers),
      ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
    });
    const pc = this.#pc;
    pc.onLocalDescription(
      this.#guard('localDescription', (sdp, type) => {
        if (type === 'offer' || type === 'answer') {
          // Candidates inside the offer would let the browser start ICE early (see above); they
          // are all delivered through onLocalCandidate as well.
          const body = withoutSctpInit(this.#holdLocalCandidates ? withoutCandidates(sdp) : sdp);
          this.#send({ type, sdp: body });
        }
      }),
    );
    pc.onLocalCandidate(
      this.#guard('localCandidate', (candidate, mid) => {
        // node-datachannel gives "a=candidate:..."; RTCIceCandidateInit wants "candidate:...".
        const text = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
        this.#sendCandidate({ candidate: text, sdpMid: mid });
      }),
    );
    pc.onGatheringStateChange(
      this.#guard('gatheringState', (state) => {
        if (state === 'complete') this.#sendCandidate(null);
      }),
    );
    pc.onStateChange(
      this.#guard('state', (state) => {
        if ((PEER_CONNECTION_STATES as readonly string[]).includes(state)) {
          this.#setState(state as PeerConnectionState);
        }
      }),
    );
    pc.onDataChannel((dc: DataChannel) => {
      if (this.#closed) {
        // Announced while the session was closing: close it, and hold it until the binding says
        // so (src/nativeRefs.ts).
        try {
          hold(dc);
          this.#lateResets.push(
            new Promise((resolve) =>
              dc.onClosed(() => {
                release(dc);
                resolve();
              }),
            ),
          );
          this.#log.debug('channel announced while closing: reset', { label: dc.getLabel() });
          dc.close();
        } catch (err) {
          this.#log.debug('closing a late channel failed', { error: messageOf(err) });
        }
        return;
      }
      this.#guard('dataChannel', () => this.#adopt(dc, 'browser'))();
    });
    this.#aliveTimer = setInterval(() => {
      for (const channel of this.channels) channel.checkAlive();
    }, CHANNEL_CHECK_MS);
    this.#aliveTimer.unref();
  }

  get state(): PeerConnectionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The browser's offer: set it; node-datachannel answers by itself (onLocalDescription). */
  acceptOffer(sdp: string): void {
    this.#offerer = 'browser';
    this.#setRemote(asDtlsServer(sdp), 'offer');
  }

  acceptAnswer(sdp: string): void {
    this.#setRemote(sdp, 'answer');
    // The remote description (with its fingerprint) is now committed: let ICE start.
    this.#holdLocalCandidates = false;
    const held = this.#heldCandidates;
    this.#heldCandidates = [];
    for (const candidate of held) this.#send({ type: 'candidate', candidate });
  }

  /** The gateway offers: open the requested channels (an offer needs one), then offer. */
  offer(channels: ChannelRequest[]): GatewayChannel[] {
    this.#offerer = 'gateway';
    this.#holdLocalCandidates = true;
    // node-datachannel negotiates by itself: creating the first channel makes the offer
    // (onLocalDescription). An explicit setLocalDescription('offer') would only be ignored.
    const requested = channels.length > 0 ? channels : [{ label: 'echo' }];
    return requested.map((request) => this.openChannel(request));
  }

  /** Opens a channel from the gateway side (the browser sees a "datachannel" event). */
  openChannel(request: ChannelRequest): GatewayChannel {
    this.#assertOpen();
    const config: Parameters<PeerConnection['createDataChannel']>[1] = {};
    if (request.protocol !== undefined) config.protocol = request.protocol;
    if (request.ordered === false) config.unordered = true;
    if (request.maxRetransmits !== undefined) config.maxRetransmits = request.maxRetransmits;
    if (request.maxPacketLifeTime !== undefined) config.maxPacketLifeTime = request.maxPacketLifeTime;
    if (request.maxRetransmits !== undefined && request.maxPacketLifeTime !== undefined) {
      throw new GatewayError(
        'BAD_CHANNEL_OPTIONS',
        'maxRetransmits and maxPacketLifeTime cannot both be set',
      );
    }
    if (request.negotiated === true && request.id === undefined) {
      throw new GatewayError('BAD_CHANNEL_OPTIONS', 'a negotiated channel needs an id');
    }
    if (request.negotiated === true && request.id !== undefined) {
      const id = request.id;
      const taken = [...this.channels].find((c) => c.id === id && c.state !== 'closed');
      if (taken) throw new GatewayError('BAD_CHANNEL_OPTIONS', `stream id ${id} is used by "${taken.label}"`);
      config.negotiated = true;
      config.id = id;
    }
    const dc = this.#native('createDataChannel', () => this.#pc.createDataChannel(request.label, config));
    return this.#adopt(dc, 'gateway', {
      ordered: request.ordered ?? true,
      maxRetransmits: request.maxRetransmits ?? null,
      maxPacketLifeTime: request.maxPacketLifeTime ?? null,
      negotiated: request.negotiated ?? false,
    });
  }

  addRemoteCandidate(init: CandidateInit | null): void {
    if (this.#closed || init === null || init.candidate === '') return; // end-of-candidates
    if (!this.#haveRemoteDescription) {
      this.#pendingCandidates.push(init);
      return;
    }
    const text = init.candidate.replace(/^a=/, '');
    // Browsers hide host addresses behind random mDNS names (draft-ietf-mmusic-mdns-ice-candidates).
    // libjuice cannot resolve them; it learns the same address as peer-reflexive from the browser's
    // connectivity checks instead (RFC 8445 §7.3.1.3), so these are skipped, not errors.
    const address = text.split(' ')[4] ?? '';
    if (address.endsWith('.local')) {
      this.#log.debug('skipping mDNS candidate', { address });
      return;
    }
    const mid =
      init.sdpMid ??
      (init.sdpMLineIndex !== undefined && init.sdpMLineIndex !== null
        ? this.#remoteMids[init.sdpMLineIndex]
        : undefined) ??
      this.#remoteMids[0] ??
      '0';
    try {
      this.#pc.addRemoteCandidate(text, mid);
    } catch (err) {
      // A candidate the stack cannot use is not fatal to the session (RFC 8838 §11).
      this.#log.warn('remote candidate refused', {
        candidate: text,
        error: messageOf(err),
      });
    }
  }

  /** Bytes the association has sent so far (0 once closed): cheaper than info() for a watch. */
  get bytesSent(): number {
    if (this.#closed) return 0;
    try {
      return this.#pc.bytesSent();
    } catch {
      return 0;
    }
  }

  info(): SessionInfo {
    const pc = this.#pc;
    const read = <T>(fn: () => T, fallback: T): T => {
      if (this.#closed) return fallback;
      try {
        return fn();
      } catch {
        return fallback;
      }
    };
    const pair = read(() => pc.getSelectedCandidatePair(), null);
    const view = (c: { type: string; address: string; port: number; transportType: string }) => ({
      type: c.type,
      address: c.address,
      port: c.port,
      protocol: c.transportType.toLowerCase(),
    });
    const rtt = read(() => pc.rtt(), -1);
    return {
      sessionId: this.sessionId,
      peerId: this.peerId,
      room: this.room,
      offerer: this.#offerer,
      connectionState: this.#state,
      iceConnectionState: read(() => pc.iceState(), 'closed'),
      iceGatheringState: read(() => pc.gatheringState(), 'complete'),
      signalingState: read(() => pc.signalingState(), 'closed'),
      dtlsState: dtlsStateOf(this.#state),
      selectedPair: pair ? { local: view(pair.local), remote: view(pair.remote) } : null,
      rttMs: rtt >= 0 ? rtt : null,
      bytesSent: this.bytesSent,
      bytesReceived: read(() => pc.bytesReceived(), 0),
      localMaxMessageSize: maxMessageSizeOf(read(() => pc.localDescription()?.sdp, undefined)),
      remoteMaxMessageSize: maxMessageSizeOf(read(() => pc.remoteDescription()?.sdp, undefined)),
      maxMessageSize: read(() => pc.maxMessageSize(), 0),
      channels: [...this.channels].map((c) => c.info()),
      createdAt: new Date(this.#createdAt).toISOString(),
      connectedAfterMs: this.#connectedAt === undefined ? null : this.#connectedAt - this.#createdAt,
    };
  }

  /**
   * Ends the session: closes every channel and the PeerConnection, frees them, emits "close" once.
   * `tellPeer` sends a bye first (not when the browser is the one that left).
   */
  close(reason: string, tellPeer = false, { peerLeft = false }: { peerLeft?: boolean } = {}): void {
    if (this.#closed) return;
    if (tellPeer) this.#send({ type: 'bye', reason });
    this.#closed = true;
    clearInterval(this.#aliveTimer);
    // Close the channels first (SCTP stream resets, which SCTP retransmits) and close the
    // PeerConnection once the peer has acknowledged them (at most CLOSE_LINGER_MS), and no sooner
    // than CLOSE_GRACE_MS. The PeerConnection's own close cannot be relied on to reach the browser:
    // node-datachannel drops its PeerConnection in close(), and libdatachannel's destructor tears
    // the transports down without waiting for the SCTP SHUTDOWN handshake. In 6 of 8 runs with
    // NDC_LOG=Debug Chromium never heard of the association's end and failed the connection by ICE
    // (about 16 s later); its channels closed at once only where the gateway had reset them.
    // Timers not unref'd: a process must not exit (nor call cleanup()) with the PeerConnection open.
    const after = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const within = (p: Promise<unknown>): Promise<void> =>
      Promise.race([p, after(CLOSE_LINGER_MS)]).then(() => undefined);
    const resets: Promise<void>[] = [];
    const closeChannel = (channel: GatewayChannel): Promise<void> => {
      const open = channel.state === 'open' || channel.state === 'connecting';
      channel.close();
      channel.markClosed();
      return open ? channel.nativeClosed : Promise.resolve();
    };
    // A channel whose peer announced more bytes than have come is closed once they are in: the
    // browser sent them before its bye (its close event follows the stream reset, which follows
    // the data), but node-datachannel may not have handed them to JavaScript yet, and closing the
    // channel here would drop them (libdatachannel ignores what comes after a local close).
    const draining: Promise<void>[] = [];
    const drainThenClose = (channel: GatewayChannel) =>
      channel.inboundDone(INBOUND_LINGER_MS).then(() => within(closeChannel(channel)));
    for (const channel of this.channels) {
      if (channel.awaitingInbound) {
        draining.push(drainThenClose(channel));
      } else if (peerLeft && (channel.state === 'open' || channel.state === 'connecting')) {
        // The browser left: it said bye, or closed its PeerConnection. A page that left with end()
        // does so only once its channels have closed, so their closes (and the messages before
        // them, the control channel's byte count included) are already waiting in
        // node-datachannel's callback queue, behind the bye that came over signaling or the
        // state change. Closing the channel now would drop them (run 35: 512 KiB lost in 3 of 24
        // repeats after a bye; 2026-11-28: 400 KiB after a PeerConnection close). So wait for the
        // channel's own close first (at most CLOSE_LINGER_MS: a page that just closed its
        // PeerConnection may send none), then for any bytes it turned out to announce.
        draining.push(within(channel.nativeClosed).then(() => drainThenClose(channel)));
      } else {
        resets.push(closeChannel(channel));
      }
    }
    this.channels.clear();
    const pc = this.#pc;
    const teardown = () => {
      try {
        pc.close();
      } catch (err) {
        this.#log.debug('pc.close failed', { error: messageOf(err) });
      }
      this.#released();
    };
    let rtt = -1;
    try {
      rtt = pc.rtt();
    } catch {
      // no round trip measured: the minimum grace applies
    }
    const grace = Math.min(CLOSE_LINGER_MS, Math.max(CLOSE_GRACE_MS, 2 * rtt));
    void Promise.all([within(Promise.all(resets)), after(grace), ...draining])
      // Channels announced while this ran were reset on arrival (see onDataChannel): their turn.
      .then(() => within(Promise.all(this.#lateResets)))
      .then(teardown);
    this.#setState('closed');
    this.#log.info('session closed', { reason });
    emitSafely(this.#log, 'close', () => this.emit('close', reason));
  }

  #adopt(dc: DataChannel, opener: 'browser' | 'gateway', options?: ChannelOptions): GatewayChannel {
    const channel = new GatewayChannel(dc, opener, this.#log, options);
    this.channels.add(channel);
    channel.once('close', () => this.channels.delete(channel));
    emitSafely(this.#log, 'channel', () => this.emit('channel', channel));
    // A channel the browser already closed again (node-datachannel #211): first reading now.
    channel.checkAlive();
    return channel;
  }

  #setRemote(sdp: string, type: 'offer' | 'answer'): void {
    this.#assertOpen();
    const usable = withoutSctpInit(sdp);
    if (usable !== sdp) this.#log.debug('declined SCTP SNAP (a=sctp-init)', { type });
    try {
      this.#pc.setRemoteDescription(usable, type);
    } catch (err) {
      throw new GatewayError('BAD_REMOTE_DESCRIPTION', `remote ${type} refused: ${messageOf(err)}`, {
        cause: err,
      });
    }
    this.#remoteMids = midsOf(sdp);
    this.#haveRemoteDescription = true;
    const pending = this.#pendingCandidates;
    this.#pendingCandidates = [];
    for (const candidate of pending) this.addRemoteCandidate(candidate);
  }

  #sendCandidate(candidate: CandidateInit | null): void {
    if (this.#holdLocalCandidates) this.#heldCandidates.push(candidate);
    else this.#send({ type: 'candidate', candidate });
  }

  #send(message: OutboundSignal): void {
    if (this.#closed) return;
    this.#signal(message);
  }

  #assertOpen(): void {
    if (this.#closed) throw new GatewayError('SESSION_CLOSED', `session ${this.sessionId} is closed`);
  }

  #native<T>(what: string, fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw new GatewayError('NATIVE_ERROR', `${what} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Wraps a node-datachannel callback: ignored after close, never throws into native code. */
  #guard<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.#closed) return;
      try {
        fn(...args);
      } catch (err) {
        this.#log.error(`${what} callback failed`, { error: messageOf(err) });
      }
    };
  }

  // The one place the connection state changes: repeats ignored, closed final, emitted once.
  #setState(next: PeerConnectionState): void {
    if (this.#state === next || this.#state === 'closed') return;
    this.#log.info('connection state', { from: this.#state, to: next });
    this.#state = next;
    if (next === 'connected') this.#connectedAt ??= Date.now();
    emitSafely(this.#log, 'state', () => this.emit('state', next));
    // A PeerConnection the browser closed (DTLS close_notify, SCTP ABORT or SHUTDOWN) is the browser
    // leaving, like its bye: what it sent before is still in node-datachannel's callback queue, behind
    // this state change (the PeerConnection's callbacks were created before any channel's).
    if (next === 'failed') this.close('connection failed', true);
    else if (next === 'closed') this.close('connection closed', false, { peerLeft: true });
  }
}

/** a=max-message-size of an SDP's application m-section; RFC 8841 §6.1's 65536 when absent. */
export function maxMessageSizeOf(sdp: string | undefined): number | null {
  if (sdp === undefined) return null;
  const m = /^a=max-message-size:(\d+)\r?$/m.exec(sdp);
  return m ? Number(m[1]) : 65536;
}

/**
 * Removes SCTP "SNAP" (draft-hancke-tsvwg-snap: an SCTP INIT carried in SDP as a=sctp-init).
 * libdatachannel 0.24 (inside node-datachannel 0.33) copies unknown attributes of an offer into
 * its answer, so it echoes the browser's INIT back; Chrome then takes the handshake as done,
 * sends its first data under tags the gateway's SCTP never agreed to, and the channel never
 * opens (libdatachannel #1620, fixed by #1637). Without the attribute on either side, Chrome falls
 * back to the normal SCTP handshake, as the draft requires. Applied to what the gateway is given
 * and, as a guard, to what it sends.
 */
export function withoutSctpInit(sdp: string): string {
  return sdp.replace(/^a=sctp-init:.*\r?\n/gm, '');
}

/**
 * Makes the gateway the DTLS server of a browser's offer: its a=setup:actpass, read as
 * a=setup:active, makes libdatachannel answer a=setup:passive (RFC 8842 §5.3 leaves the answerer
 * the choice), so the browser sends the first DTLS flight once it has applied the answer and its
 * ICE is up. As DTLS client (libdatachannel's own choice, a=setup:active) the gateway sent its
 * ClientHello as soon as its own ICE check succeeded, which with a browser candidate it can check
 * at once (a real address: STUN, TURN, no mDNS) can be before the browser has the answer:
 * Firefox drops it and OpenSSL resends only after its fixed 1 s timer (most Firefox connections
 * took ~1020 ms instead of ~20 ms). A ClientHello that reaches libdatachannel before its own ICE
 * is up waits in the ICE transport's queue (up to 8 packets) and is answered then.
 */
export function asDtlsServer(sdp: string): string {
  return sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1');
}

function withoutCandidates(sdp: string): string {
  return sdp.replace(/^a=(candidate:|end-of-candidates).*\r?\n/gm, '');
}

export function dtlsStateOf(state: PeerConnectionState): SessionInfo['dtlsState'] {
  switch (state) {
    case 'new':
      return 'new';
    case 'connecting':
      return 'connecting';
    case 'connected':
    case 'disconnected':
      return 'connected';
    case 'failed':
      return 'failed';
    case 'closed':
      return 'closed';
  }
}
