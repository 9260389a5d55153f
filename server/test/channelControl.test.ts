/** rtcgate.ctl.v1 messages: what decodes, and a named error for everything else. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeControl,
  encodeControl,
  UNLIMITED_CREDIT,
  type ControlMessage,
} from '../src/protocol/index.js';

test('credit, reason, close, ping and pong messages round-trip', () => {
  const messages: ControlMessage[] = [
    { t: 'credit', id: 0, upTo: 0 },
    { t: 'credit', id: 65534, upTo: UNLIMITED_CREDIT },
    { t: 'reason', id: 3, code: 'BACKEND_CLOSED', message: 'WebSocket closed with 1000' },
    { t: 'close', id: 5, label: 'chat ✓', sent: 4194304 },
    { t: 'ping', n: 0 },
    { t: 'pong', n: 12 },
  ];
  for (const m of messages) assert.deepEqual(decodeControl(encodeControl(m)), { ok: true, message: m });
});

test('anything else is an error that says what is wrong, and never throws', () => {
  const cases: [unknown, RegExp][] = [
    [Buffer.from('{}'), /text/],
    ['{', /not JSON/],
    ['null', /not an object/],
    ['[]', /stream id/],
    ['{"t":"credit","upTo":1}', /stream id/],
    ['{"t":"credit","id":65535,"upTo":1}', /stream id/],
    ['{"t":"credit","id":1.5,"upTo":1}', /stream id/],
    ['{"t":"credit","id":1,"upTo":-1}', /byte count/],
    ['{"t":"credit","id":1,"upTo":1e300}', /byte count/],
    ['{"t":"credit","id":1,"upTo":"5"}', /byte count/],
    ['{"t":"reason","id":1,"code":"TEAPOT","message":"x"}', /unknown close code "TEAPOT"/],
    ['{"t":"reason","id":1,"code":"NO_ROUTE"}', /"message" must be text/],
    ['{"t":"hello","id":1}', /unknown type "hello"/],
    ['{"t":"close","id":1,"sent":3}', /"label" must be text/],
    ['{"t":"close","id":1,"label":"x","sent":-3}', /"sent" must be a byte count/],
    ['{"t":"reason","id":1,"code":{"toString":1},"message":"x"}', /unknown close code \{"toString":1\}/],
    [`{"t":"reason","id":1,"code":"NO_ROUTE","message":"${'x'.repeat(5000)}"}`, /over 4096/],
    ['{"t":"ping"}', /"n" must be a count/],
    ['{"t":"pong","n":-1}', /"n" must be a count/],
    ['{"t":"pong","n":"3"}', /"n" must be a count/],
  ];
  for (const [input, why] of cases) {
    const decoded = decodeControl(input);
    assert.equal(decoded.ok, false, `${String(input).slice(0, 60)} is refused`);
    if (!decoded.ok) assert.match(decoded.error, why);
  }
});
