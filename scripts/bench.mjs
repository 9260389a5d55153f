// `npm run bench [-- --quick] [--project chromium|firefox] [--docs]`: install what is missing,
// build, measure the machine's UDP loopback ceiling and the signaling server under load, run the
// Playwright benches (test-interop/bench/*.bench.ts: the gateway against the other stacks, one
// gateway holding many sessions, the bridge benches), then print each browser's table with the
// issues' targets (PASS or MISS) and write the run as JSON (bench-runs/, kept across runs). `--quick` runs every measurement
// briefly and checks no target (npm test runs it so that the harness cannot rot); `--docs` also
// writes the charts and the run into docs/bench/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, ensureInstalled, repo, run } from './ensure.mjs';
import {
  bridgeLoss,
  bridgeRun,
  bridgeTargets,
  concurrencyTargets,
  figures,
  formatConcurrency,
  formatSignaling,
  formatTable,
  median,
  signalingTargets,
  svgChart,
  targetLine,
  targets,
  THROUGHPUT_FIGURES,
} from './bench-report.mjs';

const RESULTS = path.join(repo, 'test-interop/test-results/bench/results.json');
/** The *.bench.ts files: each runs once per browser. */
const BENCH_FILES = 4;
/** Kept across runs: Playwright empties its output folders (test-results/) at every start. */
const RUNS_DIR = path.join(repo, 'bench-runs');

