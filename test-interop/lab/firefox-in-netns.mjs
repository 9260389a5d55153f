#!/usr/bin/env node
// @ts-check
/**
 * Runs Firefox inside a network namespace for Playwright:
 *   firefox-in-netns.mjs <namespace> <firefox> [firefox args…]
 * Playwright drives stock Firefox over WebDriver BiDi, a WebSocket on the browser's loopback,
 * which is the namespace's loopback here and out of Playwright's reach. This wrapper relays it: it
 * listens on the host's loopback (on Firefox's port number) and for each connection runs a small
 * pipe inside the namespace to Firefox's port; the "listening" line Playwright waits for is
 * passed on once the relay listens.
 * Only the control connection crosses; the browser's own traffic stays in the namespace.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';

const [nsArg, firefoxArg, ...args] = process.argv.slice(2);
if (!nsArg || !firefoxArg) {
  process.stderr.write('usage: firefox-in-netns.mjs <namespace> <firefox> [args…]\n');
  process.exit(2);
}
const ns = nsArg;
const firefox = firefoxArg;

const PIPE = `const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');process.stdin.pipe(s);s.pipe(process.stdout);s.on('close',()=>process.exit(0));s.on('error',()=>process.exit(1));`;

/** @param {number} inner Firefox's port inside the namespace */
async function relay(inner) {
  const server = net.createServer((socket) => {
    const pipe = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', PIPE, String(inner)], {
      stdio: /** @type {['pipe', 'pipe', 'inherit']} */ (['pipe', 'pipe', 'inherit']),
    });
    socket.pipe(pipe.stdin);
    pipe.stdout.pipe(socket);
    socket.on('error', () => pipe.kill());
    socket.on('close', () => pipe.kill());
    pipe.on('exit', () => socket.destroy());
  });
  // The same port number outside as inside when it is free here: Firefox checks that the Host
  // header names the port it listens on (a 400 otherwise).
  await new Promise((resolve) => {
    server.once('error', () => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    server.listen(inner, '127.0.0.1', () => resolve(undefined));
  });
  server.unref();
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const child = spawn('ip', ['netns', 'exec', ns, firefox, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
/** @param {NodeJS.ReadableStream} from @param {NodeJS.WritableStream} to */
function forward(from, to) {
  let buffered = '';
  from.on('data', (chunk) => {
    buffered += chunk.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const m = /WebDriver BiDi listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (!m) {
        to.write(`${line}\n`);
        continue;
      }
      void relay(Number(m[1])).then((port) => to.write(`${line.replace(`:${m[1]}`, `:${port}`)}\n`));
    }
  });
}
forward(child.stdout, process.stdout);
forward(child.stderr, process.stderr);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const s of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(s, () => child.kill(s));
