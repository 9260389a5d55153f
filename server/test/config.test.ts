import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_STATIC_DIR, parseIceServers, serverConfigFromEnv } from '../src/config.js';
import { configError } from './configError.js';

test('serverConfigFromEnv() with an empty environment gives the defaults', () => {
  assert.deepEqual(serverConfigFromEnv({}), {
    port: 8080,
    host: '0.0.0.0',
    staticDir: DEFAULT_STATIC_DIR,
    iceServers: [],
    turn: undefined,
    heartbeatMs: 10_000,
    maxPeersPerRoom: 1000,
    logLevel: 'info',
  });
});

test('serverConfigFromEnv() treats empty strings as unset for numbers, ICE servers and LOG_LEVEL', () => {
  const config = serverConfigFromEnv({
    PORT: '',
    HEARTBEAT_MS: '',
    MAX_PEERS_PER_ROOM: '',
    ICE_SERVERS: '  ',
    LOG_LEVEL: '',
  });
  assert.equal(config.port, 8080);
  assert.equal(config.heartbeatMs, 10_000);
  assert.equal(config.maxPeersPerRoom, 1000);
  assert.deepEqual(config.iceServers, []);
  assert.equal(config.logLevel, 'info');
});

test('serverConfigFromEnv() reads every variable', () => {
  const iceServers = [
    { urls: 'stun:127.0.0.1:3478' },
    { urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'user', credential: 'secret' },
  ];
  assert.deepEqual(
    serverConfigFromEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      STATIC_DIR: '/srv/page',
      ICE_SERVERS: JSON.stringify(iceServers),
      TURN_URLS: 'turn:turn.example.org:3478',
      TURN_SECRET: 'shared',
      TURN_TTL: '120',
      HEARTBEAT_MS: '250',
      MAX_PEERS_PER_ROOM: '2',
      LOG_LEVEL: 'silent',
    }),
    {
      port: 0,
      host: '127.0.0.1',
      staticDir: '/srv/page',
      iceServers,
      turn: { urls: ['turn:turn.example.org:3478'], secret: 'shared', ttlSeconds: 120 },
      heartbeatMs: 250,
      maxPeersPerRoom: 2,
      logLevel: 'silent',
    },
  );
  assert.equal(serverConfigFromEnv({ PORT: '65535' }).port, 65535);
});

test('a bad PORT gives a ConfigError naming PORT', () => {
  for (const PORT of ['http', '-1', '65536', '80.5', '8080abc']) {
    const err = configError(() => serverConfigFromEnv({ PORT }));
    assert.equal(err.option, 'PORT', PORT);
    assert.ok(err.message.includes(`"${PORT}"`), err.message);
  }
});

test('a bad HEARTBEAT_MS or MAX_PEERS_PER_ROOM gives a ConfigError naming it', () => {
  assert.equal(configError(() => serverConfigFromEnv({ HEARTBEAT_MS: '99' })).option, 'HEARTBEAT_MS');
  assert.equal(configError(() => serverConfigFromEnv({ HEARTBEAT_MS: '600001' })).option, 'HEARTBEAT_MS');
  assert.equal(configError(() => serverConfigFromEnv({ HEARTBEAT_MS: 'soon' })).option, 'HEARTBEAT_MS');
  assert.equal(
    configError(() => serverConfigFromEnv({ MAX_PEERS_PER_ROOM: '1' })).option,
    'MAX_PEERS_PER_ROOM',
  );
});

test('bad ICE_SERVERS give a ConfigError naming ICE_SERVERS', () => {
  for (const ICE_SERVERS of [
    'stun:127.0.0.1:3478', // not JSON
    '{"urls":"stun:127.0.0.1:3478"}', // not an array
    '[{"url":"stun:127.0.0.1:3478"}]', // the old singular key
    '[{"urls":[]}]', // no URL
    '[{"urls":"stun:x","username":1}]', // wrong type
  ]) {
    const err = configError(() => serverConfigFromEnv({ ICE_SERVERS }));
    assert.equal(err.option, 'ICE_SERVERS', ICE_SERVERS);
  }
});

test('parseIceServers() names the option it was given', () => {
  assert.deepEqual(parseIceServers('--ice-servers', undefined), []);
  assert.equal(configError(() => parseIceServers('--ice-servers', 'nope')).option, '--ice-servers');
});

test('a bad LOG_LEVEL gives a ConfigError naming LOG_LEVEL and the allowed levels', () => {
  const err = configError(() => serverConfigFromEnv({ LOG_LEVEL: 'loud' }));
  assert.equal(err.option, 'LOG_LEVEL');
  assert.match(err.message, /debug, info, warn, error, silent/);
  assert.equal(configError(() => serverConfigFromEnv({ LOG_LEVEL: 'INFO' })).option, 'LOG_LEVEL');
});

test('MAX_PEERS_PER_CONNECTION is read when set and left to the server default (500) when not', () => {
  assert.equal(serverConfigFromEnv({ MAX_PEERS_PER_CONNECTION: '1' }).maxPeersPerConnection, 1);
  assert.equal(serverConfigFromEnv({ MAX_PEERS_PER_CONNECTION: '1000000' }).maxPeersPerConnection, 1_000_000);
  for (const env of [{}, { MAX_PEERS_PER_CONNECTION: '' }, { MAX_PEERS_PER_CONNECTION: '  ' }]) {
    assert.equal('maxPeersPerConnection' in serverConfigFromEnv(env), false, JSON.stringify(env));
  }
  for (const value of ['0', '-1', '1000001', '2.5', 'many']) {
    const err = configError(() => serverConfigFromEnv({ MAX_PEERS_PER_CONNECTION: value }));
    assert.equal(err.option, 'MAX_PEERS_PER_CONNECTION', value);
    assert.match(err.message, /from 1 to 1000000/);
  }
});
