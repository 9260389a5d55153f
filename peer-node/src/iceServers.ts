/**
 * RTCIceServer (W3C webrtc-pc §4.2.4) → node-datachannel's ICE server list. URLs follow RFC 7064
 * (stun:) and RFC 7065 (turn:, turns:, ?transport=). Only stun: and turn: over UDP reach libjuice;
 * others are dropped with a reason the caller can log.
 */
import type { IceServer as NodeIceServer } from 'node-datachannel';
import type { IceServer } from 'rtcgate-server';

export interface IceServerConversion {
  servers: (string | NodeIceServer)[];
  skipped: { url: string; reason: string }[];
}

export function convertIceServers(list: IceServer[]): IceServerConversion {
  const servers: (string | NodeIceServer)[] = [];
  const skipped: { url: string; reason: string }[] = [];
  for (const server of list) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/i.exec(url);
      if (!m) {
        skipped.push({ url, reason: 'not a stun:/turn: URL' });
        continue;
      }
      const scheme = (m[1] ?? '').toLowerCase();
      const hostname = (m[2] ?? '').replace(/^\[|\]$/g, '');
      const transport = (m[4] ?? 'udp').toLowerCase();
      if (scheme === 'stuns' || scheme === 'turns' || transport === 'tcp') {
        skipped.push({ url, reason: 'node-datachannel reaches STUN/TURN over UDP only' });
        continue;
      }
      const port = m[3] ? Number(m[3]) : 3478;
      if (scheme === 'stun') {
        servers.push(`stun:${hostname}:${port}`);
      } else {
        servers.push({
          hostname,
          port,
          username: server.username ?? '',
          password: server.credential ?? '',
          relayType: 'TurnUdp',
        });
      }
    }
  }
  return { servers, skipped };
}

export function toNodeIceServers(list: IceServer[]): (string | NodeIceServer)[] {
  return convertIceServers(list).servers;
}
