/**
 * docs/errors.md is the one table of error codes (ARCHITECTURE.md: "Errors carry a stable code,
 * documented in one table"). These tests keep it in step with the code: every signaling wire code
 * with its exact text, the HTTP refusals, and the codes of the browser library and the gateway.
 * The latter two are read from their source text, not imported: the server is the lower package
 * and must not depend on client-web or peer-node.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError } from '../src/config.js';
import {
  CHANNEL_CLOSE_CODES,
  SESSION_END_CODES,
  MAX_FRAME_BYTES,
  SIGNAL_ERROR_CODES,
  SIGNAL_ERROR_TEXT,
  errorSchema,
  isSignalErrorCode,
} from '../src/protocol/index.js';

// This file runs as server/dist/test/errors.test.js: the repository root is three levels up.
const REPO_ROOT = new URL('../../../', import.meta.url);

function readRepoFile(path: string): string {
  return readFileSync(new URL(path, REPO_ROOT), 'utf8');
}

/** The string literals of `export const <name> = [ ... ] as const` in a TypeScript source. */
function codesOf(path: string, name: string): string[] {
  const source = readRepoFile(path);
  const match = new RegExp(`export const ${name}\\s*=\\s*\\[([^\\]]*)\\]\\s*as const`).exec(source);
  assert.ok(match?.[1], `${path} declares ${name} as an "as const" array`);
  const codes = [...match[1].matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1] ?? '');
  assert.ok(codes.length > 0, `${name} in ${path} lists codes`);
  return codes;
}

/** Table rows of docs/errors.md whose first cell is a code in backticks, keyed by that code. */
function documentedRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of readRepoFile('docs/errors.md').split('\n')) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/.exec(line);
    if (!match?.[1]) continue;
    const list = rows.get(match[1]) ?? [];
    list.push(line);
    rows.set(match[1], list);
  }
  return rows;
}

const CLIENT_CODES = codesOf('client-web/src/lib/errors.ts', 'CLIENT_ERROR_CODES');
const GATEWAY_CODES = codesOf('peer-node/src/errors.ts', 'GATEWAY_ERROR_CODES');
/** Codes outside the three arrays: the ws handshake refusal for a wrong path, and bad configuration. */
const OTHER_CODES = ['NOT_FOUND', new ConfigError('PORT', 'x').code];

test('docs/errors.md lists every signaling wire code with its exact text', () => {
  const rows = documentedRows();
  for (const code of SIGNAL_ERROR_CODES) {
    const lines = rows.get(code);
    assert.ok(lines, `docs/errors.md has no row for ${code}`);
    assert.ok(
      lines.some((line) => line.includes(SIGNAL_ERROR_TEXT[code])),
      `the row of ${code} does not quote its text: ${SIGNAL_ERROR_TEXT[code]}`,
    );
  }
});

test('docs/errors.md lists every browser library code (CLIENT_ERROR_CODES)', () => {
  const rows = documentedRows();
  for (const code of CLIENT_CODES) assert.ok(rows.has(code), `docs/errors.md has no row for ${code}`);
});

test('docs/errors.md lists every gateway code (GATEWAY_ERROR_CODES)', () => {
  const rows = documentedRows();
  for (const code of GATEWAY_CODES) assert.ok(rows.has(code), `docs/errors.md has no row for ${code}`);
});

test('docs/errors.md lists every channel close reason (CHANNEL_CLOSE_CODES, rtcgate.ctl.v1)', () => {
  const rows = documentedRows();
  for (const code of CHANNEL_CLOSE_CODES) assert.ok(rows.has(code), `docs/errors.md has no row for ${code}`);
});

test('docs/errors.md lists the HTTP refusal and configuration codes', () => {
  const rows = documentedRows();
  for (const code of OTHER_CODES) assert.ok(rows.has(code), `docs/errors.md has no row for ${code}`);
});

test('docs/errors.md lists every session end reason (SESSION_END_CODES, bye reasons)', () => {
  const rows = documentedRows();
  for (const code of SESSION_END_CODES) assert.ok(rows.has(code), `docs/errors.md has no row for ${code}`);
});

test('docs/errors.md lists no code the code base does not define', () => {
  const known = new Set<string>([
    ...SIGNAL_ERROR_CODES,
    ...CLIENT_CODES,
    ...GATEWAY_CODES,
    ...CHANNEL_CLOSE_CODES,
    ...SESSION_END_CODES,
    ...OTHER_CODES,
  ]);
  for (const code of documentedRows().keys()) {
    assert.ok(known.has(code), `docs/errors.md documents ${code}, which no source defines`);
  }
});

test('every signaling code has a text, passes isSignalErrorCode and the error schema', () => {
  assert.equal(new Set(SIGNAL_ERROR_CODES).size, SIGNAL_ERROR_CODES.length, 'codes are unique');
  assert.deepEqual(Object.keys(SIGNAL_ERROR_TEXT).sort(), [...SIGNAL_ERROR_CODES].sort());
  for (const code of SIGNAL_ERROR_CODES) {
    assert.ok(isSignalErrorCode(code));
    assert.ok(SIGNAL_ERROR_TEXT[code].length > 0);
    assert.ok(errorSchema.safeParse({ type: 'error', code, message: SIGNAL_ERROR_TEXT[code] }).success);
  }
  assert.equal(isSignalErrorCode('TEAPOT'), false);
  assert.equal(isSignalErrorCode(undefined), false);
});

test('the FRAME_TOO_LARGE text states the limit the codec enforces', () => {
  assert.ok(SIGNAL_ERROR_TEXT.FRAME_TOO_LARGE.includes(String(MAX_FRAME_BYTES)));
});
