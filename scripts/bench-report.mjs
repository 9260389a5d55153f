// @ts-check
/**
 * Turns the comparison bench's samples (test-interop/bench/compare.bench.ts) into figures, ratios
 * and the issue's targets, and renders them as a text table and an SVG chart. Pure functions: no
 * files, no processes (scripts/bench.mjs does those), so that a unit test can check them.
 */

/** The peers, product first; the order of every table and chart. */
export const PEERS = ['gateway', 'ndc', 'werift', 'wrtc', 'browser'];
export const PEER_NAMES = {
  gateway: 'rtcgate gateway',
  ndc: 'bare node-datachannel',
  werift: 'werift',
  wrtc: '@roamhq/wrtc',
  browser: 'browser↔browser',
};
const THROUGHPUT = ['up 16 KiB MB/s', 'down 16 KiB MB/s', 'up 64 KiB MB/s', 'down 64 KiB MB/s'];
const REFERENCE_NODE_PEERS = ['ndc', 'werift', 'wrtc'];

/** @param {number[]} values */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? /** @type {number} */ (s[mid]) : (s[mid - 1] + s[mid]) / 2;
}

/** The q-quantile (0..1) by nearest rank. @param {number[]} values @param {number} q */
export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : /** @type {number} */ (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]);
}

/**
 * A distribution-free interval for the median of `values`: the order statistics that cover the
 * true median with at least `confidence` (the count of values below it is Binomial(n, ½)). Null
 * when there are too few values for that confidence (fewer than 6 for 95%).
 * @param {number[]} values
 * @param {number} [confidence]
 * @returns {{ low: number; high: number; confidence: number } | null}
 */
export function medianInterval(values, confidence = 0.95) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  // P(X = i) for X ~ Binomial(n, 1/2), cumulated: the largest k with 2·P(X < k) ≤ 1 − confidence.
  let below = 0;
  let term = 0.5 ** n;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (2 * (below + term) > 1 - confidence) break;
    below += term;
    term = (term * (n - i)) / (i + 1);
    k = i + 1;
  }
  if (k === 0) return null;
  return {
    low: /** @type {number} */ (s[k - 1]),
    high: /** @type {number} */ (s[n - k]),
    confidence: 1 - 2 * below,
  };
}

/**
 * Spearman's rank correlation of two equally long series (ties get their mean rank); NaN when
 * either does not vary.
 * @param {number[]} x
 * @param {number[]} y
 */
export function spearman(x, y) {
  /** @param {number[]} v */
  const ranks = (v) => {
    const order = v.map((value, i) => ({ value, i })).sort((a, b) => a.value - b.value);
    const r = new Array(v.length).fill(0);
    for (let start = 0; start < order.length;) {
      let end = start;
      while (end + 1 < order.length && order[end + 1].value === order[start].value) end++;
      for (let j = start; j <= end; j++) r[order[j].i] = (start + end) / 2 + 1;
      start = end + 1;
    }
    return r;
  };
  const rx = ranks(x);
  const ry = ranks(y);
  const mean = (/** @type {number[]} */ v) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/**
 * @typedef {{ peer: string; round: number; figure: string; value: number }} Sample
 * @typedef {{ median: number; min: number; max: number; p95: number; n: number }} Stat
 * @typedef {{ browser: string; quick: boolean; samples: Sample[]; unavailable?: Record<string, string> }} CompareResult
 */

/**
 * Per figure and peer: median, spread (min–max) and p95 of the samples. A value that was not
 * measured (NaN, which JSON carries as null: a setup phase whose event never came) is left out,
 * not counted as 0; a figure with none measured reads NaN.
 * @param {Sample[]} samples
 * @returns {Record<string, Record<string, Stat>>}
 */
export function figures(samples) {
  /** @type {Record<string, Record<string, number[]>>} */
  const by = {};
  for (const s of samples) {
    const values = ((by[s.figure] ??= {})[s.peer] ??= []);
    if (typeof s.value === 'number' && Number.isFinite(s.value)) values.push(s.value);
  }
  /** @type {Record<string, Record<string, Stat>>} */
  const out = {};
  for (const [figure, peers] of Object.entries(by)) {
    out[figure] = {};
    for (const [peer, values] of Object.entries(peers)) {
      out[figure][peer] = {
        median: median(values),
        min: values.length ? Math.min(...values) : NaN,
        max: values.length ? Math.max(...values) : NaN,
        p95: quantile(values, 0.95),
        n: values.length,
      };
    }
  }
  return out;
}

/**
 * The gateway's figure over a peer's, round by round (each round measured both back to back):
 * the median of those ratios, and their spread.
 * @param {Sample[]} samples
 * @param {string} figure
 * @param {string} peer
 */
export function roundRatio(samples, figure, peer) {
  const of = (/** @type {string} */ p) =>
    new Map(samples.filter((s) => s.figure === figure && s.peer === p).map((s) => [s.round, s.value]));
  const gw = of('gateway');
  const other = of(peer);
  const ratios = [...gw]
    .filter(([r]) => other.has(r))
    .map(([r, v]) => v / /** @type {number} */ (other.get(r)));
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), n: ratios.length };
}

