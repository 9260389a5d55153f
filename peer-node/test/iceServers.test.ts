import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertIceServers } from '../src/iceServers.js';

test('convertIceServers() maps stun: and turn: (UDP) and skips turns: and ?transport=tcp with a reason', () => {
  const r = convertIceServers([
    { urls: 'stun:203.0.113.1:3478' },
    {
      urls: ['turn:203.0.113.1?transport=udp', 'turn:203.0.113.1:3478?transport=tcp', 'turns:x.example:5349'],
      username: 'u',
      credential: 'c',
    },
  ]);
  assert.deepEqual(r.servers, [
    'stun:203.0.113.1:3478',
    { hostname: '203.0.113.1', port: 3478, username: 'u', password: 'c', relayType: 'TurnUdp' },
  ]);
  assert.equal(r.skipped.length, 2);
});
