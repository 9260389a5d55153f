export {
  Gateway,
  echoHandler,
  type ChannelHandler,
  type GatewayOptions,
  type GatewayEvents,
} from './gateway.js';
export {
  PeerSession,
  PEER_CONNECTION_STATES,
  type PeerConnectionState,
  type SessionInfo,
} from './peerSession.js';
export {
  GatewayChannel,
  DATA_CHANNEL_STATES,
  DEFAULT_HIGH_WATER_MARK,
  type DataChannelState,
  type ChannelMessage,
  type ChannelOptions,
  type ChannelInfo,
} from './channel.js';
export { GatewayError, GATEWAY_ERROR_CODES, type GatewayErrorCode } from './errors.js';
export { SignalClient } from './signalClient.js';
export { convertIceServers } from './iceServers.js';
export { iceRefreshDelayMs, iceServersUrlOf } from './gateway.js';
export { startStatusServer, type StatusServer } from './statusServer.js';
export {
  loadRoutesFile,
  matchRoute,
  parseRoute,
  parseRouteFlag,
  parseTarget,
  describeTarget,
  describeRoute,
  TCP_FRAMINGS,
  type Route,
  type RouteSpec,
  type RouteTarget,
  type TcpFraming,
} from './routes.js';
export { Bridge, DEFAULT_WINDOW, type BridgeInfo, type BridgeOptions } from './bridge.js';
export { connectTcp, connectWs, BackendConnectError, type Backend, type BackendMessage } from './backends.js';
export { ChannelControl } from './channelControl.js';
