/**
 * GET /metrics of the signaling server: the numbers a scrape reads move with what clients do, over
 * both transports (the browser-driven check is test-interop/tests/metrics.spec.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RunningServer } from '../src/server.js';
import { TEST_TRANSPORTS, connectClient, httpUrlOf, startQuietServer } from './signalTestClient.js';

/** The value of one series in a scrape of GET /metrics; 0 when it does not exist. */
async function sample(
  server: RunningServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`${httpUrlOf(server)}metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (have.length === want.length && want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

let server: RunningServer;
before(async () => {
  server = await startQuietServer({
    turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 's', ttlSeconds: 600 },
  });
});
after(() => server.close());

for (const transport of TEST_TRANSPORTS) {
  test(`over ${transport}: clients, peers, rooms, messages and TURN credentials move; a bad frame counts under its code`, async () => {
    const clients0 = await sample(server, 'rtcgate_signaling_clients', { transport });
    const joins0 = await sample(server, 'rtcgate_signaling_messages_received_total', {
      transport,
      type: 'join',
    });
    const turn0 = await sample(server, 'rtcgate_turn_credentials_issued_total', { via: 'join' });
    const a = await connectClient(server, transport, 'a');
    const b = await connectClient(server, transport, 'b');
    assert.equal(await sample(server, 'rtcgate_signaling_clients', { transport }), clients0 + 2);
    await a.join(`metrics-${transport}`, 'gateway');
    await b.join(`metrics-${transport}`, 'browser');
    await a.expect('peer-joined');
    assert.equal(await sample(server, 'rtcgate_signaling_peers', { transport, role: 'gateway' }), 1);
    assert.equal(await sample(server, 'rtcgate_signaling_peers', { transport, role: 'browser' }), 1);
    assert.equal(await sample(server, 'rtcgate_signaling_rooms', { transport }), 1);
    assert.equal(
      await sample(server, 'rtcgate_signaling_messages_received_total', { transport, type: 'join' }),
      joins0 + 2,
    );
    assert.equal(await sample(server, 'rtcgate_turn_credentials_issued_total', { via: 'join' }), turn0 + 2);

    const errors0 = await sample(server, 'rtcgate_signaling_errors_total', { transport, code: 'BAD_JSON' });
    a.sendRaw('not JSON');
    await a.expectError('BAD_JSON');
    assert.equal(
      await sample(server, 'rtcgate_signaling_errors_total', { transport, code: 'BAD_JSON' }),
      errors0 + 1,
    );

    await b.close();
    await a.expect('peer-left');
    assert.equal(await sample(server, 'rtcgate_signaling_clients', { transport }), clients0 + 1);
    assert.equal(await sample(server, 'rtcgate_signaling_peers', { transport, role: 'browser' }), 0);
    await a.close();
    assert.equal(await sample(server, 'rtcgate_signaling_rooms', { transport }), 0);
  });
}

test('GET /ice-servers counts the TURN credential it issues', async () => {
  const before = await sample(server, 'rtcgate_turn_credentials_issued_total', { via: 'http' });
  const res = await fetch(`${httpUrlOf(server)}ice-servers`);
  assert.equal(res.status, 200);
  assert.equal(await sample(server, 'rtcgate_turn_credentials_issued_total', { via: 'http' }), before + 1);
});
