/**
 * Prometheus metrics of the gateway (prom-client): sessions by ICE and DTLS state, setup time,
 * channels open and bytes and messages each way per route, backpressure pauses. Served at
 * GET /metrics of the status server, or of the signaling server in the demo (one registry).
 * docs/metrics.md lists them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GatewayChannel } from './channel.js';
import type { PeerSession } from './peerSession.js';

/** A channel's counters, as GatewayChannel.info() reports them. */
interface Totals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** Adds one channel's counters to `route`'s totals in `sums`. */
function addInto(sums: Map<string, Totals>, route: string, add: Totals): void {
  const sum = sums.get(route) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  sum.messagesIn += add.messagesIn;
  sum.messagesOut += add.messagesOut;
  sum.bytesIn += add.bytesIn;
  sum.bytesOut += add.bytesOut;
  sums.set(route, sum);
}

export class GatewayMetrics {
  readonly #setup: Histogram;
  readonly #pauses: Counter<'route' | 'direction'>;
  readonly #sessionsTotal: Counter;
  /** Routed channels still open or closing, by route. */
  readonly #live = new Map<GatewayChannel, string>();
  /** What closed channels moved, by route (so the counters never go back). */
  readonly #closed = new Map<string, Totals>();

  constructor(
    readonly registry: Registry,
    sessions: () => Iterable<PeerSession>,
  ) {
    const registers = [registry];
    new Gauge({
      name: 'rtcgate_gateway_sessions',
      help: 'Gateway sessions (one per browser peer), by ICE connection state and DTLS state',
      labelNames: ['ice_state', 'dtls_state'],
      registers,
      collect() {
        this.reset();
        for (const session of sessions()) {
          const info = session.info();
          this.inc({ ice_state: info.iceConnectionState, dtls_state: info.dtlsState });
        }
      },
    });
    this.#sessionsTotal = new Counter({
      name: 'rtcgate_gateway_sessions_created_total',
      help: 'Gateway sessions created',
      registers,
    });
    this.#setup = new Histogram({
      name: 'rtcgate_gateway_session_setup_seconds',
      help: 'From the first signaling message of a session to its PeerConnection connected (ICE and DTLS up)',
      buckets: [0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    const live = this.#live;
    new Gauge({
      name: 'rtcgate_gateway_channels_open',
      help: 'DataChannels open, by route (the label or prefix* that matched, or handler:NAME)',
      labelNames: ['route'],
      registers,
      collect() {
        this.reset();
        for (const [channel, route] of live) if (channel.state === 'open') this.inc({ route });
      },
    });
    // Every route's totals, in one pass over the live channels: what closed ones moved, plus each
    // live channel's counters.
    const totalsByRoute = (): Map<string, Totals> => {
      const sums = new Map([...this.#closed].map(([route, t]) => [route, { ...t }]));
      for (const [channel, route] of live) addInto(sums, route, channel.info());
      return sums;
    };
    // Counters read from the channels at scrape time: reset, then set to the running total.
    const perRoute = (name: string, help: string, pick: (t: Totals) => [number, number]) =>
      new Counter({
        name,
        help,
        labelNames: ['route', 'direction'],
        registers,
        collect() {
          this.reset();
          for (const [route, totals] of totalsByRoute()) {
            const [fromBrowser, toBrowser] = pick(totals);
            this.inc({ route, direction: 'from_browser' }, fromBrowser);
            this.inc({ route, direction: 'to_browser' }, toBrowser);
          }
        },
      });
    perRoute(
      'rtcgate_gateway_channel_bytes_total',
      'DataChannel payload bytes, by route and direction',
      (t) => [t.bytesIn, t.bytesOut],
    );
    perRoute(
      'rtcgate_gateway_channel_messages_total',
      'DataChannel messages, by route and direction',
      (t) => [t.messagesIn, t.messagesOut],
    );
    this.#pauses = new Counter({
      name: 'rtcgate_gateway_bridge_pauses_total',
      help:
        'Backpressure on bridged channels: to_browser, the backend paused for a slow browser; ' +
        'from_browser, the browser held at its credit by a slow backend',
      labelNames: ['route', 'direction'],
      registers,
    });
  }

  /** A new session: counted, and its setup time observed when it connects. */
  session(session: PeerSession, startedAt: number): void {
    this.#sessionsTotal.inc();
    const onState = (state: string) => {
      if (state === 'connected') {
        this.#setup.observe((Date.now() - startedAt) / 1000);
        session.off('state', onState);
      }
    };
    session.on('state', onState);
    session.once('close', () => session.off('state', onState));
  }

  /** A channel routed to `route`; its bytes and messages count until it closes, then stay counted. */
  channel(channel: GatewayChannel, route: string): void {
    this.#live.set(channel, route);
    channel.once('close', () => {
      addInto(this.#closed, route, channel.info());
      this.#live.delete(channel);
    });
  }

  pause(route: string, direction: 'to_browser' | 'from_browser'): void {
    this.#pauses.inc({ route, direction });
  }
}
