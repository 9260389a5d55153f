// A chat backend for rtcgate: a plain WebSocket server that knows nothing of WebRTC. Every browser
// that opens a DataChannel labelled "chat" gets its own WebSocket connection here, through the
// gateway (route: chat=ws://127.0.0.1:9100/); what one sends, everyone connected receives, with the
// sender's peer id (the gateway's X-Rtcgate-Peer header).
//
//   node examples/chat/server.mjs            # PORT=9100 by default
//   ROUTES="chat=ws://127.0.0.1:9100/" npm start
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 9100);
const wss = new WebSocketServer({ port, host: '127.0.0.1', maxPayload: 64 * 1024 });

wss.on('connection', (ws, req) => {
  const who = String(req.headers['x-rtcgate-peer'] ?? 'someone');
  const say = (text) => {
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(text);
  };
  say(`${who} joined (${wss.clients.size} here)`);
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.send('this chat takes text only');
      return;
    }
    say(`${who}: ${data.toString().slice(0, 1000)}`);
  });
  ws.on('close', () => say(`${who} left`));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`chat backend on ws://127.0.0.1:${port}/`));
wss.on('error', (err) => {
  console.error(`chat backend: ${err.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wss.close(() => process.exit(0)));
