/** HTTP: the built page at /, GET /healthz, GET /ice-servers, GET /metrics. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { PROTOCOL, PROTOCOLS, PROTOCOL_VERSION, type IceServer } from './protocol/index.js';
import type { SignalHub } from './signalHub.js';
import type { TurnConfig } from './turn.js';

export interface AppOptions {
  /** Folder holding the built page (client-web/dist); undefined serves no page. */
  staticDir: string | undefined;
  hub: SignalHub;
  /** The ICE servers for a peer named `name`, TURN credentials included. */
  iceServers: (name: string) => IceServer[];
  turn: TurnConfig | undefined;
  /** Served at GET /metrics in Prometheus' text format. */
  registry: Registry;
}

export function createApp({ staticDir, hub, iceServers, turn, registry }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', (_req, res, next) => {
    registry.metrics().then((text) => {
      res.set('Content-Type', registry.contentType);
      res.set('Cache-Control', 'no-store');
      res.send(text);
    }, next);
  });
  app.get('/healthz', (_req, res) => {
    // `protocol` and `version` stay v1's for the probes that read them; `protocols` is all of them.
    res.json({
      status: 'ok',
      protocol: PROTOCOL,
      version: PROTOCOL_VERSION,
      protocols: PROTOCOLS,
      ...hub.stats(),
    });
  });
  // Fresh ICE servers for a peer that outlives its join-time TURN credentials (a long-running
  // gateway, a page open for hours). Never cached: each reply carries credentials of its own.
  app.get('/ice-servers', (_req, res) => {
    const name = `h_${randomBytes(6).toString('base64url')}`;
    res.set('Cache-Control', 'no-store');
    res.json({
      iceServers: iceServers(name),
      ttl: turn ? turn.ttlSeconds : null,
    });
  });
  if (staticDir && existsSync(path.join(staticDir, 'index.html'))) {
    app.use(express.static(staticDir, { index: 'index.html' }));
  } else {
    app.get('/', (_req, res) => {
      res
        .status(503)
        .type('text/plain')
        .send(`The page is not built (looked in ${staticDir ?? '(none)'}). Run "npm run build".\n`);
    });
  }
  return app;
}
