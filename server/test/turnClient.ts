/**
 * A small TURN client over UDP (RFC 8489 STUN, RFC 8656 TURN), enough to ask a real coturn for an
 * allocation and a permission with long-term credentials and to read its exact answer. Test-only:
 * browsers and node-datachannel are the product's TURN clients.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

const MAGIC = 0x2112a442;
const METHOD = { allocate: 0x003, createPermission: 0x008, binding: 0x001 } as const;
const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
} as const;

export interface TurnReply {
  /** "success" or "error" (RFC 8489 §5 message class). */
  kind: 'success' | 'error';
  /** The ERROR-CODE number (401, 403, 437, 438, 441, …) for errors. */
  code?: number;
  reason?: string;
  realm?: string;
  nonce?: string;
  relayed?: { address: string; port: number };
  mapped?: { address: string; port: number };
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([header, value, pad]);
}

function xorAddress(address: string, port: number): Buffer {
  const v = Buffer.alloc(8);
  v.writeUInt8(0x01, 1); // IPv4
  v.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const ip = address.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
  v.writeUInt32BE((ip ^ MAGIC) >>> 0, 4);
  return v;
}

function readXorAddress(v: Buffer): { address: string; port: number } {
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const ip = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { address: [24, 16, 8, 0].map((s) => (ip >>> s) & 0xff).join('.'), port };
}

interface Auth {
  username: string;
  key: Buffer;
  realm: string;
  nonce: string;
}

/** Encodes a request; with `auth`, adds USERNAME, REALM, NONCE and MESSAGE-INTEGRITY (§14.5). */
function request(method: number, txid: Buffer, attrs: Buffer[], auth?: Auth): Buffer {
  const body = [...attrs];
  if (auth) {
    body.push(attribute(ATTR.username, Buffer.from(auth.username)));
    body.push(attribute(ATTR.realm, Buffer.from(auth.realm)));
    body.push(attribute(ATTR.nonce, Buffer.from(auth.nonce)));
  }
  const payload = Buffer.concat(body);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(method, 0); // class "request": no class bits
  header.writeUInt32BE(MAGIC, 4);
  txid.copy(header, 8);
  if (!auth) {
    header.writeUInt16BE(payload.length, 2);
    return Buffer.concat([header, payload]);
  }
  // The length covers MESSAGE-INTEGRITY (24 bytes) while the HMAC is computed over what precedes it.
  header.writeUInt16BE(payload.length + 24, 2);
  const hmac = createHmac('sha1', auth.key)
    .update(Buffer.concat([header, payload]))
    .digest();
  return Buffer.concat([header, payload, attribute(ATTR.messageIntegrity, hmac)]);
}

function parse(message: Buffer): { txid: Buffer; reply: TurnReply } | undefined {
  if (message.length < 20 || message.readUInt32BE(4) !== MAGIC) return undefined;
  const type = message.readUInt16BE(0);
  const cls = ((type >> 7) & 0x2) | ((type >> 4) & 0x1);
  if (cls !== 2 && cls !== 3) return undefined;
  const reply: TurnReply = { kind: cls === 2 ? 'success' : 'error' };
  const end = 20 + message.readUInt16BE(2);
  for (let at = 20; at + 4 <= end;) {
    const t = message.readUInt16BE(at);
    const len = message.readUInt16BE(at + 2);
    const v = message.subarray(at + 4, at + 4 + len);
    if (t === ATTR.errorCode) {
      reply.code = (v.readUInt8(2) & 0x7) * 100 + v.readUInt8(3);
      reply.reason = v.subarray(4).toString('utf8');
    } else if (t === ATTR.realm) reply.realm = v.toString('utf8');
    else if (t === ATTR.nonce) reply.nonce = v.toString('utf8');
    else if (t === ATTR.xorRelayedAddress) reply.relayed = readXorAddress(v);
    else if (t === ATTR.xorMappedAddress) reply.mapped = readXorAddress(v);
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { txid: message.subarray(8, 20), reply };
}

/** One TURN client on its own UDP socket (one 5-tuple, so one allocation at most). */
export class TurnClient {
  readonly #socket: Socket;
  readonly #pending = new Map<string, (reply: TurnReply) => void>();
  #auth: Auth | undefined;

  private constructor(
    socket: Socket,
    readonly server: { host: string; port: number },
    readonly username: string,
    readonly password: string,
  ) {
    this.#socket = socket;
    socket.on('message', (m) => {
      const parsed = parse(m);
      if (!parsed) return;
      const key = parsed.txid.toString('hex');
      this.#pending.get(key)?.(parsed.reply);
      this.#pending.delete(key);
    });
  }

  static async open(host: string, port: number, username: string, password: string): Promise<TurnClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    return new TurnClient(socket, { host, port }, username, password);
  }

  close(): void {
    this.#socket.close();
  }

  async #send(method: number, attrs: Buffer[], auth?: Auth, timeoutMs = 3000): Promise<TurnReply> {
    const txid = randomBytes(12);
    const message = request(method, txid, attrs, auth);
    return new Promise((resolve, reject) => {
      const key = txid.toString('hex');
      // UDP: retransmit like RFC 8489 §6.2.1 (fewer, shorter: the server is on loopback).
      const resend = setInterval(() => this.#socket.send(message, this.server.port, this.server.host), 500);
      const timer = setTimeout(() => {
        clearInterval(resend);
        this.#pending.delete(key);
        reject(new Error(`no TURN reply from ${this.server.host}:${this.server.port} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(key, (reply) => {
        clearInterval(resend);
        clearTimeout(timer);
        resolve(reply);
      });
      this.#socket.send(message, this.server.port, this.server.host);
    });
  }

  /** STUN Binding (no credentials): the server-reflexive address. */
  binding(timeoutMs?: number): Promise<TurnReply> {
    return this.#send(METHOD.binding, [], undefined, timeoutMs);
  }

  /**
   * Allocate (RFC 8656 §7.2) with long-term credentials: the first request learns realm and nonce
   * from the 401, the second carries MESSAGE-INTEGRITY. Returns the server's final answer.
   */
  async allocate(): Promise<TurnReply> {
    const transport = attribute(ATTR.requestedTransport, Buffer.from([17, 0, 0, 0])); // UDP
    const challenge = await this.#send(METHOD.allocate, [transport]);
    if (challenge.kind === 'success' || challenge.code !== 401 || !challenge.realm || !challenge.nonce) {
      return challenge; // no authentication asked: an open relay
    }
    const key = createHash('md5').update(`${this.username}:${challenge.realm}:${this.password}`).digest();
    this.#auth = { username: this.username, key, realm: challenge.realm, nonce: challenge.nonce };
    return this.#send(METHOD.allocate, [transport], this.#auth);
  }

  /** CreatePermission (RFC 8656 §9) for a peer address, after a successful allocate(). */
  createPermission(address: string, port = 9): Promise<TurnReply> {
    if (!this.#auth) throw new Error('allocate first');
    return this.#send(
      METHOD.createPermission,
      [attribute(ATTR.xorPeerAddress, xorAddress(address, port))],
      this.#auth,
    );
  }
}
