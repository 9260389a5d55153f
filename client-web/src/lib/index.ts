export {
  GatewayConnection,
  echo,
  waitForOpen,
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
export { readStats, type ConnectionStats, type CandidateSummary } from './stats.js';
export { RtcgateError, CLIENT_ERROR_CODES, type ClientErrorCode } from './errors.js';
export {
  PROTOCOL,
  PROTOCOL_V2,
  MAX_FRAME_BYTES,
  SIGNAL_ERROR_CODES,
  SIGNAL_ERROR_TEXT,
} from 'rtcgate-server/protocol';
