/** Starts the signaling server: express + ws subprotocol + Socket.IO on one HTTP port. */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createApp } from './app.js';
import type { ServerConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { ServerMetrics } from './metrics.js';
import type { IceServer } from './protocol/index.js';
import { turnIceServers } from './turn.js';
import { DEFAULT_MAX_PEERS_PER_CONNECTION, SignalHub } from './signalHub.js';
import { attachSocketIoTransport } from './transports/socketIoTransport.js';
import { attachWsTransport, SIGNAL_PATH } from './transports/wsTransport.js';

export interface RunningServer {
  readonly http: HttpServer;
  readonly hub: SignalHub;
  /** The metrics served at GET /metrics (its registry may be shared, see ServerOptions). */
  readonly metrics: ServerMetrics;
  readonly port: number;
  /** http://host:port/ as a person would open it. */
  readonly url: string;
  /** ws://host:port/signal */
  readonly signalUrl: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  /**
   * The Prometheus registry of GET /metrics; default a new one without the process metrics (the
   * CLI passes createRegistry(), which has them). Give the gateway's to serve both from one
   * endpoint (the demo does).
   */
  registry?: Registry;
}

export async function startServer(
  config: Partial<ServerConfig> & Pick<ServerConfig, 'port'>,
  log: Logger = createLogger('server', config.logLevel ?? 'info'),
  options: ServerOptions = {},
): Promise<RunningServer> {
  const heartbeatMs = config.heartbeatMs ?? 10_000;
  const metrics = new ServerMetrics(options.registry ?? new Registry());
  const iceServersFor = (name: string, via: 'join' | 'http'): IceServer[] => {
    if (config.turn) metrics.turnIssued(via);
    return [...(config.iceServers ?? []), ...turnIceServers(config.turn, name)];
  };
  const hub = new SignalHub({
    metrics,
    iceServers: (_role, peerId) => iceServersFor(peerId, 'join'),
    maxPeersPerRoom: config.maxPeersPerRoom ?? 1000,
    maxPeersPerConnection: config.maxPeersPerConnection ?? DEFAULT_MAX_PEERS_PER_CONNECTION,
    log: log.child('hub'),
  });
  metrics.observe(hub);
  const app = createApp({
    staticDir: config.staticDir,
    hub,
    iceServers: (name) => iceServersFor(name, 'http'),
    turn: config.turn,
    registry: metrics.registry,
  });
  const http = createServer(app);
  const ws = attachWsTransport(http, hub, { heartbeatMs, log: log.child('ws') });
  const io = attachSocketIoTransport(http, hub, { heartbeatMs, log: log.child('socket.io') });

  const host = config.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  let closing: Promise<void> | undefined;
  return {
    http,
    hub,
    metrics,
    port,
    url: `http://${shownHost}:${port}/`,
    signalUrl: `ws://${shownHost}:${port}${SIGNAL_PATH}`,
    close() {
      closing ??= (async () => {
        await ws.close();
        const ioClosed = io.close(); // also closes the HTTP server, once its connections end
        http.closeAllConnections();
        await ioClosed;
      })();
      return closing;
    },
  };
}