/**
 * The issue's targets for one browser's run. Each: what, the measured value, the bound, PASS/MISS.
 * @param {CompareResult} result
 * @returns {{ target: string; value: number; bound: string; pass: boolean }[]}
 */
export function targets(result) {
  const { samples } = result;
  const f = figures(samples);
  const out = [];
  for (const figure of THROUGHPUT) {
    const browser = roundRatio(samples, figure, 'browser');
    out.push({
      target: `${figure}: gateway ÷ browser↔browser`,
      value: browser.median,
      bound: '≥ 1.00',
      pass: browser.median >= 1,
    });
    const best = ['werift', 'wrtc'].reduce((a, b) =>
      (f[figure]?.[a]?.median ?? 0) >= (f[figure]?.[b]?.median ?? 0) ? a : b,
    );
    const better = roundRatio(samples, figure, best);
    out.push({
      target: `${figure}: gateway ÷ ${best} (the better of werift, wrtc)`,
      value: better.median,
      bound: '≥ 1.00',
      pass: better.median >= 1,
    });
    const bare = roundRatio(samples, figure, 'ndc');
    out.push({
      target: `${figure}: gateway ÷ bare node-datachannel`,
      value: bare.median,
      bound: '≥ 0.95',
      pass: bare.median >= 0.95,
    });
  }
  for (const figure of ['setup ms', 'setup parallel ms']) {
    const gw = f[figure]?.gateway;
    if (!gw) continue;
    const fastest = REFERENCE_NODE_PEERS.reduce((a, b) =>
      (f[figure]?.[a]?.median ?? Infinity) <= (f[figure]?.[b]?.median ?? Infinity) ? a : b,
    );
    const ratio = gw.median / (f[figure]?.[fastest]?.median ?? NaN);
    out.push({
      target: `${figure} median: gateway ÷ ${fastest} (the fastest Node reference)`,
      value: ratio,
      bound: '≤ 1.00',
      pass: ratio <= 1,
    });
    out.push({
      target: `${figure} median (gateway)`,
      value: gw.median,
      bound: '< 100 ms',
      pass: gw.median < 100,
    });
    out.push({ target: `${figure} p95 (gateway)`, value: gw.p95, bound: '< 200 ms', pass: gw.p95 < 200 });
  }
  const rtt = roundRatio(samples, 'rtt p50 ms', 'browser');
  out.push({
    target: 'rtt p50: gateway ÷ browser↔browser',
    value: rtt.median,
    bound: '≤ 1.20',
    pass: rtt.median <= 1.2,
  });
  return out;
}

/** @param {number} v */
const fmt = (v) =>
  !Number.isFinite(v) ? '–' : v >= 1000 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

/**
 * One target as a line of the table: PASS or MISS (or "not checked" in quick runs), the value,
 * the bound, what it is. Ratios print with three decimals, so that a MISS never reads as its bound.
 * @param {{ target: string; value: number; bound: string; pass: boolean; note?: string }} t
 * @param {boolean} quick
 * @param {{ ratio?: boolean }} [options]
 */
