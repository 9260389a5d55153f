/** HTTP: the built page at /, GET /healthz. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import { PROTOCOL, PROTOCOL_VERSION } from './protocol/index.js';
import type { SignalHub } from './signalHub.js';

export interface AppOptions {
  /** Folder holding the built page (client-web/dist); undefined serves no page. */
  staticDir: string | undefined;
  hub: SignalHub;
}

export function createApp({ staticDir, hub }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', protocol: PROTOCOL, version: PROTOCOL_VERSION, ...hub.stats() });
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
