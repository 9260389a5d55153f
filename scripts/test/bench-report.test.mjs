// The comparison bench's arithmetic (scripts/bench-report.mjs): ratios per round, targets, the
// table's verdicts, the chart. Samples are made up here; the bench itself measures real peers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bridgeLoss,
  bridgeTargets,
  concurrencyTargets,
  figures,
  formatConcurrency,
  formatSignaling,
  formatTable,
  median,
  medianInterval,
  quantile,
  roundRatio,
  spearman,
  signalingTargets,
  svgChart,
  targets,
} from '../bench-report.mjs';

/** Two rounds; every peer at `base[peer]` times `scale` of each figure's own base. */
function run(base, { rounds = 2, unavailable } = {}) {
  const figuresOf = {
    'up 16 KiB MB/s': 20,
    'down 16 KiB MB/s': 20,
    'up 64 KiB MB/s': 30,
    'down 64 KiB MB/s': 30,
    'rtt p50 ms': 0.4,
  };
  const samples = [];
  for (let round = 0; round < rounds; round++) {
    for (const [peer, scale] of Object.entries(base)) {
      for (const [figure, v] of Object.entries(figuresOf))
        samples.push({ peer, round, figure, value: v * scale });
    }
  }
  for (const [peer, ms] of Object.entries({ gateway: 70, ndc: 72, werift: 150, wrtc: 24, browser: 25 })) {
    if (!(peer in base)) continue;
    for (let i = 0; i < 20; i++) {
      samples.push({ peer, round: 0, figure: 'setup ms', value: ms + i });
      samples.push({ peer, round: 0, figure: 'setup parallel ms', value: ms * 2 + i });
    }
  }
  return { browser: 'chromium 156', quick: false, samples, unavailable };
}

test('median and quantile', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5), 5);
});

test('ratios are taken round by round, then their median', () => {
  const samples = [
    { peer: 'gateway', round: 0, figure: 'x', value: 10 },
    { peer: 'ndc', round: 0, figure: 'x', value: 20 },
    { peer: 'gateway', round: 1, figure: 'x', value: 30 },
    { peer: 'ndc', round: 1, figure: 'x', value: 10 },
    { peer: 'gateway', round: 2, figure: 'x', value: 10 },
    { peer: 'ndc', round: 2, figure: 'x', value: 10 },
  ];
  const r = roundRatio(samples, 'x', 'ndc');
  assert.deepEqual(r, { median: 1, min: 0.5, max: 3, n: 3 });
});

test('targets pass and miss where the issue puts the bounds', () => {
  const fast = targets(run({ gateway: 1.2, ndc: 1, werift: 0.5, wrtc: 1.1, browser: 1 }));
  const byName = Object.fromEntries(fast.map((t) => [t.target, t]));
  assert.equal(byName['up 16 KiB MB/s: gateway ÷ browser↔browser'].pass, true);
  assert.equal(byName['up 16 KiB MB/s: gateway ÷ wrtc (the better of werift, wrtc)'].pass, true);
  // Setup: 70 ms against wrtc's 24 ms misses the ratio, meets the absolute bound.
  assert.equal(byName['setup ms median: gateway ÷ wrtc (the fastest Node reference)'].pass, false);
  assert.equal(byName['setup ms median (gateway)'].pass, true);
  assert.equal(byName['setup parallel ms median (gateway)'].pass, false); // 149.5 ms
  // RTT: the gateway's rtt is 1.2× browser's: exactly at the bound passes.
  assert.equal(byName['rtt p50: gateway ÷ browser↔browser'].pass, true);

  const slow = targets(run({ gateway: 0.94, ndc: 1, werift: 0.5, wrtc: 0.9, browser: 1 }));
  const miss = slow.filter((t) => !t.pass).map((t) => t.target);
  assert.ok(miss.includes('down 64 KiB MB/s: gateway ÷ bare node-datachannel')); // 0.94 < 0.95
  assert.ok(miss.includes('down 64 KiB MB/s: gateway ÷ browser↔browser'));
  assert.ok(!miss.includes('down 64 KiB MB/s: gateway ÷ wrtc (the better of werift, wrtc)')); // 1.04
});

