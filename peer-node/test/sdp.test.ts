/** The SDP edits the gateway makes: declining SCTP SNAP and reading a=max-message-size. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asDtlsServer, maxMessageSizeOf, withoutSctpInit } from '../src/peerSession.js';

const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:0',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  'a=sctp-init:AQAAHibzLJkAAQAAAP//ABkH',
  '',
].join('\r\n');

test('withoutSctpInit removes every a=sctp-init line and nothing else', () => {
  const out = withoutSctpInit(OFFER);
  assert.equal(out.includes('a=sctp-init'), false);
  assert.equal(out, OFFER.replace('a=sctp-init:AQAAHibzLJkAAQAAAP//ABkH\r\n', ''));
  // Also with bare \n line ends, and a description without the attribute is returned unchanged.
  assert.equal(withoutSctpInit(OFFER.replaceAll('\r\n', '\n')).includes('sctp-init'), false);
  const plain = OFFER.replace('a=sctp-init:AQAAHibzLJkAAQAAAP//ABkH\r\n', '');
  assert.equal(withoutSctpInit(plain), plain);
});

test('maxMessageSizeOf reads a=max-message-size, 65536 when absent (RFC 8841 §6.1), null without SDP', () => {
  assert.equal(maxMessageSizeOf(OFFER), 262144);
  assert.equal(maxMessageSizeOf(OFFER.replace('a=max-message-size:262144\r\n', '')), 65536);
  assert.equal(maxMessageSizeOf(OFFER.replace('262144', '1073741823')), 1073741823);
  assert.equal(maxMessageSizeOf(undefined), null);
});

test("asDtlsServer reads an offer's a=setup:actpass as active (the gateway answers passive), nothing else", () => {
  const offer = OFFER.replace('a=mid:0\r\n', 'a=mid:0\r\na=setup:actpass\r\n');
  assert.equal(asDtlsServer(offer), OFFER.replace('a=mid:0\r\n', 'a=mid:0\r\na=setup:active\r\n'));
  assert.equal(asDtlsServer(offer.replaceAll('\r\n', '\n')).includes('a=setup:active\n'), true);
  // A role the offerer already fixed is kept.
  const passive = offer.replace('actpass', 'passive');
  assert.equal(asDtlsServer(passive), passive);
});
