/**
 * Prometheus metrics of the signaling server (prom-client), served at GET /metrics. Each server
 * has a registry of its own (several servers can share a process, as in the tests); the demo gives
 * the server and the gateway one registry, so one scrape sees both. docs/metrics.md lists them.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TRANSPORTS, type SignalHub, type Transport } from './signalHub.js';

/** What the hub reports as messages cross it. */
export interface HubMetrics {
  /** A client frame decoded as `type` (or "invalid" when the codec refused it). */
  received(transport: Transport, type: string): void;
  /** A server message of `type` sent. */
  sent(transport: Transport, type: string): void;
  /** An error message sent with `code`. */
  refused(transport: Transport, code: string): void;
}

/** A registry with the process metrics (CPU, memory, event loop lag, handles) registered once. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export class ServerMetrics implements HubMetrics {
  readonly #received: Counter<'transport' | 'type'>;
  readonly #sent: Counter<'transport' | 'type'>;
  readonly #errors: Counter<'transport' | 'code'>;
  readonly #turn: Counter<'via'>;
  #hub: SignalHub | undefined;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.#received = new Counter({
      name: 'rtcgate_signaling_messages_received_total',
      help: 'Signaling messages received from clients, by transport and message type ("invalid": refused by the codec)',
      labelNames: ['transport', 'type'],
      registers,
    });
    this.#sent = new Counter({
      name: 'rtcgate_signaling_messages_sent_total',
      help: 'Signaling messages sent to clients, by transport and message type',
      labelNames: ['transport', 'type'],
      registers,
    });
    this.#errors = new Counter({
      name: 'rtcgate_signaling_errors_total',
      help: 'Signaling error messages sent, by transport and error code (docs/errors.md)',
      labelNames: ['transport', 'code'],
      registers,
    });
    this.#turn = new Counter({
      name: 'rtcgate_turn_credentials_issued_total',
      help: 'Short-lived TURN credentials issued, in join replies or by GET /ice-servers',
      labelNames: ['via'],
      registers,
    });
    const hubOf = () => this.#hub;
    new Gauge({
      name: 'rtcgate_signaling_clients',
      help: 'Open signaling connections, by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        const stats = hubOf()?.statsByTransport();
        for (const transport of TRANSPORTS) this.set({ transport }, stats?.[transport].connections ?? 0);
      },
    });
    new Gauge({
      name: 'rtcgate_signaling_peers',
      help: 'Joined peers, by transport and role',
      labelNames: ['transport', 'role'],
      registers,
      collect() {
        const stats = hubOf()?.statsByTransport();
        for (const transport of TRANSPORTS) {
          for (const role of ['browser', 'gateway'] as const) {
            this.set({ transport, role }, stats?.[transport].peers[role] ?? 0);
          }
        }
      },
    });
    new Gauge({
      name: 'rtcgate_signaling_rooms',
      help: 'Rooms with at least one peer joined over the transport',
      labelNames: ['transport'],
      registers,
      collect() {
        const stats = hubOf()?.statsByTransport();
        for (const transport of TRANSPORTS) this.set({ transport }, stats?.[transport].rooms ?? 0);
      },
    });
    for (const transport of TRANSPORTS) {
      // Zero series exist before the first message, so a rate() has a start.
      this.#received.inc({ transport, type: 'join' }, 0);
      this.#sent.inc({ transport, type: 'joined' }, 0);
    }
  }

  /** The hub whose connections, peers and rooms the gauges read. */
  observe(hub: SignalHub): void {
    this.#hub = hub;
  }

  received(transport: Transport, type: string): void {
    this.#received.inc({ transport, type });
  }

  sent(transport: Transport, type: string): void {
    this.#sent.inc({ transport, type });
  }

  refused(transport: Transport, code: string): void {
    this.#errors.inc({ transport, code });
  }

  turnIssued(via: 'join' | 'http'): void {
    this.#turn.inc({ via });
  }
}
