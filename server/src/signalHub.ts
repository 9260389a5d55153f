/**
 * The signaling protocol, independent of transport: every connection (ws subprotocol or Socket.IO)
 * becomes a HubClient, and every frame goes through the same decode → check → relay path.
 * Spec: docs/protocol.md.
 */
import type { Logger } from './log.js';
import {
  PROTOCOL,
  SIGNAL_ERROR_TEXT,
  decodeClientFrame,
  encode,
  type IceServer,
  type RelayedClientMessage,
  type ServerMessage,
  type SignalErrorCode,
} from './protocol/index.js';
import { RoomRegistry, type Member } from './rooms.js';

export const TRANSPORTS = ['ws', 'socket.io'] as const;
export type Transport = (typeof TRANSPORTS)[number];

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
  log: Logger;
}

export interface HubStats {
  connections: number;
  peers: number;
  rooms: number;
}

export class HubClient {
  #member: Member<HubClient> | undefined;
  #closed = false;

  constructor(
    readonly hub: SignalHub,
    readonly connection: Connection,
  ) {}

  get member(): Member<HubClient> | undefined {
    return this.#member;
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

  send(message: ServerMessage): void {
    if (!this.#closed) this.connection.send(encode(message));
  }

  sendError(code: SignalErrorCode, message?: string, ref?: string): void {
    this.send({
      type: 'error',
      code,
      message: message ?? SIGNAL_ERROR_TEXT[code],
      ...(ref === undefined ? {} : { ref }),
    });
  }

  /** @internal set by the hub on join. */
  setMember(member: Member<HubClient>): void {
    this.#member = member;
  }
}

export class SignalHub {
  readonly rooms: RoomRegistry<HubClient>;
  readonly #clients = new Set<HubClient>();
  readonly #log: Logger;

  constructor(readonly options: HubOptions) {
    this.rooms = new RoomRegistry(options.maxPeersPerRoom);
    this.#log = options.log;
  }

  attach(connection: Connection): HubClient {
    const client = new HubClient(this, connection);
    this.#clients.add(client);
    return client;
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
    const decoded = decodeClientFrame(frame);
    if (!decoded.ok) {
      this.#log.debug('rejected frame', {
        transport: client.connection.transport,
        peerId: client.member?.peerId,
        code: decoded.code,
      });
      client.sendError(decoded.code, decoded.message, decoded.ref);
      return;
    }
    const message = decoded.message;
    const member = client.member;
    if (message.type === 'join') {
      if (member) {
        client.sendError('ALREADY_JOINED', undefined, 'join');
        return;
      }
      const joined = this.rooms.join(message.room, message.role, client);
      if (!joined.ok) {
        client.sendError(joined.code, undefined, 'join');
        return;
      }
      const self = joined.member;
      client.setMember(self);
      this.#log.info('peer joined', {
        room: self.room,
        peerId: self.peerId,
        role: self.role,
        transport: client.connection.transport,
      });
      client.send({
        type: 'joined',
        protocol: PROTOCOL,
        room: self.room,
        peerId: self.peerId,
        role: self.role,
        peers: joined.peers,
        iceServers: this.options.iceServers(self.role, self.peerId),
      });
      for (const other of this.rooms.othersInRoom(self.room, self.peerId)) {
        other.handle.send({ type: 'peer-joined', peerId: self.peerId, role: self.role });
      }
      return;
    }
    if (!member) {
      client.sendError('NOT_JOINED', undefined, message.type);
      return;
    }
    this.relay(member, message, client);
  }

  private relay(from: Member<HubClient>, message: RelayedClientMessage, client: HubClient): void {
    const target = message.to === from.peerId ? undefined : this.rooms.findInRoom(from.room, message.to);
    if (!target) {
      client.sendError('UNKNOWN_PEER', `No peer ${message.to} in room ${from.room}.`, message.type);
      return;
    }
    // The server writes "from" itself: a client cannot name another sender.
    const { to: _to, ...rest } = message;
    target.handle.send({ ...rest, from: from.peerId });
  }

  /** @internal */
  drop(client: HubClient, reason: string, detail?: string): void {
    this.#clients.delete(client);
    const member = client.member;
    if (!member) return;
    const others = this.rooms.leave(member.peerId);
    this.#log.info('peer left', {
      room: member.room,
      peerId: member.peerId,
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
    for (const other of others) {
      other.handle.send({ type: 'peer-left', peerId: member.peerId, reason });
    }
  }
}
