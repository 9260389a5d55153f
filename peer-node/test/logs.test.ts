/**
 * Per-session context in the gateway's log: every line about a session names its room, peer and
 * session, on a real connection (a node-datachannel peer through a real signaling server).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import nodeDataChannel from 'node-datachannel';
import { createLogger } from 'rtcgate-server';
import { FakeBrowser, nextMessage, startStack, until } from './pair.js';

test('each gateway log line about a session carries room, peerId and sessionId', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('gateway', 'debug', {
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const stack = await startStack('logs', { log });
  try {
    const peer = await FakeBrowser.join(stack, 'logs');
    const dc = await peer.offer('echo');
    const reply = nextMessage(dc);
    dc.sendMessage('hello');
    assert.equal(await reply, 'hello');
    const session = stack.gateway.sessions.get(peer.peerId);
    assert.ok(session);
    await peer.close();
    await until(() => lines.some((l) => l.msg === 'session closed'), 10_000, 'session closed logged');

    const about = lines.filter((l) => l.peerId === peer.peerId);
    const messages = about.map((l) => l.msg);
    for (const msg of ['session created', 'connection state', 'bridging channel', 'session closed']) {
      assert.ok(messages.includes(msg), `"${msg}" is logged with the peer; got ${JSON.stringify(messages)}`);
    }
    for (const line of about) {
      assert.equal(line.room, 'logs', JSON.stringify(line));
      assert.equal(line.sessionId, session.sessionId, JSON.stringify(line));
      assert.equal(typeof line.component, 'string');
    }
    // Every line of the parts that work for a session names it, not only the ones found above.
    const parts = lines.filter((l) => /^gateway:(session|control|bridge|routes)$/.test(String(l.component)));
    assert.ok(parts.length >= about.length, 'the session lines are among the parts');
    for (const line of parts) {
      for (const field of ['room', 'peerId', 'sessionId'])
        assert.ok(line[field], `${field} in ${JSON.stringify(line)}`);
    }
    // The session's lines are the gateway's parts: session, bridge (the echo route is a bridge).
    assert.ok(about.some((l) => String(l.component).endsWith(':bridge') && l.label === 'echo'));
  } finally {
    await stack.close();
    nodeDataChannel.cleanup();
  }
});
