// Turns Playwright's JSON results into the interop matrix: one row per scenario, one column per
// browser × offer direction, one table per signaling variant (WebSocket, Socket.IO, Chromium with
// SCTP SNAP on). Expected failures keep their reason and upstream link; measurements that tests
// record as annotations are listed under the tables.
//   node test-interop/matrix.mjs [--docs] [results.json]
// Writes test-results/interop-matrix.json and .md; with --docs also docs/interop-matrix.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsFile =
  process.argv.slice(2).find((a) => !a.startsWith('--')) ?? path.join(here, 'test-results/results.json');
if (!existsSync(resultsFile)) {
  console.error(`matrix: no ${resultsFile}; run the interop suite first`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(resultsFile, 'utf8'));

const VARIANTS = {
  ws: 'WebSocket signaling (rtcgate.signal.v1)',
  'socket.io': 'Socket.IO signaling (the @core scenarios)',
  snap: 'Chromium with SCTP SNAP on (`--enable-features=WebRtcSctpSnap`, the @core scenarios)',
  lab: 'Network lab: NAT traversal through iptables NATs and coturn (`tests/lab-*.spec.ts`, as root)',
};
/** Annotation types worth showing under the tables (measurements, and what a test tolerated). */
const MEASURED = new Set([
  'measured',
  'max-message-size',
  'order',
  'selected pair',
  'lost ping',
  'browser never sent',
  'pair settled late',
]);

const projects = new Map(
  report.config.projects.map((p) => [
    p.name,
    {
      name: p.name,
      browser: p.metadata?.browser ?? p.name,
      variant: p.metadata?.variant ?? 'ws',
      offerer: p.metadata?.offerer ?? 'browser',
    },
  ]),
);
const browsers = {};
const rows = new Map();
const measurements = [];

// Playwright's messages carry terminal colours: ESC [ … m.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function cellOf(t) {
  const last = t.results.at(-1);
  // Playwright reports a test's annotations on the test and again on its result: once each.
  const seen = new Set();
  const annotations = [...(t.annotations ?? []), ...(last?.annotations ?? [])].filter((a) => {
    const key = `${a.type}\u0000${a.description ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const reason = annotations
    .filter((a) => a.type === 'fail' || a.type === 'fixme' || a.type === 'skip')
    .map((a) => a.description ?? '')
    .join('; ');
  const link = reason.match(/https?:\/\/\S+?(?=[),;]?(\s|$))/)?.[0] ?? null;
  if (t.status === 'expected' && t.expectedStatus === 'failed')
    return { status: 'expected failure', reason, link };
  if (t.status === 'expected') return { status: 'pass' };
  if (t.status === 'flaky') return { status: 'flaky' };
  if (t.status === 'skipped') return { status: 'not run', reason };
  if (t.expectedStatus === 'failed')
    return { status: 'FAIL', reason: `expected to fail but passed (${reason})` };
  const error = last?.error?.message ?? last?.errors?.[0]?.message ?? '';
  return {
    status: 'FAIL',
    reason: error.replace(ANSI, '').split('\n')[0].slice(0, 160),
  };
}

function visit(suite, file, prefix) {
  for (const spec of suite.specs ?? []) {
    const title = [...prefix, spec.title].join(' › ');
    const key = `${file} › ${title}`;
    const row = rows.get(key) ?? { file, title, cells: {} };
    for (const t of spec.tests) {
      row.cells[t.projectName] = cellOf(t);
      for (const r of t.results) {
        for (const a of r.annotations ?? []) {
          if (a.type === 'browser') browsers[a.description.split(' ')[0]] = a.description.split(' ')[1];
          if (MEASURED.has(a.type))
            measurements.push({ scenario: title, project: t.projectName, text: a.description });
        }
      }
    }
    rows.set(key, row);
  }
  for (const child of suite.suites ?? []) visit(child, file, child.title ? [...prefix, child.title] : prefix);
}
for (const suite of report.suites) visit(suite, suite.file ?? suite.title, []);

const allCells = [...rows.values()].flatMap((r) => Object.values(r.cells));
const count = (s) => allCells.filter((c) => c.status === s).length;
const matrix = {
  generatedFrom: path.relative(path.join(here, '..'), resultsFile),
  startTime: report.stats.startTime,
  playwright: report.config.version,
  browsers,
  totals: {
    pass: count('pass'),
    expectedFailure: count('expected failure'),
    fail: count('FAIL'),
    flaky: count('flaky'),
    notRun: count('not run'),
  },
  projects: [...projects.values()],
  rows: [...rows.values()],
  measurements,
};
writeFileSync(path.join(here, 'test-results/interop-matrix.json'), `${JSON.stringify(matrix, null, 2)}\n`);

const esc = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');
const icon = (c) => {
  if (!c) return '·';
  if (c.status === 'pass') return 'pass';
  if (c.status === 'expected failure') return `expected failure: ${c.reason}`;
  return `**${c.status}**${c.reason ? `: ${c.reason}` : ''}`;
};
const label = (p) =>
  `${p.browser === 'chromium' ? 'Chromium' : p.browser === 'firefox' ? 'Firefox' : p.browser}, ${p.offerer} offers`;
const lines = [
  '# Interop matrix',
  '',
  `Generated by \`node test-interop/matrix.mjs --docs\` from the interop run of ${new Date(matrix.startTime).toISOString().slice(0, 16).replace('T', ' ')} UTC:`,
  `Playwright ${matrix.playwright}, ${Object.entries(browsers)
    .map(([b, v]) => `${b} ${v}`)
    .join(', ')}; browsers at their default settings. Totals: ${matrix.totals.pass} pass, ` +
    `${matrix.totals.expectedFailure} expected failures, ${matrix.totals.fail} failures, ${matrix.totals.flaky} flaky, ` +
    `${matrix.totals.notRun} not run. "·" means the scenario does not run in that column (see \`playwright.config.ts\`).`,
  'The same data as JSON: `test-interop/test-results/interop-matrix.json` after a run. Notes on what the rows mean: [interop.md](interop.md).',
  '',
];
for (const [variant, heading] of Object.entries(VARIANTS)) {
  const cols = [...projects.values()].filter((p) => p.variant === variant);
  if (cols.length === 0) continue;
  const inVariant = [...rows.values()].filter((r) => cols.some((p) => r.cells[p.name]));
  if (inVariant.length === 0) continue;
  lines.push(
    `## ${heading}`,
    '',
    `| scenario | ${cols.map(label).join(' | ')} |`,
    `| --- | ${cols.map(() => '---').join(' | ')} |`,
  );
  for (const r of inVariant) {
    lines.push(
      `| ${esc(r.title)} (\`${r.file.replace(/^.*\//, '')}\`) | ${cols.map((p) => esc(icon(r.cells[p.name]))).join(' | ')} |`,
    );
  }
  lines.push('');
}
if (measurements.length > 0) {
  lines.push('## Measured in this run', '');
  for (const m of measurements) lines.push(`- ${esc(m.scenario)} — ${m.project}: ${esc(m.text)}`);
  lines.push('');
}
const text = lines.join('\n');
writeFileSync(path.join(here, 'test-results/interop-matrix.md'), text);
if (process.argv.includes('--docs')) writeFileSync(path.join(here, '../docs/interop-matrix.md'), text);
console.log(
  `interop matrix: ${matrix.totals.pass} pass, ${matrix.totals.expectedFailure} expected failures, ` +
    `${matrix.totals.fail} failures, ${matrix.totals.flaky} flaky -> test-interop/test-results/interop-matrix.md`,
);