/** The installed version of a package, or "?" */
function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(repo, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** The UDP loopback blast (test-interop/bench/udp-blast.mjs), `runs` times. */
function udpCeiling(quick) {
  const runs = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const r = spawnSync(
      process.execPath,
      ['test-interop/bench/udp-blast.mjs', '--count', quick ? '20000' : '200000'],
      { cwd: repo, encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`udp-blast failed (${r.status ?? r.signal}): ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  return { runs, receiveMBps: median(runs.map((r) => r.receiveMBps)) };
}

/** Every test of Playwright's JSON report, with its project, status and annotations. */
function testsOf(report) {
  const out = [];
  const walk = (suite) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const last = t.results?.at(-1);
        out.push({
          title: spec.title,
          project: t.projectName,
          ok: t.status === 'expected',
          status: last?.status ?? t.status,
          // Playwright copies a test's annotations into its results: read them once.
          annotations: last?.annotations?.length ? last.annotations : (t.annotations ?? []),
        });
      }
    }
    for (const s of suite.suites ?? []) walk(s);
  };
  for (const s of report.suites ?? []) walk(s);
  return out;
}

/**
 * Runs the benches; resolves with how many measurements completed and how many failed.
 * @param {{ quick?: boolean; projects?: string[]; docs?: boolean; install?: boolean }} options
 */
export async function runBench({ quick = false, projects = [], docs = false, install = true } = {}) {
  if (install) {
    ensureInstalled();
    ensureBuilt();
  }
  const started = new Date();
  let passed = 0;
  let failed = 0;

  let udp;
  try {
    udp = udpCeiling(quick);
    passed++;
    console.log(
      `UDP loopback ceiling (1200-byte datagrams, two processes): ${udp.receiveMBps.toFixed(0)} MB/s received`,
    );
  } catch (err) {
    failed++;
    console.error(`UDP loopback ceiling: ${err.message}`);
  }

  // The signaling server under load (no browser): its own process, the load from another.
  let signaling;
  {
    const r = spawnSync(
      process.execPath,
      ['test-interop/bench/signaling-load.mjs', ...(quick ? ['--quick'] : [])],
      {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 600_000,
      },
    );
    if (r.status === 0) {
      signaling = JSON.parse(r.stdout.trim().split('\n').pop());
      passed++;
      console.log(`\n${formatSignaling(signaling)}\n`);
    } else {
      failed++;
      console.error(`signaling load: exited ${r.status ?? r.signal}: ${r.stdout}`);
    }
  }

  rmSync(RESULTS, { force: true });
  const code = run(
    'npx',
    [
      'playwright',
      'test',
      '-c',
      'test-interop/bench.config.ts',
      ...projects.flatMap((p) => ['--project', p]),
    ],
    {
      env: { ...process.env, BENCH_QUICK: quick ? '1' : '0' },
    },
  );
  if (!existsSync(RESULTS)) {
    console.error(`bench: playwright exited ${code} without results`);
    return { passed, failed: failed + 1 };
  }
  const tests = testsOf(JSON.parse(readFileSync(RESULTS, 'utf8')));
  passed += tests.filter((t) => t.ok).length;
  failed += tests.filter((t) => !t.ok).length;
  // A file that did not load, or a benchmark missing from the report, is a failure too.
  const expected = BENCH_FILES * (projects.length || 2);
  if (tests.length < expected) {
    console.error(`bench: ${tests.length} of ${expected} benchmarks reported (playwright exited ${code})`);
    failed += expected - tests.length;
  } else if (code !== 0 && tests.every((t) => t.ok)) {
    console.error(`bench: playwright exited ${code} with every benchmark passed`);
    failed++;
  }

  const compare = tests
    .flatMap((t) => t.annotations.filter((a) => a.type === 'compare'))
    .map((a) => JSON.parse(a.description));
  const concurrency = tests
    .flatMap((t) => t.annotations.filter((a) => a.type === 'concurrency'))
    .map((a) => JSON.parse(a.description));
  const others = tests.map((t) => ({
    title: t.title,
    project: t.project,
    status: t.status,
    measured: t.annotations.filter((a) => a.type === 'measured').map((a) => JSON.parse(a.description)),
  }));
  for (const result of compare) {
    console.log(`\n${formatTable(result)}`);
    if (udp) {
      const best = Math.max(
        ...Object.values(figures(result.samples)['down 64 KiB MB/s'] ?? {}).map((s) => s.median),
      );
      console.log(
        `  the fastest stack's 64 KiB download is ${((best / udp.receiveMBps) * 100).toFixed(1)}% of the UDP ceiling`,
      );
    }
  }

  for (const result of concurrency) console.log(`\n${formatConcurrency(result)}`);
  const bridges = others
    .filter((t) => t.title.startsWith('bridge to a WebSocket'))
    .flatMap((t) => t.measured.map((m) => ({ ...m, targets: bridgeTargets(m) })));
  if (bridges.length > 0)
    console.log('\nbridge to a WebSocket echo backend against the echo route (issue 5)');
  for (const b of bridges) {
    for (const t of b.targets) console.log(targetLine(t, quick, { ratio: !t.bound.includes('ms') }));
    const loss = bridgeLoss(b);
    if (loss) console.log(`        ${bridgeRun(b)}: ${loss}`);
  }
  for (const browser of new Set(bridges.map((b) => b.browser))) {
    if (!bridges.some((b) => b.browser === browser && b.placement === 'split'))
      console.log(
        `  ${browser}: no round ran with the browser on its own CPUs (taskset missing, or one CPU): issue 5's target is not judged`,
      );
  }

  const record = {
    date: started.toISOString(),
    quick,
    command: `npm run bench${quick ? ' -- --quick' : ''}${projects.map((p) => ` --project ${p}`).join('')}`,
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    versions: Object.fromEntries(
      ['node-datachannel', 'werift', '@roamhq/wrtc', '@playwright/test', 'ws'].map((p) => [p, versionOf(p)]),
    ),
    udp,
    signaling: signaling && { ...signaling, targets: signalingTargets(signaling) },
    compare: compare.map((r) => ({ ...r, figures: figures(r.samples), targets: targets(r) })),
    concurrency: concurrency.map((r) => ({ ...r, targets: concurrencyTargets(r) })),
    bridges,
    benches: others,
  };
  mkdirSync(RUNS_DIR, { recursive: true });
  const file = path.join(RUNS_DIR, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2));
  console.log(`\nbench: the run is in ${path.relative(repo, file)}`);

  if (docs) {
    const dir = path.join(repo, 'docs/bench');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(record, null, 2));
    for (const r of compare) {
      const name = r.browser.split(' ')[0];
      const f = figures(r.samples);
      writeFileSync(
        path.join(dir, `throughput-${name}.svg`),
        svgChart(`Throughput, ${r.browser} (median, min–max)`, THROUGHPUT_FIGURES, f, 'MB/s'),
      );
      writeFileSync(
        path.join(dir, `setup-${name}.svg`),
        svgChart(
          `Connection setup, ${r.browser} (median, min–max)`,
          ['setup ms', 'setup parallel ms'],
          f,
          'ms',
        ),
      );
    }
    console.log('bench: charts and the run written to docs/bench/');
  }
  console.log(`bench: ${passed} passed, ${failed} failed`);
  return { passed, failed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      project: { type: 'string', multiple: true, default: [] },
      docs: { type: 'boolean', default: false },
    },
  });
  const { failed } = await runBench({ quick: values.quick, projects: values.project, docs: values.docs });
  process.exit(failed > 0 ? 1 : 0);
}
