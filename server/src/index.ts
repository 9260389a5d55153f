export * from './protocol/index.js';
export { startServer, type RunningServer, type ServerOptions } from './server.js';
export { ServerMetrics, createRegistry, type HubMetrics } from './metrics.js';
export {
  serverConfigFromEnv,
  resolveServerConfig,
  parseIceServers,
  ConfigError,
  SERVER_OPTIONS,
  COMMON_OPTIONS,
  iceServersOption,
  DEFAULT_STATIC_DIR,
  type ServerConfig,
} from './config.js';
export {
  resolveOptions,
  loadConfigFile,
  describeConfig,
  whereOf,
  intOption,
  textOption,
  choiceOption,
  listOption,
  jsonValue,
  maskUrl,
  maskIceServers,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  type OptionSource,
  type ConfigSources,
  type ConfigFile,
  type Resolved,
} from './options.js';
export { SignalHub, type Transport, TRANSPORTS } from './signalHub.js';
export { RoomRegistry } from './rooms.js';
export {
  createLogger,
  LOG_LEVELS,
  LOG_FORMATS,
  type Logger,
  type LogLevel,
  type LogFormat,
  type LoggerOptions,
} from './log.js';
export { SIGNAL_PATH, pathOf } from './transports/wsTransport.js';
export { SOCKET_IO_NAMESPACE, SOCKET_IO_EVENT } from './transports/socketIoTransport.js';