test('the table prints PASS and MISS, never a check in quick mode, and names what was not measured', () => {
  const result = run(
    { gateway: 0.94, ndc: 1, wrtc: 0.9, browser: 1 },
    { unavailable: { werift: 'werift #438' } },
  );
  const table = formatTable(result);
  assert.match(table, /^ {2}MISS +0\.940 +≥ 0\.95 +up 16 KiB MB\/s: gateway ÷ bare node-datachannel$/m);
  assert.match(table, /^ {2}PASS +1\.044 +≥ 1\.00 +up 16 KiB MB\/s: gateway ÷ wrtc/m);
  assert.match(table, /not measured: werift: werift #438/);
  const quick = formatTable({ ...result, quick: true });
  assert.doesNotMatch(quick, /PASS|MISS/);
  assert.match(quick, /not checked \(quick\)/);
});

test('the chart draws one bar per peer and figure, with a whisker', () => {
  const f = figures(run({ gateway: 1, ndc: 1, werift: 0.5, wrtc: 1, browser: 1 }).samples);
  const svg = svgChart('Throughput', ['up 16 KiB MB/s', 'down 64 KiB MB/s'], f, 'MB/s');
  assert.match(svg, /^<svg /);
  // Ten bars (two figures, five peers) and five legend swatches.
  assert.equal(
    (svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#/g) ?? []).length,
    15,
  );
  assert.equal(
    (svg.match(/<line x1="[\d.]+" y1="[\d.]+" x2="[\d.]+" y2="[\d.]+" stroke="#222"/g) ?? []).length,
    10,
  );
});

test('concurrency targets read the largest step that held', () => {
  const step = (sessions, failedConnects, kib, p99) => ({
    sessions,
    connectSeconds: 10,
    connected: sessions,
    failedConnects,
    echoesOk: 100,
    echoesFailed: 0,
    rssMiB: 100,
    rssPerSessionKiB: kib,
    eventLoopP99Ms: p99,
    eventLoopMaxMs: p99 * 2,
  });
  const result = {
    browser: 'chromium',
    quick: false,
    idleRssMiB: 50,
    steps: [step(100, 0, 300, 20), step(250, 0, 400, 40), step(400, 3, 900, 90)],
    maxSessions: 250,
  };
  const [sessions, rss, loop] = concurrencyTargets(result);
  assert.deepEqual([sessions.pass, rss.pass, loop.pass], [false, true, true]);
  assert.equal(rss.value, 400);
  assert.match(formatConcurrency(result), /MISS +250\.0 +≥ 500 +sessions held by one gateway/);
});

test('signaling targets: clients, memory, rate and p99 per transport', () => {
  const load = {
    quick: false,
    ws: { joined: 10_000, rssPerClientKiB: 8.4, relayPerSec: 29_000, relayP99Ms: 7 },
    'socket.io': { joined: 10_000, rssPerClientKiB: 15, relayPerSec: 21_000, relayP99Ms: 10 },
  };
  const verdicts = Object.fromEntries(signalingTargets(load).map((t) => [t.target, t.pass]));
  assert.deepEqual(verdicts, {
    'ws: clients joined to one server': true,
    'ws: RSS per client, all joined (KiB)': true,
    'ws: relayed messages/s': false,
    'ws: relay latency p99': true,
    'socket.io: clients joined to one server': true,
    'socket.io: relayed messages/s': true,
  });
  assert.match(formatSignaling(load), /MISS +29000 +≥ 30000 +ws: relayed messages\/s/);
});

test('the interval for a median: order statistics with Binomial(n, ½) coverage, none when too few', () => {
  const values = Array.from({ length: 21 }, (_, i) => 21 - i); // unsorted on purpose
  const i21 = medianInterval(values);
  assert.equal(i21?.low, 6);
  assert.equal(i21?.high, 16);
  assert.ok(i21 && i21.confidence >= 0.95 && i21.confidence < 0.98, String(i21?.confidence));
  // Nine values: the 2nd and 8th (96.1%); six: the extremes (96.9%); five cannot reach 95%.
  assert.deepEqual(
    [medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9])?.low, medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9])?.high],
    [2, 8],
  );
  assert.equal(medianInterval([1, 2, 3, 4, 5, 6])?.low, 1);
  assert.equal(medianInterval([1, 2, 3, 4, 5, 6])?.high, 6);
  assert.equal(medianInterval([1, 2, 3, 4, 5]), null);
  assert.equal(medianInterval([]), null);
});

