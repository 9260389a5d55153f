import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeClientFrame, MAX_FRAME_BYTES } from '../src/protocol/index.js';

test('decodeClientFrame() with a valid join returns the message', () => {
  const r = decodeClientFrame(JSON.stringify({ type: 'join', room: 'default', role: 'browser' }));
  assert.deepEqual(r, { ok: true, message: { type: 'join', room: 'default', role: 'browser' } });
});

test('decodeClientFrame() with a frame one byte over the limit returns FRAME_TOO_LARGE', () => {
  const r = decodeClientFrame('x'.repeat(MAX_FRAME_BYTES + 1));
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'FRAME_TOO_LARGE');
});
