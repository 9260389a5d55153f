/** Requests no client library would send must not take the server down. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { createLogger } from '../src/log.js';
import { startServer, type RunningServer } from '../src/server.js';
import { pathOf } from '../src/transports/wsTransport.js';

let server: RunningServer;
before(async () => {
  server = await startServer(
    { port: 0, host: '127.0.0.1', staticDir: undefined },
    createLogger('t', 'silent'),
  );
});
after(async () => {
  await server.close();
});

/** Sends raw bytes and resolves with whatever the server answers before closing. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.end(request);
    setTimeout(() => socket.destroy(), 2000);
  });
}

for (const target of ['//', '//x/signal', 'http://[::1', '/%', '*']) {
  test(`an upgrade request for "${target}" is refused and the server keeps serving`, async () => {
    const answer = await raw(
      `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 (400|404)/);
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(res.status, 200);
  });
}

test('pathOf() keeps the path and drops query and fragment without ever throwing', () => {
  assert.equal(pathOf('/signal?x=1'), '/signal');
  assert.equal(pathOf('/signal#f'), '/signal');
  assert.equal(pathOf('//'), '//');
  assert.equal(pathOf(undefined), '/');
});
