/**
 * TURN credentials: the TURN REST scheme the server mints, its configuration, how peers get it (the
 * join reply and GET /ice-servers), and what a real coturn with docker/coturn/turnserver.conf does
 * with it: allocations with fresh credentials succeed, expired and forged ones are refused, and
 * relaying to loopback, private, shared or link-local addresses is forbidden.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseTurn } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { turnCredential, type TurnConfig } from '../src/turn.js';
import { startCoturn, type Coturn } from './coturn.js';
import { TurnClient } from './turnClient.js';
import { WsTestClient, httpUrlOf, wsUrlOf } from './signalTestClient.js';

const SECRET = 'north-wind';

describe('TURN REST credentials', () => {
  test('username is "<expiry>:<name>" and the credential base64(HMAC-SHA1(secret, username))', () => {
    const c = turnCredential(SECRET, 3600, 'p_Br7TqV0nX1cD', 1_700_000_000_500);
    // Vector from: echo -n "1700003600:p_Br7TqV0nX1cD" | openssl dgst -sha1 -hmac north-wind -binary | base64
    assert.deepEqual(c, {
      username: '1700003600:p_Br7TqV0nX1cD',
      credential: 'WHl6yXZCen8Fc65YI68B08Z4pBk=',
      expiresAt: 1_700_003_600,
    });
  });

  test('a ":" in the name cannot move the expiry coturn reads', () => {
    assert.equal(turnCredential(SECRET, 60, 'a:b', 0).username, '60:a_b');
  });
});

describe('TURN configuration', () => {
  test('none by default; URLs, secret and TTL from the environment', () => {
    assert.equal(parseTurn({}), undefined);
    assert.deepEqual(
      parseTurn({
        TURN_URLS: 'turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349?transport=tcp',
        TURN_SECRET: 's',
        TURN_TTL: '600',
      }),
      {
        urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp'],
        secret: 's',
        ttlSeconds: 600,
      },
    );
    assert.equal(parseTurn({ TURN_URLS: 'turn:t', TURN_SECRET: 's' })?.ttlSeconds, 3600);
  });

  const BAD: [string, NodeJS.ProcessEnv, string, RegExp][] = [
    ['URLs without a secret', { TURN_URLS: 'turn:t' }, 'TURN_SECRET', /required with TURN_URLS/],
    ['a secret without URLs', { TURN_SECRET: 's' }, 'TURN_URLS', /required with TURN_SECRET/],
    ['a STUN URL', { TURN_URLS: 'stun:t', TURN_SECRET: 's' }, 'TURN_URLS', /not a TURN URL/],
    [
      'an unknown transport',
      { TURN_URLS: 'turn:t?transport=sctp', TURN_SECRET: 's' },
      'TURN_URLS',
      /not a TURN URL/,
    ],
    [
      'a TTL under a minute',
      { TURN_URLS: 'turn:t', TURN_SECRET: 's', TURN_TTL: '5' },
      'TURN_TTL',
      /60 to 604800/,
    ],
    [
      'a TTL that is no number',
      { TURN_URLS: 'turn:t', TURN_SECRET: 's', TURN_TTL: '1h' },
      'TURN_TTL',
      /integer/,
    ],
  ];
  for (const [name, env, option, message] of BAD) {
    test(`refuses ${name} with CONFIG_INVALID naming ${option}`, () => {
      assert.throws(
        () => parseTurn(env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.code === 'CONFIG_INVALID' &&
          err.option === option &&
          message.test(err.message),
      );
    });
  }
});

const TURN: TurnConfig = { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: SECRET, ttlSeconds: 600 };
const STATIC = [{ urls: 'stun:stun.example.org:3478' }];

async function serverWith(turn: TurnConfig | undefined): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    staticDir: undefined,
    iceServers: STATIC,
    turn,
    logLevel: 'silent',
  });
}

describe('TURN credentials handed to peers', () => {
  test('each peer gets credentials of its own in its join reply, after the static ICE servers', async (t) => {
    const server = await serverWith(TURN);
    const clients: WsTestClient[] = [];
    t.after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    });
    const before = Math.floor(Date.now() / 1000);
    for (const role of ['gateway', 'browser'] as const) {
      const client = await WsTestClient.connect(wsUrlOf(server), role);
      clients.push(client);
      const joined = await client.join('turn-room', role);
      assert.equal(joined.iceServers.length, 2);
      assert.deepEqual(joined.iceServers[0], STATIC[0]);
      const turn = joined.iceServers[1];
      assert.deepEqual(turn?.urls, TURN.urls);
      const [expiry, name] = (turn?.username ?? '').split(':');
      assert.equal(name, joined.peerId);
      assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= Math.ceil(Date.now() / 1000) + 600);
      assert.equal(
        turn?.credential,
        turnCredential(SECRET, 600, joined.peerId, Number(expiry) * 1000 - 600_000).credential,
      );
    }
  });

  test('GET /ice-servers: fresh credentials on every request, never cached', async (t) => {
    const server = await serverWith(TURN);
    t.after(() => server.close());
    const get = async () => {
      const res = await fetch(new URL('/ice-servers', httpUrlOf(server)));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      return (await res.json()) as { iceServers: { username?: string }[]; ttl: number | null };
    };
    const [a, b] = [await get(), await get()];
    assert.equal(a.ttl, 600);
    assert.equal(a.iceServers.length, 2);
    assert.notEqual(a.iceServers[1]?.username, b.iceServers[1]?.username, 'a name of its own per request');
  });

  test('without TURN, peers get exactly the static ICE servers, as before', async (t) => {
    const server = await serverWith(undefined);
    const client = await WsTestClient.connect(wsUrlOf(server), 'B');
    t.after(async () => {
      await client.close();
      await server.close();
    });
    assert.deepEqual((await client.join('plain', 'browser')).iceServers, STATIC);
    const res = await fetch(new URL('/ice-servers', httpUrlOf(server)));
    assert.deepEqual(await res.json(), { iceServers: STATIC, ttl: null });
  });
});

describe('a real coturn with the shipped configuration', () => {
  let coturn: Coturn;
  let server: RunningServer;
  const open: TurnClient[] = [];
  before(async () => {
    coturn = await startCoturn({ secret: SECRET });
    server = await serverWith({ ...TURN, urls: [`turn:${coturn.host}:${coturn.port}?transport=udp`] });
  });
  after(async () => {
    for (const c of open) c.close();
    await server?.close();
    await coturn?.stop();
  });
  const client = async (username: string, password: string) => {
    const c = await TurnClient.open(coturn.host, coturn.port, username, password);
    open.push(c);
    return c;
  };

  test('credentials from the join reply get an allocation', async () => {
    const peer = await WsTestClient.connect(wsUrlOf(server), 'B');
    try {
      const turn = (await peer.join('coturn', 'browser')).iceServers.find((s) => s.username);
      assert.ok(turn?.username && turn.credential);
      const reply = await (await client(turn.username, turn.credential)).allocate();
      assert.equal(
        reply.kind,
        'success',
        `coturn said ${reply.code} ${reply.reason}\n${coturn.log().slice(-2000)}`,
      );
      assert.equal(reply.relayed?.address, coturn.host);
    } finally {
      await peer.close();
    }
  });

  test('an expired credential is refused with 401', async () => {
    const old = turnCredential(SECRET, 60, 'p_expired0000', Date.now() - 120_000);
    const reply = await (await client(old.username, old.credential)).allocate();
    assert.deepEqual({ kind: reply.kind, code: reply.code }, { kind: 'error', code: 401 });
  });

  test('a credential made with another secret is refused with 401', async () => {
    const forged = turnCredential('not-the-secret', 600, 'p_forged00000');
    const reply = await (await client(forged.username, forged.credential)).allocate();
    assert.deepEqual({ kind: reply.kind, code: reply.code }, { kind: 'error', code: 401 });
  });

  test('a valid credential with a later expiry written into its username is refused with 401', async () => {
    const real = turnCredential(SECRET, 600, 'p_stretch0000');
    const stretched = real.username.replace(/^\d+/, String(real.expiresAt + 86_400));
    const reply = await (await client(stretched, real.credential)).allocate();
    assert.deepEqual({ kind: reply.kind, code: reply.code }, { kind: 'error', code: 401 });
  });

  test('relaying to loopback, private, shared and link-local addresses is forbidden (403); to a public one it is allowed', async () => {
    const c = turnCredential(SECRET, 600, 'p_permission0');
    const turn = await client(c.username, c.credential);
    assert.equal((await turn.allocate()).kind, 'success');
    const answers: Record<string, number | 'success'> = {};
    for (const peer of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.5.4',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.1.1',
      '203.0.113.9',
    ]) {
      const reply = await turn.createPermission(peer);
      answers[peer] = reply.kind === 'success' ? 'success' : (reply.code ?? 0);
    }
    assert.deepEqual(answers, {
      '127.0.0.1': 403,
      '10.1.2.3': 403,
      '172.16.5.4': 403,
      '192.168.1.1': 403,
      '100.64.0.1': 403,
      '169.254.1.1': 403,
      '203.0.113.9': 'success',
    });
  });
});
