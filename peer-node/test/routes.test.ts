/** Route configuration: parsing from files and flags, typed errors for bad input, and matching. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { GatewayError } from '../src/errors.js';
import { loadRoutesFile, matchRoute, parseRoute, parseRouteFlag, type Route } from '../src/routes.js';

function badRoute(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError, `a GatewayError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_ROUTE');
    assert.match(err.message, pattern);
    return true;
  });
}

test('every target kind parses', () => {
  assert.deepEqual(parseRoute({ label: 'e', target: 'echo' }), { label: 'e', target: { kind: 'echo' } });
  assert.deepEqual(parseRoute({ prefix: 'chat/', target: 'ws://127.0.0.1:9000/chat' }), {
    prefix: 'chat/',
    target: { kind: 'ws', url: 'ws://127.0.0.1:9000/chat' },
  });
  assert.deepEqual(parseRoute({ label: 't', target: 'tcp://[::1]:7000', framing: 'length-prefixed' }), {
    label: 't',
    target: { kind: 'tcp', host: '::1', port: 7000, framing: 'length-prefixed' },
  });
  assert.deepEqual(parseRoute({ label: 't', target: 'tcp://db.internal:7000' }).target, {
    kind: 'tcp',
    host: 'db.internal',
    port: 7000,
    framing: 'raw',
  });
  assert.deepEqual(parseRoute({ label: 'h', target: 'handler:chat' }).target, {
    kind: 'handler',
    name: 'chat',
  });
});

test('bad routes are refused with BAD_ROUTE and say what is wrong', () => {
  badRoute(() => parseRoute({ target: 'echo' }), /exactly one of "label" and "prefix"/);
  badRoute(() => parseRoute({ label: 'a', prefix: 'b', target: 'echo' }), /exactly one/);
  badRoute(() => parseRoute({ label: '', target: 'echo' }), /non-empty/);
  badRoute(() => parseRoute({ label: 'a', target: 'echo', port: 3 }), /unknown field port/);
  badRoute(() => parseRoute({ label: 'a', target: 'http://x/' }), /unsupported scheme http:/);
  badRoute(() => parseRoute({ label: 'a', target: 'nonsense' }), /not echo, handler/);
  badRoute(() => parseRoute({ label: 'a', target: 'tcp://host' }), /needs a host and a port/);
  badRoute(() => parseRoute({ label: 'a', target: 'tcp://host:0' }), /port from 1 to 65535/);
  badRoute(() => parseRoute({ label: 'a', target: 'tcp://host:1/path' }), /has a path/);
  badRoute(() => parseRoute({ label: 'a', target: 'tcp://h:1', framing: 'lines' }), /framing "lines"/);
  badRoute(() => parseRoute({ label: 'a', target: 'ws://h/', framing: 'raw' }), /tcp:\/\/ targets only/);
  badRoute(() => parseRoute({ label: 'a', target: 'handler:' }), /needs a name/);
  badRoute(() => parseRoute('echo'), /not an object/);
  badRoute(() => parseRoute({ label: 'a', target: 5 }), /"target" must be text/);
});

test('--route flags: LABEL=TARGET, PREFIX*=TARGET, and a framing after the TCP target', () => {
  assert.deepEqual(parseRouteFlag('chat=ws://127.0.0.1:9000/'), {
    label: 'chat',
    target: { kind: 'ws', url: 'ws://127.0.0.1:9000/' },
  });
  assert.deepEqual(parseRouteFlag('log/*=tcp://127.0.0.1:7000,framing=length-prefixed'), {
    prefix: 'log/',
    target: { kind: 'tcp', host: '127.0.0.1', port: 7000, framing: 'length-prefixed' },
  });
  badRoute(() => parseRouteFlag('no-equals-sign'), /expected LABEL=TARGET/);
  badRoute(() => parseRouteFlag('=echo'), /expected LABEL=TARGET/);
});

test('a routes file is read whole, and a bad one names the file and the route', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'routes-test-'));
  try {
    const file = path.join(dir, 'routes.json');
    writeFileSync(
      file,
      JSON.stringify({
        routes: [
          { label: 'e', target: 'echo' },
          { prefix: 'x', target: 'echo' },
        ],
      }),
    );
    assert.equal(loadRoutesFile(file).length, 2);
    writeFileSync(file, JSON.stringify({ routes: [{ label: 'e', target: 'echo' }, { label: 'f' }] }));
    badRoute(() => loadRoutesFile(file), /routes\.json, route 2: "target" must be text/);
    writeFileSync(file, '{ not json');
    badRoute(() => loadRoutesFile(file), /not JSON/);
    writeFileSync(file, '[]');
    badRoute(() => loadRoutesFile(file), /expected \{"routes": \[\.\.\.\]\}/);
    badRoute(() => loadRoutesFile(path.join(dir, 'missing.json')), /missing\.json: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('matching: an exact label wins wherever it is listed, then the longest prefix', () => {
  const routes: Route[] = [
    parseRoute({ prefix: 'a', target: 'ws://h/1' }),
    parseRoute({ prefix: 'ab', target: 'ws://h/2' }),
    parseRoute({ label: 'abc', target: 'ws://h/3' }),
  ];
  const urlOf = (label: string) => {
    const t = matchRoute(routes, label)?.target;
    return t?.kind === 'ws' ? t.url : undefined;
  };
  assert.equal(urlOf('abc'), 'ws://h/3');
  assert.equal(urlOf('abd'), 'ws://h/2');
  assert.equal(urlOf('az'), 'ws://h/1');
  assert.equal(urlOf('b'), undefined);
});
