/**
 * The room registry: who is in which room, under which server-assigned peer id.
 * It knows nothing about transports; the signal hub owns the wire.
 */
import { randomBytes } from 'node:crypto';
import type { PeerInfo, Role } from './protocol/index.js';

export interface Member<T> {
  readonly peerId: string;
  readonly room: string;
  readonly role: Role;
  readonly handle: T;
}

export type JoinResult<T> =
  { ok: true; member: Member<T>; peers: PeerInfo[] } | { ok: false; code: 'ROOM_FULL' };

export function newPeerId(): string {
  return `p_${randomBytes(9).toString('base64url')}`;
}

export class RoomRegistry<T> {
  readonly #rooms = new Map<string, Map<string, Member<T>>>();
  readonly #members = new Map<string, Member<T>>();

  constructor(readonly maxPeersPerRoom = 1000) {}

  join(room: string, role: Role, handle: T): JoinResult<T> {
    let members = this.#rooms.get(room);
    if (members && members.size >= this.maxPeersPerRoom) return { ok: false, code: 'ROOM_FULL' };
    let peerId = newPeerId();
    while (this.#members.has(peerId)) peerId = newPeerId();
    const member: Member<T> = { peerId, room, role, handle };
    const peers = members ? [...members.values()].map(toInfo) : [];
    if (!members) {
      members = new Map();
      this.#rooms.set(room, members);
    }
    members.set(peerId, member);
    this.#members.set(peerId, member);
    return { ok: true, member, peers };
  }

  /** Removes the member; returns the peers left in its room (to be told), or [] if unknown. */
  leave(peerId: string): Member<T>[] {
    const member = this.#members.get(peerId);
    if (!member) return [];
    this.#members.delete(peerId);
    const members = this.#rooms.get(member.room);
    if (!members) return [];
    members.delete(peerId);
    if (members.size === 0) this.#rooms.delete(member.room);
    return [...members.values()];
  }

  /** The member `to`, only if it is in `room` (a peer can reach its own room only). */
  findInRoom(room: string, to: string): Member<T> | undefined {
    const member = this.#members.get(to);
    return member && member.room === room ? member : undefined;
  }

  othersInRoom(room: string, except: string): Member<T>[] {
    const members = this.#rooms.get(room);
    return members ? [...members.values()].filter((m) => m.peerId !== except) : [];
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get memberCount(): number {
    return this.#members.size;
  }
}

function toInfo<T>(member: Member<T>): PeerInfo {
  return { peerId: member.peerId, role: member.role };
}
