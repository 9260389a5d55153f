export * from './protocol/index.js';
export { startServer, type RunningServer } from './server.js';
export { serverConfigFromEnv, parseIceServers, ConfigError, type ServerConfig } from './config.js';
export { SignalHub, type Transport, TRANSPORTS } from './signalHub.js';
export { RoomRegistry } from './rooms.js';
export { createLogger, parseLogLevel, type Logger, type LogLevel } from './log.js';
export { SIGNAL_PATH, pathOf } from './transports/wsTransport.js';
export { SOCKET_IO_NAMESPACE, SOCKET_IO_EVENT } from './transports/socketIoTransport.js';
