/**
 * The rtcgate.signal WebSocket subprotocols at /signal (RFC 6455 §1.9, §4.2.2 for
 * Sec-WebSocket-Protocol): the server selects rtcgate.signal.v2 when the client offers it, else
 * rtcgate.signal.v1. A handshake that offers neither is refused at HTTP level with 400, an
 * `X-Rtcgate-Error: SUBPROTOCOL_REQUIRED` header and a sentence in the body.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { PROTOCOLS, SIGNAL_ERROR_TEXT, isProtocolName, type ProtocolName } from '../protocol/index.js';
import type { SignalHub } from '../signalHub.js';

export const SIGNAL_PATH = '/signal';
/** Frames above this close the connection (1009); frames above MAX_FRAME_BYTES only get an error. */
export const HARD_FRAME_LIMIT = 1024 * 1024;
/** A client that does not read its messages is cut off once this much is queued for it. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export interface WsTransportOptions {
  heartbeatMs: number;
  log: Logger;
}

export interface WsTransport {
  readonly wss: WebSocketServer;
  close(): Promise<void>;
}

/** The path of a request target; "" for one that is not a valid path (it must not throw). */
export function pathOf(target: string | undefined): string {
  const t = target ?? '/';
  const end = t.search(/[?#]/);
  return end < 0 ? t : t.slice(0, end);
}

/** The protocol the server speaks with a client offering `offered`: the newest both know. */
export function selectProtocol(offered: Iterable<string>): ProtocolName | undefined {
  const names = new Set(offered);
  return PROTOCOLS.find((name) => names.has(name));
}

function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return [];
  return header.split(',').map((p) => p.trim());
}

function refuse(socket: Duplex, status: string, code: string, body: string): void {
  const text = `${body}\n`;
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `X-Rtcgate-Error: ${code}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

export function attachWsTransport(
  server: HttpServer,
  hub: SignalHub,
  options: WsTransportOptions,
): WsTransport {
  const log = options.log;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: HARD_FRAME_LIMIT,
    handleProtocols: (protocols) => selectProtocol(protocols) ?? false,
  });
  const alive = new WeakSet<WebSocket>();
  /** Why the server itself terminated a connection, for the "peer left" log. */
  const terminatedFor = new WeakMap<WebSocket, string>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(req.url);
    if (path === '/socket.io/') return; // Socket.IO's engine handles its own upgrades.
    socket.on('error', () => socket.destroy());
    if (path !== SIGNAL_PATH) {
      refuse(socket, '404 Not Found', 'NOT_FOUND', `No WebSocket endpoint at ${path}; use ${SIGNAL_PATH}.`);
      return;
    }
    if (selectProtocol(offeredProtocols(req)) === undefined) {
      const offers = PROTOCOLS.map((name) => `"Sec-WebSocket-Protocol: ${name}"`).join(' or ');
      refuse(
        socket,
        '400 Bad Request',
        'SUBPROTOCOL_REQUIRED',
        `${SIGNAL_ERROR_TEXT.SUBPROTOCOL_REQUIRED} Offer ${offers}.`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    // The upgrade handler let through only handshakes offering a protocol, and ws then selected it
    // with handleProtocols; this guards the hub should the two ever disagree.
    const protocol = ws.protocol;
    if (!isProtocolName(protocol)) {
      log.warn('ws connection without a selected subprotocol; closing', { protocol });
      ws.close(1002, 'no rtcgate.signal subprotocol selected');
      return;
    }
    alive.add(ws);
    const client = hub.attach(
      {
        transport: 'ws',
        send(text) {
          if (ws.readyState !== ws.OPEN) return;
          if (ws.bufferedAmount > MAX_QUEUED_BYTES) {
            log.warn('client does not read its messages; closing', { peerIds: client.peerIds });
            terminatedFor.set(ws, 'not reading');
            ws.terminate();
            return;
          }
          ws.send(text);
        },
      },
      protocol,
    );
    log.debug('ws connected', { remote: req.socket.remoteAddress, protocol });
    ws.on('pong', () => alive.add(ws));
    ws.on('message', (data, isBinary) => {
      // ws hands text frames over as one UTF-8 Buffer (binaryType "nodebuffer").
      client.receive(isBinary ? data : (data as Buffer).toString('utf8'));
    });
    ws.on('error', (err) => log.debug('ws error', { error: err.message }));
    ws.on('close', (code, why) => {
      // A close handshake from the client (1000 normal, 1001 going away) is leaving; anything else
      // (1006 no handshake, heartbeat termination, 1009 oversized frame) is a lost connection.
      const detail =
        terminatedFor.get(ws) ?? (why.length > 0 ? `${code} ${why.toString('utf8')}` : String(code));
      client.closed(code === 1000 || code === 1001 ? 'left' : 'connection lost', detail);
    });
  });

  // Dead connections: a peer that misses one ping interval's pong is terminated and announced
  // as left (RFC 6455 §5.5.2).
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        terminatedFor.set(ws, 'missed heartbeat');
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, options.heartbeatMs);
  timer.unref();

  return {
    wss,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        // ws waits up to 30 s for a close handshake; a client that does not answer within a
        // second is cut off so shutdown stays prompt.
        const cut = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1000);
        wss.close(() => {
          clearTimeout(cut);
          resolve();
        });
      }),
  };
}
