// @ts-check
/**
 * The machine's ceiling for the comparison bench: 1200-byte UDP datagrams on loopback from one
 * Node process to another, as fast as the sender can hand them to the kernel.
 *
 *   node udp-blast.mjs [--count N]     prints one JSON line: sent, received, MB/s received, loss
 *
 * The receiver counts from the first datagram to the last one (it stops after 300 ms of silence);
 * what the kernel dropped on the way (a full receive buffer) is lost, and reported as such.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const SIZE = 1200;
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    role: { type: 'string' },
    port: { type: 'string' },
  },
});
const count = Number(values.count);
if (!Number.isSafeInteger(count) || count < 1) {
  console.error('--count must be a positive integer');
  process.exit(2);
}

/** @param {unknown} m */
const tell = (m) => process.send?.(m);
// A child whose parent is gone (killed at its deadline) goes too.
process.on('disconnect', () => process.exit(1));

if (values.role === 'receive') {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  let received = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let idle;
  const finish = () => {
    sock.close();
    tell({ received, bytes, seconds: (last - first) / 1000 });
  };
  sock.on('message', (msg) => {
    const now = performance.now();
    if (received === 0) first = now;
    last = now;
    received++;
    bytes += msg.length;
    clearTimeout(idle);
    idle = setTimeout(finish, 300);
  });
  sock.bind(0, '127.0.0.1', () => tell({ port: sock.address().port }));
} else if (values.role === 'send') {
  const sock = dgram.createSocket('udp4');
  const port = Number(values.port);
  const payload = Buffer.alloc(SIZE, 7);
  let sent = 0;
  let inFlight = 0;
  const started = performance.now();
  // Keep a bounded number of sends queued in libuv: as fast as the kernel takes them.
  const pump = () => {
    while (inFlight < 64 && sent < count) {
      inFlight++;
      sent++;
      sock.send(payload, port, '127.0.0.1', () => {
        inFlight--;
        if (sent < count) pump();
        else if (inFlight === 0) {
          tell({ sent, seconds: (performance.now() - started) / 1000 });
          sock.close();
        }
      });
    }
  };
  pump();
} else {
  const self = new URL(import.meta.url).pathname;
  /** @param {string[]} args @returns {Promise<import('node:child_process').ChildProcess>} */
  const start = async (args) => fork(self, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  /** @param {import('node:child_process').ChildProcess} child @returns {Promise<any>} */
  const next = (child) => new Promise((resolve) => child.once('message', resolve));
  const receiver = await start(['--role', 'receive']);
  // Nothing arrived, or the sender hung: fail within a bound, and take the children along.
  setTimeout(() => {
    console.error('udp-blast: no result within 30 s');
    process.exit(1);
  }, 30_000).unref();
  const { port } = await next(receiver);
  const received = next(receiver);
  const sender = await start(['--role', 'send', '--port', String(port), '--count', String(count)]);
  const s = await next(sender);
  const r = await received;
  console.log(
    JSON.stringify({
      datagram: SIZE,
      sent: s.sent,
      received: r.received,
      loss: 1 - r.received / s.sent,
      sendMBps: (s.sent * SIZE) / 1e6 / s.seconds,
      receiveMBps: r.bytes / 1e6 / r.seconds,
    }),
  );
  // The children listen for the parent's going (above): leaving ends them too.
  process.exit(0);
}
