/**
 * The gateway's own small HTTP endpoint: GET /healthz, GET /sessions (the gateway's view) and
 * GET /bridges (each bridged channel's credit and queues), GET /metrics (Prometheus, metrics.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathOf } from 'rtcgate-server';
import type { Gateway } from './gateway.js';

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startStatusServer(gateway: Gateway, port: number, host: string): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = pathOf(req.url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { error: 'GET only' });
    if (path === '/healthz') {
      return json(200, {
        status: gateway.peerId ? 'ok' : 'starting',
        peerId: gateway.peerId ?? null,
        room: gateway.room,
      });
    }
    if (path === '/sessions')
      return json(200, { peerId: gateway.peerId ?? null, sessions: gateway.sessionInfo() });
    if (path === '/bridges') return json(200, { bridges: gateway.bridgeInfo() });
    if (path === '/metrics') {
      const registry = gateway.metrics.registry;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (err: unknown) => json(500, { error: String(err) }),
      );
      return;
    }
    return json(404, { error: `no ${path}; try /healthz, /sessions, /bridges or /metrics` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
