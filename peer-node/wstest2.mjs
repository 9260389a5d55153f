import { WebSocketServer } from 'ws';
import { connectWs } from './dist/src/backends.js';
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((r) => wss.on('listening', r));
wss.on('connection', (ws) => {
  for (let i = 0; i < 8; i++) ws.send(Buffer.alloc(32 * 1024, i));
});
for (const closeAt of [1, 7, 8]) {
  const b = await connectWs(`ws://127.0.0.1:${wss.address().port}/`, 3000, { label: 'x', peerId: 'p' });
  let n = 0;
  await new Promise((resolve) => {
    b.on('message', () => {
      n++;
      if (n === closeAt) b.end();
    });
    b.on('close', (c) => {
      console.log(c);
      resolve();
    });
  });
  console.log('closeAt', closeAt, 'received', n);
}
wss.close();
