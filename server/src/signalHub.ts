/**
 * The signaling protocol, independent of transport: every connection (ws subprotocol or Socket.IO)
 * becomes a HubClient, and every frame goes through the same decode → check → relay path.
 * A connection speaks the version it negotiated: on rtcgate.signal.v1 it is at most one peer; on
 * rtcgate.signal.v2 it holds any number of peers (up to maxPeersPerConnection), each client
 * message names the peer it is sent `as`, and each message for one peer names it in `to`.
 * Spec: docs/protocol.md.
 */
import type { Logger } from './log.js';
import type { HubMetrics } from './metrics.js';
import {
  PROTOCOL,
  PROTOCOL_V2,
  SIGNAL_ERROR_TEXT,
  decodeClientFrame,
  encode,
  type ClientMessage,
  type Decoded,
  type IceServer,
  type ProtocolName,
  type RelayedClientMessage,
  type RelayedClientMessageV2,
  type RelayedServerMessage,
  type ServerMessage,
  type ServerMessageOf,
  type ServerMessageV2,
  type SignalErrorCode,
} from './protocol/index.js';
import { RoomRegistry, type Member } from './rooms.js';

export const TRANSPORTS = ['ws', 'socket.io'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const DEFAULT_MAX_PEERS_PER_CONNECTION = 500;

/** What a transport adapter gives the hub for one connection. */
export interface Connection {
  readonly transport: Transport;
  /** Sends one encoded server message; must not throw. */
  send(text: string): void;
}

export interface HubOptions {
  /** ICE servers handed to each peer in its join reply (with TURN credentials of its own). */
  iceServers: (role: 'browser' | 'gateway', peerId: string) => IceServer[];
  maxPeersPerRoom?: number;
  /** Peers one rtcgate.signal.v2 connection may hold at once; default 500. */
  maxPeersPerConnection?: number;
  log: Logger;
  /** Told of every message received and sent (metrics.ts). */
  metrics?: HubMetrics;
}

export interface HubStats {
  /** Open signaling connections. */
  connections: number;
  /** Joined peers: at most one per v1 connection, any number per v2 connection. */
  peers: number;
  rooms: number;
}

/** One transport's share: connections, joined peers by role, and rooms it has a peer in. */
export interface TransportStats {
  connections: number;
  peers: { browser: number; gateway: number };
  rooms: number;
}

/** A server message for one peer, as v1 writes it; a v2 connection adds the peer's id as `to`. */
export type PeerMessage = ServerMessageOf<'peer-joined' | 'peer-left'> | RelayedServerMessage;

export class HubClient {
  /** This connection's peers by id, oldest first: at most one on v1. */
  readonly #peers = new Map<string, Member<HubClient>>();
  #closed = false;

  constructor(
    readonly hub: SignalHub,
    readonly connection: Connection,
    readonly protocol: ProtocolName = PROTOCOL,
  ) {}

  /** The connection's oldest peer: on v1 its only one. */
  get member(): Member<HubClient> | undefined {
    return this.#peers.values().next().value;
  }

  /** This connection's peers, oldest first. */
  get peers(): Member<HubClient>[] {
    return [...this.#peers.values()];
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  get peerIds(): string[] {
    return [...this.#peers.keys()];
  }

  /** The connection's peer `peerId`, if it is one (a v2 message's `as`). */
  peer(peerId: string): Member<HubClient> | undefined {
    return this.#peers.get(peerId);
  }

  /** Called by the transport for every inbound frame (text or anything else it received). */
  receive(frame: unknown): void {
    if (this.#closed) return;
    this.hub.handle(this, frame);
  }

  /**
   * Called by the transport once the connection is gone, whatever the cause. `detail` is the
   * transport's own word for it (a ws close code, a Socket.IO disconnect reason), for the log only.
   */
  closed(reason: string, detail?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.drop(this, reason, detail);
  }

  send(message: ServerMessage | ServerMessageV2): void {
    if (this.#closed) return;
    this.connection.send(encode(message));
    const metrics = this.hub.options.metrics;
    if (!metrics) return;
    metrics.sent(this.connection.transport, message.type);
    if (message.type === 'error') metrics.refused(this.connection.transport, message.code);
  }

  /** Sends `message` to this connection's peer `peerId`; on v2 it says which peer in `to`. */
  deliver(peerId: string, message: PeerMessage): void {
    this.send(this.protocol === PROTOCOL_V2 ? { ...message, to: peerId } : message);
  }

  /**
   * Refuses a message. `as` is the peer the message was sent as (v2): the error names it in `to`
   * when it is one of this connection's peers, so a client holding many can tell whose it is.
   */
  sendError(code: SignalErrorCode, message?: string, ref?: string, as?: string): void {
    const to = this.protocol === PROTOCOL_V2 && as !== undefined && this.#peers.has(as) ? as : undefined;
    this.send({
      type: 'error',
      code,
      message: message ?? SIGNAL_ERROR_TEXT[code],
      ...(ref === undefined ? {} : { ref }),
      ...(to === undefined ? {} : { to }),
    });
  }

  /** @internal set by the hub on join. */
  addPeer(member: Member<HubClient>): void {
    this.#peers.set(member.peerId, member);
  }

  /** @internal */
  removePeer(peerId: string): void {
    this.#peers.delete(peerId);
  }
}

type Join = Extract<ClientMessage, { type: 'join' }>;

export class SignalHub {
  readonly rooms: RoomRegistry<HubClient>;
  readonly #clients = new Set<HubClient>();
  readonly #log: Logger;
  readonly #maxPeersPerConnection: number;

  constructor(readonly options: HubOptions) {
    this.rooms = new RoomRegistry(options.maxPeersPerRoom);
    this.#maxPeersPerConnection = options.maxPeersPerConnection ?? DEFAULT_MAX_PEERS_PER_CONNECTION;
    this.#log = options.log;
  }

  /** A new connection that negotiated `protocol` (default rtcgate.signal.v1). */
  attach(connection: Connection, protocol: ProtocolName = PROTOCOL): HubClient {
    const client = new HubClient(this, connection, protocol);
    this.#clients.add(client);
    return client;
  }

  /** stats() per transport, for the metrics. */
  statsByTransport(): Record<Transport, TransportStats> {
    const empty = (): TransportStats => ({ connections: 0, peers: { browser: 0, gateway: 0 }, rooms: 0 });
    const out: Record<Transport, TransportStats> = { ws: empty(), 'socket.io': empty() };
    const rooms: Record<Transport, Set<string>> = { ws: new Set(), 'socket.io': new Set() };
    for (const client of this.#clients) {
      const t = client.connection.transport;
      out[t].connections += 1;
      for (const member of client.peers) {
        out[t].peers[member.role] += 1;
        rooms[t].add(member.room);
      }
    }
    for (const t of TRANSPORTS) out[t].rooms = rooms[t].size;
    return out;
  }

  stats(): HubStats {
    return {
      connections: this.#clients.size,
      peers: this.rooms.memberCount,
      rooms: this.rooms.roomCount,
    };
  }

  /** @internal */
  handle(client: HubClient, frame: unknown): void {
    if (client.protocol === PROTOCOL_V2) this.#handleV2(client, frame);
    else this.#handleV1(client, frame);
  }

  #handleV1(client: HubClient, frame: unknown): void {
    const decoded = decodeClientFrame(frame);
    this.options.metrics?.received(
      client.connection.transport,
      decoded.ok ? decoded.message.type : 'invalid',
    );
    if (!decoded.ok) {
      this.#refuse(client, decoded);
      return;
    }
    const message = decoded.message;
    const member = client.member;
    if (message.type === 'join') {
      if (member) client.sendError('ALREADY_JOINED', undefined, 'join');
      else this.#join(client, message);
      return;
    }
    if (!member) {
      client.sendError('NOT_JOINED', undefined, message.type);
      return;
    }
    this.#relay(member, message, client);
  }

  #handleV2(client: HubClient, frame: unknown): void {
    const decoded = decodeClientFrame(frame, PROTOCOL_V2);
    this.options.metrics?.received(
      client.connection.transport,
      decoded.ok ? decoded.message.type : 'invalid',
    );
    if (!decoded.ok) {
      this.#refuse(client, decoded);
      return;
    }
    const message = decoded.message;
    if (message.type === 'join') {
      // Every join is a new peer; the limit keeps one connection from holding the whole server.
      if (client.peerCount >= this.#maxPeersPerConnection) {
        client.sendError('TOO_MANY_PEERS', undefined, 'join');
        return;
      }
      this.#join(client, message);
      return;
    }
    const member = client.peer(message.as);
    if (!member) {
      // v1's text ("before the connection has joined") does not fit a connection with peers.
      const why = `No peer ${message.as} on this connection: "as" must name a peer it joined and has not left.`;
      client.sendError('NOT_JOINED', why, message.type);
      return;
    }
    if (message.type === 'leave') {
      this.#leave(client, member, 'left', 'leave');
      return;
    }
    this.#relay(member, message, client);
  }

  /** Answers a frame the codec refused. */
  #refuse(client: HubClient, refused: Extract<Decoded<unknown>, { ok: false }>): void {
    this.#log.debug('rejected frame', {
      transport: client.connection.transport,
      peerId: refused.as ?? client.member?.peerId,
      code: refused.code,
    });
    client.sendError(refused.code, refused.message, refused.ref, refused.as);
  }

  #join(client: HubClient, message: Join): void {
    const joined = this.rooms.join(message.room, message.role, client);
    if (!joined.ok) {
      client.sendError(joined.code, undefined, 'join');
      return;
    }
    const self = joined.member;
    client.addPeer(self);
    this.#log.info('peer joined', {
      room: self.room,
      peerId: self.peerId,
      role: self.role,
      transport: client.connection.transport,
    });
    const fields = {
      room: self.room,
      peerId: self.peerId,
      role: self.role,
      peers: joined.peers,
      iceServers: this.options.iceServers(self.role, self.peerId),
    };
    // `joined` names the version the connection speaks.
    if (client.protocol === PROTOCOL_V2) client.send({ type: 'joined', protocol: PROTOCOL_V2, ...fields });
    else client.send({ type: 'joined', protocol: PROTOCOL, ...fields });
    for (const other of this.rooms.othersInRoom(self.room, self.peerId)) {
      other.handle.deliver(other.peerId, { type: 'peer-joined', peerId: self.peerId, role: self.role });
    }
  }

  #relay(
    from: Member<HubClient>,
    message: RelayedClientMessage | RelayedClientMessageV2,
    client: HubClient,
  ): void {
    const target = message.to === from.peerId ? undefined : this.rooms.findInRoom(from.room, message.to);
    if (!target) {
      client.sendError(
        'UNKNOWN_PEER',
        `No peer ${message.to} in room ${from.room}.`,
        message.type,
        from.peerId,
      );
      return;
    }
    target.handle.deliver(target.peerId, relayedFrom(message, from.peerId));
  }

  /** One peer leaves its room; the others there are told. The connection may hold more peers. */
  #leave(client: HubClient, member: Member<HubClient>, reason: string, detail?: string): void {
    client.removePeer(member.peerId);
    const others = this.rooms.leave(member.peerId);
    this.#log.info('peer left', {
      room: member.room,
      peerId: member.peerId,
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
    for (const other of others) {
      other.handle.deliver(other.peerId, { type: 'peer-left', peerId: member.peerId, reason });
    }
  }

  /** @internal */
  drop(client: HubClient, reason: string, detail?: string): void {
    this.#clients.delete(client);
    for (const member of client.peers) this.#leave(client, member, reason, detail);
  }
}

/**
 * The message as its receiver gets it. The server writes "from" itself, so a client cannot name
 * another sender; `to` and (v2) `as` are the sender's addressing and are dropped.
 */
function relayedFrom(
  message: RelayedClientMessage | RelayedClientMessageV2,
  from: string,
): RelayedServerMessage {
  const { to: _to, ...rest } = message;
  if ('as' in rest) {
    const { as: _as, ...fields } = rest;
    return { ...fields, from };
  }
  return { ...rest, from };
}
