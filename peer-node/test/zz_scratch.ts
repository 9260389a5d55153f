import nodeDataChannel from 'node-datachannel';
import { createLogger, startServer } from 'rtcgate-server';
import { Gateway } from '../src/gateway.js';
import { FakeBrowser, quiet } from './pair.js';
nodeDataChannel.initLogger('Info', (level, msg) => console.log('NDC', level, msg));
const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: undefined, heartbeatMs: 500 }, quiet);
const gateway = new Gateway({ signalUrl: `ws://127.0.0.1:${server.port}/signal`, room: 'x', log: createLogger('gw', 'debug') });
await gateway.start();
const stack = { server, gateway, close: async () => { await gateway.close(); await server.close(); } };
const times: number[] = [];
for (let i = 0; i < 80; i++) {
  console.log('=== ITER', i);
  const peer = await FakeBrowser.join(stack, 'x');
  const t0 = Date.now();
  const r = await Promise.race([peer.requestOffer('echo').then((dc) => new Promise<void>((res) => { if (dc.isOpen()) res(); else dc.onOpen(() => res()); })).then(() => Date.now() - t0, () => -2), new Promise<number>((r) => setTimeout(() => r(-1), 8000))]);
  times.push(r);
  console.log('=== RESULT', i, r);
  await peer.close();
  await new Promise((r) => setTimeout(r, 50));
}
console.log('TIMES', times.join(' '));
await stack.close(); nodeDataChannel.cleanup();
