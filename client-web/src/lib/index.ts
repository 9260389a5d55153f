export {
  GatewayConnection,
  echo,
  describeSignal,
  waitForOpen,
  CLOSED_CHANNELS_KEPT,
  END_TIMEOUT_MS,
  type ConnectOptions,
  type ConnectionEvent,
  type Offerer,
} from './connection.js';
export {
  BridgeChannel,
  ControlChannel,
  type BridgeEnd,
  type BridgeMessage,
  type BridgeOptions,
} from './bridge.js';
export {
  openSignaling,
  SharedSignaling,
  Signaling,
  SIGNAL_TRANSPORTS,
  type JoinedMessage,
  type SignalTransport,
} from './signaling.js';
export {
  readStats,
  summarizeStats,
  type ConnectionStats,
  type CandidateSummary,
  type CandidateStats,
  type CandidatePairStats,
  type DataChannelStats,
} from './stats.js';
export { RtcgateError, CLIENT_ERROR_CODES, type ClientErrorCode } from './errors.js';
export {
  PROTOCOL,
  PROTOCOL_V2,
  MAX_FRAME_BYTES,
  SIGNAL_ERROR_CODES,
  SIGNAL_ERROR_TEXT,
  CHANNEL_CLOSE_CODES,
  SESSION_END_CODES,
  type SignalErrorCode,
  type ChannelCloseCode,
  type SessionEndCode,
} from 'rtcgate-server/protocol';
