/**
 * The same protocols over Socket.IO: namespace /signal, one event "signal" carrying one JSON text
 * message each way. The client names the protocol in its handshake auth ({ protocol }): either
 * rtcgate.signal.v2 or rtcgate.signal.v1, and the connection speaks that one.
 */
import type { Server as HttpServer } from 'node:http';
import { Server as IoServer, type Socket } from 'socket.io';
import type { Logger } from '../log.js';
import {
  PROTOCOL,
  PROTOCOLS,
  SIGNAL_ERROR_TEXT,
  isProtocolName,
  type ProtocolName,
} from '../protocol/index.js';
import type { SignalHub } from '../signalHub.js';
import { HARD_FRAME_LIMIT } from './wsTransport.js';

export const SOCKET_IO_NAMESPACE = '/signal';
export const SOCKET_IO_EVENT = 'signal';

export interface SignalEvents {
  signal: (text: string) => void;
}

export interface SocketIoTransportOptions {
  heartbeatMs: number;
  log: Logger;
}

export interface SocketIoTransport {
  readonly io: IoServer;
  close(): Promise<void>;
}

/** The protocol a Socket.IO client named in its handshake auth, if the server speaks it. */
function requestedProtocol(socket: Socket): ProtocolName | undefined {
  const auth = socket.handshake.auth as { protocol?: unknown } | undefined;
  return isProtocolName(auth?.protocol) ? auth.protocol : undefined;
}

export function attachSocketIoTransport(
  server: HttpServer,
  hub: SignalHub,
  options: SocketIoTransportOptions,
): SocketIoTransport {
  const log = options.log;
  const io = new IoServer<SignalEvents, SignalEvents>(server, {
    serveClient: false,
    maxHttpBufferSize: HARD_FRAME_LIMIT,
    pingInterval: options.heartbeatMs,
    pingTimeout: options.heartbeatMs,
    destroyUpgrade: false,
    cors: { origin: true },
  });
  const nsp = io.of(SOCKET_IO_NAMESPACE);
  nsp.use((socket, next) => {
    if (requestedProtocol(socket) !== undefined) {
      next();
      return;
    }
    const err = new Error(`SUBPROTOCOL_REQUIRED: ${SIGNAL_ERROR_TEXT.SUBPROTOCOL_REQUIRED}`) as Error & {
      data?: unknown;
    };
    // `protocol` is what a v1-only client reads; `protocols` lists every name the server speaks.
    err.data = { code: 'SUBPROTOCOL_REQUIRED', protocol: PROTOCOL, protocols: [...PROTOCOLS] };
    next(err);
  });
  nsp.on('connection', (socket: Socket<SignalEvents, SignalEvents>) => {
    // The middleware let only a known protocol through.
    const protocol = requestedProtocol(socket) ?? PROTOCOL;
    log.debug('socket.io connected', { remote: socket.handshake.address, protocol });
    const client = hub.attach(
      {
        transport: 'socket.io',
        send(text) {
          socket.emit(SOCKET_IO_EVENT, text);
        },
      },
      protocol,
    );
    socket.onAny((event: string, ...args: unknown[]) => {
      // Exactly one string argument on the "signal" event; anything else is not a text frame.
      if (event === SOCKET_IO_EVENT && args.length === 1) client.receive(args[0]);
      else client.receive(undefined);
    });
    socket.on('disconnect', (reason) => {
      // Same rule as the ws transport: only the client's own disconnect() is leaving.
      client.closed(reason === 'client namespace disconnect' ? 'left' : 'connection lost', reason);
    });
  });
  return {
    io,
    close: () =>
      new Promise<void>((resolve) => {
        nsp.disconnectSockets(true);
        void io.close(() => resolve());
      }),
  };
}
