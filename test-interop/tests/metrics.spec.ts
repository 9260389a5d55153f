/**
 * Issue 7: GET /metrics of the server and of the gateway (Prometheus text, prom-client), scraped
 * while a real browser connects, sends and leaves. The stack is shared by the worker's tests, so
 * every check is a difference between two scrapes.
 */
import { closeConnection, connect, echoAll } from '../fixtures/inPage.js';
import { expect, test } from '../fixtures/test.js';

type Samples = Map<string, number>;

/** Prometheus' text format, one sample a line: `name{a="x",b="y"} value`. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => `${k}=${v}`).sort();
    samples.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return samples;
}

async function scrape(url: string): Promise<Samples> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parse(await res.text());
}

/** One sample; 0 when the series does not exist yet. Labels as {name: value}. */
function at(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const key = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',')}}`;
  return samples.get(key) ?? 0;
}

/** The sum of every series of `name` whose labels include `labels`. */
function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}=${v}`))) total += value;
  }
  return total;
}

for (const transport of ['ws', 'socket.io'] as const) {
  test(`metrics over ${transport}: clients, peers, messages, sessions, setup time, channels and bytes move as a browser connects, sends and leaves`, async ({
    rtcPage,
    stack,
  }) => {
    const server0 = await scrape(stack.serverUrl);
    const gateway0 = await scrape(stack.statusUrl);
    expect(at(server0, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(at(gateway0, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(gateway0.has('nodejs_eventloop_lag_p99_seconds{}')).toBe(true);

    await connect(rtcPage, { room: stack.room, transport, offerer: 'browser' });
    const payloads = [{ text: 'one' }, { text: 'two two' }, { bytes: [1, 2, 3, 4, 5] }];
    expect(await echoAll(rtcPage, payloads)).toEqual(payloads);
    const bytes = 3 + 7 + 5;

    const server1 = await scrape(stack.serverUrl);
    const d = (name: string, labels: Record<string, string> = {}) =>
      at(server1, name, labels) - at(server0, name, labels);
    expect(d('rtcgate_signaling_clients', { transport })).toBe(1);
    expect(d('rtcgate_signaling_peers', { transport, role: 'browser' })).toBe(1);
    expect(at(server1, 'rtcgate_signaling_rooms', { transport })).toBeGreaterThanOrEqual(1);
    expect(d('rtcgate_signaling_messages_received_total', { transport, type: 'join' })).toBe(1);
    expect(d('rtcgate_signaling_messages_received_total', { transport, type: 'offer' })).toBe(1);
    expect(d('rtcgate_signaling_messages_sent_total', { transport, type: 'joined' })).toBe(1);
    // The gateway's answer, relayed to the browser over its transport.
    expect(d('rtcgate_signaling_messages_sent_total', { transport, type: 'answer' })).toBe(1);

    // The gateway: its session connected, the echo channel open, what crossed it counted.
    await expect
      .poll(async () => {
        const g = await scrape(stack.statusUrl);
        return at(g, 'rtcgate_gateway_channel_messages_total', { route: 'echo', direction: 'to_browser' });
      })
      .toBe(
        at(gateway0, 'rtcgate_gateway_channel_messages_total', { route: 'echo', direction: 'to_browser' }) +
          3,
      );
    const gateway1 = await scrape(stack.statusUrl);
    const g = (name: string, labels: Record<string, string> = {}) =>
      at(gateway1, name, labels) - at(gateway0, name, labels);
    expect(g('rtcgate_gateway_sessions_created_total')).toBe(1);
    expect(g('rtcgate_gateway_session_setup_seconds_count')).toBe(1);
    const setup = g('rtcgate_gateway_session_setup_seconds_sum');
    expect(setup).toBeGreaterThan(0);
    expect(setup).toBeLessThan(20);
    expect(
      sum(gateway1, 'rtcgate_gateway_sessions', { dtls_state: 'connected' }) -
        sum(gateway0, 'rtcgate_gateway_sessions', { dtls_state: 'connected' }),
    ).toBe(1);
    expect(g('rtcgate_gateway_channels_open', { route: 'echo' })).toBe(1);
    for (const direction of ['from_browser', 'to_browser']) {
      expect(g('rtcgate_gateway_channel_messages_total', { route: 'echo', direction })).toBe(3);
      expect(g('rtcgate_gateway_channel_bytes_total', { route: 'echo', direction })).toBe(bytes);
    }

    // Leaving: the gauges come back, the counters stay.
    await closeConnection(rtcPage);
    await expect
      .poll(
        async () => {
          const [s, gw] = [await scrape(stack.serverUrl), await scrape(stack.statusUrl)];
          return [
            at(s, 'rtcgate_signaling_clients', { transport }) -
              at(server0, 'rtcgate_signaling_clients', { transport }),
            at(s, 'rtcgate_signaling_peers', { transport, role: 'browser' }) -
              at(server0, 'rtcgate_signaling_peers', { transport, role: 'browser' }),
            sum(gw, 'rtcgate_gateway_sessions') - sum(gateway0, 'rtcgate_gateway_sessions'),
            at(gw, 'rtcgate_gateway_channels_open', { route: 'echo' }) -
              at(gateway0, 'rtcgate_gateway_channels_open', { route: 'echo' }),
          ];
        },
        { timeout: 15_000 },
      )
      .toEqual([0, 0, 0, 0]);
    const gateway2 = await scrape(stack.statusUrl);
    for (const direction of ['from_browser', 'to_browser']) {
      expect(at(gateway2, 'rtcgate_gateway_channel_bytes_total', { route: 'echo', direction })).toBe(
        at(gateway1, 'rtcgate_gateway_channel_bytes_total', { route: 'echo', direction }),
      );
    }
  });
}
