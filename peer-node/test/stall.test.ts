/**
 * Liveness (docs/protocol.md): the gateway pings a session's control channel, and a session whose
 * browser has answered and then stops answering is ended with SESSION_STALLED and a bye. The
 * browser's side is a node-datachannel peer that answers the way the browser library does, until
 * it is told to stop: with nothing else crossing the association, that is what a stalled
 * association looks like from the gateway. One whose association still carries data is slow, not
 * stalled, and is kept.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import nodeDataChannel from 'node-datachannel';
import { CONTROL_LABEL } from 'rtcgate-server';
import { FakeBrowser, openOf, startStack, until, type Stack } from './pair.js';

const STALL_TIMEOUT_MS = 1200;

let stack: Stack;

before(async () => {
  stack = await startStack('stall', { stallTimeoutMs: STALL_TIMEOUT_MS });
});

after(async () => {
  await stack.close();
  nodeDataChannel.cleanup();
});

/** A peer with a control channel that answers pings while `answering` is set. */
async function pinged(answering: boolean): Promise<{ fb: FakeBrowser; state: { answering: boolean } }> {
  const fb = await FakeBrowser.join(stack, 'stall');
  const ctl = await fb.offer(CONTROL_LABEL);
  const state = { answering };
  ctl.onMessage((m) => {
    const message = JSON.parse(typeof m === 'string' ? m : 'null') as { t: string; n?: number } | null;
    if (message?.t !== 'ping' || !state.answering) return;
    // A ping can be delivered after the test closed this peer. sendMessage then throws, and a
    // throw out of a node-datachannel callback aborts the process ("terminate called after
    // throwing an instance of 'Napi::Error'": 3 of 40 runs, and the stop-13 CI run).
    try {
      ctl.sendMessage(JSON.stringify({ t: 'pong', n: message.n }));
    } catch {
      // closed: nothing to answer on
    }
  });
  return { fb, state };
}

const pingsOf = (fb: FakeBrowser) => stack.gateway.sessionInfo().find((s) => s.peerId === fb.peerId)?.pings;

test('a browser that answered pings and stops answering: the session is ended with SESSION_STALLED and a bye, within the timeout and one ping', async () => {
  const { fb, state } = await pinged(true);
  await until(() => (pingsOf(fb)?.answered ?? 0) >= 2, 5000, 'two pings answered');
  const stopped = Date.now();
  state.answering = false;
  const bye = () => fb.received.find((m) => m.type === 'bye');
  await until(() => bye() !== undefined, STALL_TIMEOUT_MS * 3, 'a bye');
  const elapsed = Date.now() - stopped;
  assert.match(
    (bye() as { reason?: string }).reason ?? '',
    /^SESSION_STALLED: no answer on the control channel for \d+ ms \([1-9]\d* pings\), \d+ bytes sent in that time$/,
  );
  // Pings go every sixth of the timeout: the oldest unanswered one was sent after the last answer.
  assert.ok(elapsed >= STALL_TIMEOUT_MS - STALL_TIMEOUT_MS / 6, `ended after ${elapsed} ms`);
  assert.ok(elapsed <= 2 * STALL_TIMEOUT_MS + 1000, `ended after ${elapsed} ms`);
  await until(() => !stack.gateway.sessions.has(fb.peerId), 5000, 'the session gone');
  await fb.close();
});

test('a browser that keeps answering keeps its session, and one that never answered (an older library) is not watched', async () => {
  const live = await pinged(true);
  const silent = await pinged(false);
  await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT_MS * 3));
  assert.ok(stack.gateway.sessions.has(live.fb.peerId), 'the answering session is still there');
  assert.ok(stack.gateway.sessions.has(silent.fb.peerId), 'the silent session is still there');
  assert.ok((pingsOf(live.fb)?.answered ?? 0) >= 10, `answered ${pingsOf(live.fb)?.answered}`);
  assert.equal(pingsOf(silent.fb)?.answered, 0);
  assert.ok((pingsOf(silent.fb)?.sent ?? 0) >= 10);
  assert.equal(live.fb.received.filter((m) => m.type === 'bye').length, 0);
  assert.equal(silent.fb.received.filter((m) => m.type === 'bye').length, 0);
  await Promise.all([live.fb.close(), silent.fb.close()]);
});

test('unanswered pings while the association still carries data: slow, not stalled, so the session is kept until the data stops too', async () => {
  const { fb, state } = await pinged(true);
  await until(() => (pingsOf(fb)?.answered ?? 0) >= 2, 5000, 'two pings answered');
  const echo = await openOf(fb.pc.createDataChannel('echo'));
  state.answering = false;
  // 4 KiB every 20 ms, echoed: about 200 KB/s out of the gateway, over the 64 KiB per timeout.
  const chunk = Buffer.alloc(4096, 7);
  const flowing = setInterval(() => echo.sendMessageBinary(chunk), 20);
  await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT_MS * 3));
  clearInterval(flowing);
  assert.ok(stack.gateway.sessions.has(fb.peerId), 'kept while data flowed');
  assert.equal(fb.received.filter((m) => m.type === 'bye').length, 0);
  // The data stops: now nothing crosses, and the unanswered pings end the session.
  await until(
    () => fb.received.some((m) => m.type === 'bye'),
    STALL_TIMEOUT_MS * 4,
    'a bye once the data stopped',
  );
  await fb.close();
});