test('rank correlation: monotone either way, ties, no variation', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-9);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  // Partial ties get their mean rank: x ranks 1, 2.5, 2.5, 4 against y's 1..4 gives 0.9487.
  assert.ok(Math.abs(spearman([1, 2, 2, 4], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-9);
});

test('bridge targets: the median ratio decides, its interval and the loss are printed beside it', () => {
  const ratios = [0.7, 0.8, 0.85, 0.88, 0.89, 0.91, 0.95, 1.0, 1.2];
  const [throughput, rtt] = bridgeTargets({
    browser: 'chromium',
    throughputRatio: 0.89,
    ratios,
    addedRttMedianMs: 0.4,
  });
  assert.equal(throughput?.pass, false);
  assert.match(throughput?.note ?? '', /^96% interval 0\.800–1\.000, 9 rounds$/);
  assert.equal(rtt?.pass, true);
  assert.equal(
    bridgeTargets({ browser: 'firefox', throughputRatio: 0.9, addedRttMedianMs: 1 })[0]?.pass,
    true,
  );
  assert.equal(
    bridgeTargets({ browser: 'firefox', throughputRatio: 0.9, addedRttMedianMs: 1 })[1]?.pass,
    false,
  );
  const loss = bridgeLoss({
    cpu: { echo: { udpDropsPerMB: 2 }, 'ws-echo': { udpDropsPerMB: 5 } },
    perRound: { echoMBps: [10, 12], bridgeMBps: [8, 11], echoUdpDrops: [30, 10], bridgeUdpDrops: [50, 20] },
  });
  assert.equal(
    loss,
    "UDP receive-buffer drops per MB: echo route 2.00, bridge 5.00; rank correlation of a round's MB/s with its drops -1.00",
  );
  assert.equal(bridgeLoss({}), null);
});

test('bridge targets name the placement the rounds ran in', () => {
  const names = (placement) =>
    bridgeTargets({ browser: 'chromium', placement, throughputRatio: 1, addedRttMedianMs: 0.2 }).map(
      (t) => t.target,
    );
  assert.deepEqual(names('split'), [
    'chromium (browser on its own CPUs: the target): bridge ÷ echo route throughput',
    'chromium (browser on its own CPUs: the target): round trip added by the bridge',
  ]);
  assert.equal(
    names('shared')[0],
    'chromium (all CPUs shared: for reference): bridge ÷ echo route throughput',
  );
  assert.equal(names(undefined)[0], 'chromium: bridge ÷ echo route throughput');
});

test('figures leave out values that were not measured (NaN, or null from JSON), not read as 0', () => {
  const f = figures([
    { peer: 'gateway', round: 0, figure: 'setup: ICE connected ms', value: 20 },
    { peer: 'gateway', round: 0, figure: 'setup: ICE connected ms', value: /** @type {any} */ (null) },
    { peer: 'gateway', round: 0, figure: 'setup: ICE connected ms', value: NaN },
    { peer: 'gateway', round: 0, figure: 'setup: ICE connected ms', value: 30 },
    { peer: 'ndc', round: 0, figure: 'setup: ICE connected ms', value: NaN },
  ]);
  assert.deepEqual(
    [f['setup: ICE connected ms']?.gateway?.median, f['setup: ICE connected ms']?.gateway?.min],
    [25, 20],
  );
  assert.ok(Number.isNaN(f['setup: ICE connected ms']?.ndc?.median));
  assert.ok(Number.isNaN(f['setup: ICE connected ms']?.ndc?.min));
  const loss = bridgeLoss({
    cpu: {},
    perRound: {
      echoMBps: [10, 12, 11],
      bridgeMBps: [8, 11, 9],
      echoUdpDrops: [30, 10, /** @type {any} */ (null)],
      bridgeUdpDrops: [50, 20, 40],
    },
  });
  assert.match(loss ?? '', /rank correlation of a round's MB\/s with its drops -1\.00$/);
});
