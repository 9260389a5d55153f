// The rtcgate image's health check (docker/Dockerfile, docker/compose.yaml): GET /healthz, exit 0
// only on 200 with {"status":"ok"}, else print why and exit 1. Images based on node:*-slim have no
// curl or wget, hence this script.
//
//   node docker/healthcheck.mjs server    the server: PORT (default 8080), on HOST
//   node docker/healthcheck.mjs gateway   the gateway: STATUS_PORT (required: without it the
//                                         gateway serves no /healthz), on STATUS_HOST
//
// It reads the ports from the environment only: a port given as a flag (--port, --status-port)
// is not seen, so the Docker files set ports through the environment. A wildcard listen address
// (0.0.0.0, ::) or none is checked on 127.0.0.1.
import { get } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TIMEOUT_MS = 4000;

function fail(message) {
  console.error(`healthcheck: ${message}`);
  process.exit(1);
}

/** The URL to check for `role`, from `env`. */
export function healthUrl(role, env) {
  let port;
  let host;
  if (role === 'server') {
    port = env.PORT?.trim() || '8080';
    host = env.HOST?.trim();
  } else if (role === 'gateway') {
    port = env.STATUS_PORT?.trim();
    if (!port) throw new Error('STATUS_PORT is not set: the gateway serves /healthz only on its status port');
    host = env.STATUS_HOST?.trim();
  } else {
    throw new Error(`unknown role "${role}": use server or gateway`);
  }
  if (!host || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
}

function check(url) {
  const req = get(url, { timeout: TIMEOUT_MS }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => {
      if (res.statusCode !== 200) fail(`${url} answered ${res.statusCode}`);
      let status;
      try {
        status = JSON.parse(body).status;
      } catch {
        fail(`${url} answered no JSON`);
      }
      if (status !== 'ok') fail(`${url} says status ${JSON.stringify(status)}`);
      process.exit(0);
    });
  });
  req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
  req.on('error', (err) => fail(`${url}: ${err.message}`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let url;
  try {
    url = healthUrl(process.argv[2] ?? 'server', process.env);
  } catch (err) {
    fail(err.message);
  }
  check(url);
}
