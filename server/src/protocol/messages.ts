/**
 * The rtcgate.signal.v1 protocol: the one schema that server, gateway and browser library import.
 * Each message is one JSON object with a "type". Client messages are strict: an unknown field is an
 * error, so a client can never smuggle a "from" the server would relay. Spec: docs/protocol.md.
 * rtcgate.signal.v2 (several peers on one connection) builds on these in messagesV2.ts.
 */
import { z } from 'zod';
import { SIGNAL_ERROR_CODES } from './errors.js';

export const PROTOCOL = 'rtcgate.signal.v1';
export const PROTOCOL_VERSION = 1;
/** Largest accepted frame, in bytes of UTF-8, on both transports. */
export const MAX_FRAME_BYTES = 64 * 1024;
export const DEFAULT_ROOM = 'default';

export const ROLES = ['browser', 'gateway'] as const;
export type Role = (typeof ROLES)[number];

const roomName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'room: 1-64 characters of A-Z a-z 0-9 . _ -');
/** Server-assigned; clients only ever echo ids they were told. */
const peerId = z.string().regex(/^p_[A-Za-z0-9_-]{8,32}$/, 'peer id as assigned by the server');
/** A peer id as the server makes them (docs/protocol.md, "Peer ids"); rtcgate.signal.v2 reuses it. */
export const peerIdSchema = peerId;
const sdp = z.string().min(1).max(60_000);
const reason = z.string().max(256);

export const iceServerSchema = z.strictObject({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

/** The browser's RTCIceCandidateInit; null is end-of-candidates. */
export const candidateInitSchema = z.strictObject({
  candidate: z.string().max(1024),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});
export type CandidateInit = z.infer<typeof candidateInitSchema>;

// ---- client -> server -------------------------------------------------------------------------

export const joinSchema = z.strictObject({
  type: z.literal('join'),
  room: roomName,
  role: z.enum(ROLES),
});
export const offerSchema = z.strictObject({ type: z.literal('offer'), to: peerId, sdp });
export const answerSchema = z.strictObject({ type: z.literal('answer'), to: peerId, sdp });
export const candidateSchema = z.strictObject({
  type: z.literal('candidate'),
  to: peerId,
  candidate: candidateInitSchema.nullable(),
});
/** Options of a channel the offering gateway opens (RTCDataChannelInit, W3C webrtc-pc §6.2). */
export const channelRequestSchema = z
  .strictObject({
    label: z.string().max(1024),
    protocol: z.string().max(1024).optional(),
    ordered: z.boolean().optional(),
    maxRetransmits: z.number().int().min(0).max(65535).optional(),
    maxPacketLifeTime: z.number().int().min(0).max(65535).optional(),
    /** Both sides create the channel themselves with the same `id` (no in-band announcement). */
    negotiated: z.boolean().optional(),
    /** SCTP stream id (RFC 8831 §6.5), required with `negotiated: true`. */
    id: z.number().int().min(0).max(65534).optional(),
  })
  // The same two rules RTCPeerConnection.createDataChannel enforces (webrtc-pc §6.1).
  .refine((c) => c.maxRetransmits === undefined || c.maxPacketLifeTime === undefined, {
    message: 'maxRetransmits and maxPacketLifeTime cannot both be set',
    path: ['maxPacketLifeTime'],
  })
  .refine((c) => c.negotiated !== true || c.id !== undefined, {
    message: 'a negotiated channel needs an id',
    path: ['id'],
  });
export type ChannelRequest = z.infer<typeof channelRequestSchema>;

/**
 * Ask the other peer to send the offer (the gateway offers, the browser answers). The gateway
 * opens the listed channels before offering (an offer needs at least one); default: one "echo".
 */
export const offerRequestSchema = z.strictObject({
  type: z.literal('offer-request'),
  to: peerId,
  channels: z.array(channelRequestSchema).min(1).max(64).optional(),
});
/** "I am ending our session": the receiver closes its PeerConnection with the sender. */
export const byeSchema = z.strictObject({
  type: z.literal('bye'),
  to: peerId,
  reason: reason.optional(),
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  joinSchema,
  offerSchema,
  answerSchema,
  candidateSchema,
  offerRequestSchema,
  byeSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES = [
  'join',
  'offer',
  'answer',
  'candidate',
  'offer-request',
  'bye',
] as const satisfies readonly ClientMessageType[];
/** The client messages the server forwards to one peer, adding "from". */
export type RelayedClientMessage = Exclude<ClientMessage, { type: 'join' }>;

// ---- server -> client -------------------------------------------------------------------------

const peerInfo = z.strictObject({ peerId, role: z.enum(ROLES) });
export type PeerInfo = z.infer<typeof peerInfo>;

export const joinedSchema = z.strictObject({
  type: z.literal('joined'),
  protocol: z.literal(PROTOCOL),
  room: roomName,
  peerId,
  role: z.enum(ROLES),
  peers: z.array(peerInfo),
  iceServers: z.array(iceServerSchema),
});
export const peerJoinedSchema = z.strictObject({
  type: z.literal('peer-joined'),
  peerId,
  role: z.enum(ROLES),
});
export const peerLeftSchema = z.strictObject({
  type: z.literal('peer-left'),
  peerId,
  reason,
});
export const errorSchema = z.strictObject({
  type: z.literal('error'),
  code: z.enum(SIGNAL_ERROR_CODES),
  message: z.string(),
  /** The type of the message that caused the error, when it could be read. */
  ref: z.string().max(64).optional(),
});

// The relayed messages as the receiver gets them: the sender's "to" replaced by "from".
const fromPeer = { from: peerId };
export const relayedOfferSchema = z.strictObject({ type: z.literal('offer'), ...fromPeer, sdp });
export const relayedAnswerSchema = z.strictObject({ type: z.literal('answer'), ...fromPeer, sdp });
export const relayedCandidateSchema = z.strictObject({
  type: z.literal('candidate'),
  ...fromPeer,
  candidate: candidateInitSchema.nullable(),
});
export const relayedOfferRequestSchema = z.strictObject({
  type: z.literal('offer-request'),
  ...fromPeer,
  channels: z.array(channelRequestSchema).min(1).max(64).optional(),
});
export const relayedByeSchema = z.strictObject({
  type: z.literal('bye'),
  ...fromPeer,
  reason: reason.optional(),
});

export const serverMessageSchema = z.discriminatedUnion('type', [
  joinedSchema,
  peerJoinedSchema,
  peerLeftSchema,
  errorSchema,
  relayedOfferSchema,
  relayedAnswerSchema,
  relayedCandidateSchema,
  relayedOfferRequestSchema,
  relayedByeSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
export type RelayedServerMessage = ServerMessageOf<
  'offer' | 'answer' | 'candidate' | 'offer-request' | 'bye'
>;
