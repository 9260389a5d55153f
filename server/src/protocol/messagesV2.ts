/**
 * rtcgate.signal.v2: several peers on one signaling connection. A browser opens WebSockets to one
 * host one at a time (RFC 6455 §4.1), so a page that starts many peers at once would otherwise
 * wait for as many handshakes. The messages are v1's with three changes:
 * - every client message but `join` names the connection's peer it is sent as (`as`);
 * - every server message meant for one peer names that peer (`to`); `error` does when the refused
 *   message named one of the connection's peers, and `joined` never does (its `peerId` is the peer);
 * - a new client message, `leave`, ends one peer and keeps the connection.
 * Strict like v1: a field this file does not list is an error. Spec: docs/protocol.md.
 */
import { z } from 'zod';
import {
  CLIENT_MESSAGE_TYPES,
  PROTOCOL,
  answerSchema,
  byeSchema,
  candidateSchema,
  errorSchema,
  joinSchema,
  joinedSchema,
  offerRequestSchema,
  offerSchema,
  peerIdSchema,
  peerJoinedSchema,
  peerLeftSchema,
  relayedAnswerSchema,
  relayedByeSchema,
  relayedCandidateSchema,
  relayedOfferRequestSchema,
  relayedOfferSchema,
} from './messages.js';

export const PROTOCOL_V2 = 'rtcgate.signal.v2';
/** Every protocol the server speaks, newest first: the order in which it prefers them. */
export const PROTOCOLS = [PROTOCOL_V2, PROTOCOL] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export function isProtocolName(value: unknown): value is ProtocolName {
  return typeof value === 'string' && (PROTOCOLS as readonly string[]).includes(value);
}

/** The connection's peer a client message is sent as. */
const asPeer = { as: peerIdSchema };
/** The connection's peer a server message is for. */
const toPeer = { to: peerIdSchema };

// ---- client -> server -------------------------------------------------------------------------

/** The same fields as v1; on v2 each successful join makes one more peer of the connection. */
export const joinSchemaV2 = joinSchema;
export const offerSchemaV2 = offerSchema.extend(asPeer);
export const answerSchemaV2 = answerSchema.extend(asPeer);
export const candidateSchemaV2 = candidateSchema.extend(asPeer);
export const offerRequestSchemaV2 = offerRequestSchema.extend(asPeer);
export const byeSchemaV2 = byeSchema.extend(asPeer);
/** The peer `as` leaves its room; the connection and its other peers stay. No reply. */
export const leaveSchema = z.strictObject({ type: z.literal('leave'), ...asPeer });

export const clientMessageSchemaV2 = z.discriminatedUnion('type', [
  joinSchemaV2,
  offerSchemaV2,
  answerSchemaV2,
  candidateSchemaV2,
  offerRequestSchemaV2,
  byeSchemaV2,
  leaveSchema,
]);
export type ClientMessageV2 = z.infer<typeof clientMessageSchemaV2>;
export type ClientMessageTypeV2 = ClientMessageV2['type'];
export const CLIENT_MESSAGE_TYPES_V2 = [
  ...CLIENT_MESSAGE_TYPES,
  'leave',
] as const satisfies readonly ClientMessageTypeV2[];
/** The v2 client messages the server forwards to one peer, replacing `as` and `to` by `from`. */
export type RelayedClientMessageV2 = Exclude<ClientMessageV2, { type: 'join' | 'leave' }>;

// ---- server -> client -------------------------------------------------------------------------

export const joinedSchemaV2 = joinedSchema.extend({ protocol: z.literal(PROTOCOL_V2) });
export const peerJoinedSchemaV2 = peerJoinedSchema.extend(toPeer);
export const peerLeftSchemaV2 = peerLeftSchema.extend(toPeer);
/** `to`: the peer the refused message was sent `as`, when that is a peer of this connection. */
export const errorSchemaV2 = errorSchema.extend({ to: peerIdSchema.optional() });
export const relayedOfferSchemaV2 = relayedOfferSchema.extend(toPeer);
export const relayedAnswerSchemaV2 = relayedAnswerSchema.extend(toPeer);
export const relayedCandidateSchemaV2 = relayedCandidateSchema.extend(toPeer);
export const relayedOfferRequestSchemaV2 = relayedOfferRequestSchema.extend(toPeer);
export const relayedByeSchemaV2 = relayedByeSchema.extend(toPeer);

export const serverMessageSchemaV2 = z.discriminatedUnion('type', [
  joinedSchemaV2,
  peerJoinedSchemaV2,
  peerLeftSchemaV2,
  errorSchemaV2,
  relayedOfferSchemaV2,
  relayedAnswerSchemaV2,
  relayedCandidateSchemaV2,
  relayedOfferRequestSchemaV2,
  relayedByeSchemaV2,
]);
export type ServerMessageV2 = z.infer<typeof serverMessageSchemaV2>;
export type ServerMessageOfV2<T extends ServerMessageV2['type']> = Extract<ServerMessageV2, { type: T }>;
export type RelayedServerMessageV2 = ServerMessageOfV2<
  'offer' | 'answer' | 'candidate' | 'offer-request' | 'bye'
>;
