// `npm test`: install what is missing, build (type checks), lint, unit tests, the interop suite in
// real Chromium and Firefox, then the benchmarks once, briefly. Ends with one line:
// `N passed, N failed` over all suites.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureInstalled, repo, run } from './ensure.mjs';

const results = [];
// Only *.test.js and *.test.mjs: helpers beside the tests are not test files (node --test <dir>
// would run them).
function testFiles(dir) {
  const abs = path.join(repo, dir);
  return existsSync(abs)
    ? readdirSync(abs)
        .filter((f) => f.endsWith('.test.js') || f.endsWith('.test.mjs'))
        .map((f) => path.join(dir, f))
    : [];
}
function record(suite, passed, failed, note = '') {
  results.push({ suite, passed, failed });
  console.log(`\n== ${suite}: ${passed} passed, ${failed} failed${note ? ` (${note})` : ''}\n`);
}
function finish() {
  console.log('\nSummary');
  for (const r of results) console.log(`  ${r.suite.padEnd(12)} ${r.passed} passed, ${r.failed} failed`);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

const started = Date.now();
try {
  ensureInstalled();
} catch (err) {
  console.error(`rtcgate: ${err.message}`);
  record('install', 0, 1);
  finish();
}

// Type checks: tsc -b (server, peer-node) and the browser and suite projects; then the page bundle.
const typecheck =
  run('npx', ['tsc', '-b']) === 0 &&
  run('npx', ['tsc', '-p', 'client-web']) === 0 &&
  run('npx', ['tsc', '-p', 'test-interop']) === 0;
record('typecheck', typecheck ? 1 : 0, typecheck ? 0 : 1);
if (!typecheck || run('node', ['client-web/build.mjs']) !== 0) {
  if (typecheck) record('build', 0, 1);
  finish();
}

const eslintOk = run('npx', ['eslint', '.']) === 0;
const prettierOk = run('npx', ['prettier', '--check', '--log-level', 'warn', '.']) === 0;
record(
  'lint',
  (eslintOk ? 1 : 0) + (prettierOk ? 1 : 0),
  (eslintOk ? 0 : 1) + (prettierOk ? 0 : 1),
  'eslint, prettier',
);

// Unit and loopback tests (node:test): spec to the terminal, TAP to a file for the counts.
const tap = path.join(repo, 'node_modules/.cache/rtcgate-unit.tap');
rmSync(tap, { force: true });
mkdirSync(path.dirname(tap), { recursive: true });
const unitCode = run('node', [
  '--test',
  '--test-timeout=60000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
  ...testFiles('server/dist/test'),
  ...testFiles('peer-node/dist/test'),
  ...testFiles('scripts/test'),
]);
const tapText = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tapText)?.[1] ?? 0);
const unitFailed = count('fail') + count('cancelled') + (unitCode !== 0 && count('fail') === 0 ? 1 : 0);
record('unit', count('pass'), unitFailed);

// Browsers: system ones first, then Playwright's own; on a machine with neither, try to download.
const { chromium, firefox } = await import('@playwright/test');
const { chromiumLaunch, firefoxLaunch } = await import('../test-interop/browsers.mjs');
const haveSystem = (opts) => typeof opts.executablePath === 'string';
const haveOwn = (type) => {
  try {
    return existsSync(type.executablePath());
  } catch {
    return false;
  }
};
const missing = [];
if (!haveSystem(chromiumLaunch()) && !haveOwn(chromium)) missing.push('chromium');
if (!haveSystem(firefoxLaunch()) && !haveOwn(firefox)) missing.push('firefox');
if (missing.length > 0) {
  console.log(
    `rtcgate: no ${missing.join(' or ')} found; trying "npx playwright install ${missing.join(' ')}"`,
  );
  run('npx', ['playwright', 'install', ...missing]);
}

const resultsFile = path.join(repo, 'test-interop/test-results/results.json');
rmSync(resultsFile, { force: true });
const interopCode = run('npx', ['playwright', 'test', '-c', 'test-interop']);
if (existsSync(resultsFile)) {
  const { stats } = JSON.parse(readFileSync(resultsFile, 'utf8'));
  // "expected" includes known browser limitations written as test.fail() with their reason;
  // a skipped test counts as failed: nothing here may be silently skipped.
  record(
    'interop',
    stats.expected,
    stats.unexpected + stats.flaky + stats.skipped,
    `${stats.flaky} flaky, ${stats.skipped} skipped`,
  );
  // Every run leaves the matrix (scenario × browser × offer direction) as JSON and Markdown.
  run('node', ['test-interop/matrix.mjs']);
} else {
  record('interop', 0, 1, `playwright exited ${interopCode} without results`);
}
// The benchmarks once, briefly (no targets checked): so that `npm run bench` cannot rot.
try {
  const { runBench } = await import('./bench.mjs');
  const bench = await runBench({ quick: true, install: false });
  record('bench', bench.passed, bench.failed, 'npm run bench -- --quick');
} catch (err) {
  record('bench', 0, 1, `npm run bench -- --quick threw: ${err.message}`);
}
console.log(`npm test took ${((Date.now() - started) / 1000).toFixed(0)} s`);
finish();