export function targetLine(t, quick, { ratio = false } = {}) {
  const verdict = quick ? 'not checked (quick)' : t.pass ? 'PASS' : 'MISS';
  const value = ratio ? t.value.toFixed(3) : fmt(t.value);
  const note = t.note ? ` (${t.note})` : '';
  return `  ${verdict.padEnd(4)}  ${value.padStart(7)}  ${t.bound.padEnd(9)} ${t.target}${note}`;
}

/**
 * The text table of one browser's run: per figure, each peer's median (min–max), then the targets.
 * @param {CompareResult} result
 * @param {{ checkTargets?: boolean }} [options]
 */
export function formatTable(result, { checkTargets = true } = {}) {
  const f = figures(result.samples);
  const cols = PEERS.filter((p) => Object.values(f).some((byPeer) => byPeer[p]));
  const head = ['figure', ...cols];
  const rows = Object.keys(f).map((figure) => [
    figure,
    ...cols.map((p) => {
      const s = f[figure]?.[p];
      return s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–';
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (/** @type {string[]} */ r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const gone = Object.entries(result.unavailable ?? {}).map(([p, why]) => `  not measured: ${p}: ${why}`);
  const lines = [
    `${result.browser}${result.quick ? ' (quick)' : ''}: median (min–max)`,
    line(head),
    ...rows.map(line),
    ...gone,
    '',
  ];
  for (const t of targets(result)) {
    lines.push(targetLine(t, result.quick || !checkTargets, { ratio: !t.bound.includes('ms') }));
  }
  return lines.join('\n');
}

/**
 * A grouped bar chart as SVG: one group per figure, one bar per peer, the median with a min–max
 * whisker.
 * @param {string} title
 * @param {string[]} figureNames
 * @param {Record<string, Record<string, Stat>>} f
 * @param {string} unit
 */
export function svgChart(title, figureNames, f, unit) {
  const colors = {
    gateway: '#d6336c',
    ndc: '#f59f00',
    werift: '#37b24d',
    wrtc: '#1c7ed6',
    browser: '#7048e8',
  };
  const W = 760;
  const H = 320;
  const left = 60;
  const top = 40;
  const bottom = 60;
  const plotH = H - top - bottom;
  const max = Math.max(...figureNames.flatMap((n) => PEERS.map((p) => f[n]?.[p]?.max ?? 0))) * 1.1 || 1;
  const groupW = (W - left - 20) / figureNames.length;
  const barW = (groupW - 20) / PEERS.length;
  const y = (/** @type {number} */ v) => top + plotH - (v / max) * plotH;
  const esc = (/** @type {string} */ s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${W - 20}" y2="${top + plotH}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${W - 20}" y2="${y(v)}" stroke="#eee"/>`);
  }
  parts.push(
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`,
  );
  figureNames.forEach((name, g) => {
    const x0 = left + 10 + g * groupW;
    PEERS.forEach((peer, i) => {
      const s = f[name]?.[peer];
      if (!s) return;
      const x = x0 + i * barW;
      parts.push(
        `<rect x="${x}" y="${y(s.median)}" width="${barW - 2}" height="${top + plotH - y(s.median)}" fill="${colors[/** @type {keyof colors} */ (peer)]}"/>`,
      );
      const cx = x + (barW - 2) / 2;
      parts.push(`<line x1="${cx}" y1="${y(s.min)}" x2="${cx}" y2="${y(s.max)}" stroke="#222"/>`);
    });
    parts.push(
      `<text x="${x0 + (groupW - 20) / 2}" y="${top + plotH + 16}" text-anchor="middle">${esc(name)}</text>`,
    );
  });
  PEERS.forEach((peer, i) => {
    const x = left + i * 140;
    parts.push(
      `<rect x="${x}" y="${H - 22}" width="10" height="10" fill="${colors[/** @type {keyof colors} */ (peer)]}"/>`,
    );
    parts.push(
      `<text x="${x + 14}" y="${H - 13}">${esc(PEER_NAMES[/** @type {keyof PEER_NAMES} */ (peer)])}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export const THROUGHPUT_FIGURES = THROUGHPUT;

/**
 * @typedef {{ sessions: number; connectSeconds: number; connected: number; failedConnects: number;
 *   echoesOk: number; echoesFailed: number; rssMiB: number; rssPerSessionKiB: number;
 *   eventLoopP99Ms: number; eventLoopMaxMs: number; udpDropsDuringConnect?: number }} ConcurrencyStep
 * @typedef {{ browser: string; quick: boolean; idleRssMiB: number; steps: ConcurrencyStep[];
 *   maxSessions: number }} ConcurrencyResult
 */

/**
 * The concurrency targets, read at the largest step that held (all connected in 60 s, all echoed).
 * @param {ConcurrencyResult} result
 */
export function concurrencyTargets(result) {
  const held = result.steps.filter((s) => s.failedConnects === 0 && s.echoesFailed === 0).at(-1);
  return [
    {
      target: 'sessions held by one gateway',
      value: result.maxSessions,
      bound: '≥ 500',
      pass: result.maxSessions >= 500,
    },
    {
      target: `RSS per session at ${held?.sessions ?? 0} sessions (KiB)`,
      value: held?.rssPerSessionKiB ?? NaN,
      bound: '≤ 512',
      pass: (held?.rssPerSessionKiB ?? Infinity) <= 512,
    },
    {
      target: `event-loop delay p99 at ${held?.sessions ?? 0} sessions`,
      value: held?.eventLoopP99Ms ?? NaN,
      bound: '< 50 ms',
      pass: (held?.eventLoopP99Ms ?? Infinity) < 50,
    },
  ];
}

/** @param {ConcurrencyResult} result */
export function formatConcurrency(result) {
  const lines = [
    `${result.browser}${result.quick ? ' (quick)' : ''}: one gateway, many sessions (idle RSS ${fmt(result.idleRssMiB)} MiB)`,
    '  sessions  connect s  failed  echoes ok/failed  RSS MiB  KiB/session  loop p99 ms  loop max ms  UDP drops',
  ];
  for (const s of result.steps) {
    lines.push(
      `  ${String(s.sessions).padStart(8)}  ${fmt(s.connectSeconds).padStart(9)}  ${String(s.failedConnects).padStart(6)}  ${`${s.echoesOk}/${s.echoesFailed}`.padStart(16)}  ${fmt(s.rssMiB).padStart(7)}  ${fmt(s.rssPerSessionKiB).padStart(11)}  ${fmt(s.eventLoopP99Ms).padStart(11)}  ${fmt(s.eventLoopMaxMs).padStart(11)}  ${(s.udpDropsDuringConnect === undefined ? '–' : String(s.udpDropsDuringConnect)).padStart(9)}`,
    );
  }
  for (const t of concurrencyTargets(result)) lines.push(targetLine(t, result.quick));
  return lines.join('\n');
}

/**
 * The signaling server's targets (figure 6) from signaling-load.mjs's JSON: per transport, the
 * clients joined, RSS per client with everyone joined, relayed messages/s and relay p99.
 * @param {Record<string, any>} load
 */
export function signalingTargets(load) {
  const out = [];
  const bounds = { ws: { clients: 10_000, rate: 30_000 }, 'socket.io': { clients: 10_000, rate: 15_000 } };
  for (const [transport, b] of Object.entries(bounds)) {
    const r = load[transport];
    if (!r) continue;
    out.push({
      target: `${transport}: clients joined to one server`,
      value: r.joined,
      bound: `≥ ${b.clients}`,
      pass: r.joined >= b.clients,
    });
    if (transport === 'ws') {
      out.push({
        target: 'ws: RSS per client, all joined (KiB)',
        value: r.rssPerClientKiB,
        bound: '≤ 16',
        pass: r.rssPerClientKiB <= 16,
      });
    }
    out.push({
      target: `${transport}: relayed messages/s`,
      value: r.relayPerSec,
      bound: `≥ ${b.rate}`,
      pass: r.relayPerSec >= b.rate,
    });
    if (transport === 'ws') {
      out.push({
        target: 'ws: relay latency p99',
        value: r.relayP99Ms,
        bound: '< 20 ms',
        pass: r.relayP99Ms < 20,
      });
    }
  }
  return out;
}

/** @param {Record<string, any>} load */
export function formatSignaling(load) {
  const lines = [`signaling server, load from another process${load.quick ? ' (quick)' : ''}`];
  lines.push(
    '  transport  joined  KiB/client  after relay  msgs/s  p50 ms  p99 ms  server CPU µs/msg  other CPU %',
  );
  for (const t of ['ws', 'socket.io']) {
    const r = load[t];
    if (!r) continue;
    lines.push(
      `  ${t.padEnd(9)}  ${String(r.joined).padStart(6)}  ${fmt(r.rssPerClientKiB).padStart(10)}  ${fmt(r.rssPerClientAfterRelayKiB).padStart(11)}  ${String(r.relayPerSec).padStart(6)}  ${fmt(r.relayP50Ms).padStart(6)}  ${fmt(r.relayP99Ms).padStart(6)}  ${fmt(r.serverCpuUsPerMsg).padStart(17)}  ${String(r.otherCpuPct).padStart(11)}`,
    );
  }
  for (const t of signalingTargets(load)) lines.push(targetLine(t, load.quick));
  return lines.join('\n');
}

/**
 * Which browser, and where the processes ran (test-interop/bench/placement.ts): `split` gives the
 * browser CPUs of its own, as in a deployment; `shared` puts every process on every CPU.
 * @param {{ browser: string; placement?: string }} summary
 */
export function bridgeRun(summary) {
  const where = {
    split: ' (browser on its own CPUs: the target)',
    shared: ' (all CPUs shared: for reference)',
  }[summary.placement ?? ''];
  return `${summary.browser}${where ?? ''}`;
}

/**
 * The bridge's targets (issue 5) from bridge.bench.ts's summary, one per placement. The throughput
 * ratio is the median of the rounds' ratios; a round's ratio swings widely (a loss on loopback
 * halves SCTP's window), so its 95% interval is printed beside it.
 * @param {{ browser: string; placement?: string; throughputRatio: number; ratios?: number[]; addedRttMedianMs: number }} summary
 */
export function bridgeTargets(summary) {
  const interval = medianInterval(summary.ratios ?? []);
  return [
    {
      target: `${bridgeRun(summary)}: bridge ÷ echo route throughput`,
      value: summary.throughputRatio,
      bound: '≥ 0.90',
      pass: summary.throughputRatio >= 0.9,
      ...(interval
        ? {
            note: `${Math.round(interval.confidence * 100)}% interval ${interval.low.toFixed(3)}–${interval.high.toFixed(3)}, ${summary.ratios?.length} rounds`,
          }
        : {}),
    },
    {
      target: `${bridgeRun(summary)}: round trip added by the bridge`,
      value: summary.addedRttMedianMs,
      bound: '< 1 ms',
      pass: summary.addedRttMedianMs < 1,
    },
  ];
}

/**
 * What loss on loopback did to the bridge bench's rounds: UDP receive-buffer drops per MB on each
 * route, and the rank correlation of a round's throughput with its drops (both routes' rounds).
 * Null for a summary without per-round figures.
 * @param {{ cpu?: Record<string, { udpDropsPerMB?: number }>; perRound?: { echoMBps: number[]; bridgeMBps: number[]; echoUdpDrops: number[]; bridgeUdpDrops: number[] } }} summary
 */
export function bridgeLoss(summary) {
  const r = summary.perRound;
  if (!r || r.echoMBps.length === 0) return null;
  const perMB = (/** @type {string} */ route) => summary.cpu?.[route]?.udpDropsPerMB;
  // Rounds whose drops were not read (null in JSON) are left out.
  const pairs = [...r.echoMBps, ...r.bridgeMBps]
    .map((mbps, i) => [mbps, [...r.echoUdpDrops, ...r.bridgeUdpDrops][i]])
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const rho = spearman(
    pairs.map(([a]) => /** @type {number} */ (a)),
    pairs.map(([, b]) => /** @type {number} */ (b)),
  );
  return (
    `UDP receive-buffer drops per MB: echo route ${fmt(perMB('echo') ?? NaN)}, bridge ${fmt(perMB('ws-echo') ?? NaN)}; ` +
    `rank correlation of a round's MB/s with its drops ${Number.isNaN(rho) ? 'n/a' : rho.toFixed(2)}`
  );
}
