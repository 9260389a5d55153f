/**
 * Reads what a person wants to see of a connection from getStats() (W3C webrtc-stats): the
 * selected candidate pair, DTLS state and cipher, round-trip time. The "transport" stats object
 * (Chromium; Firefox ESR 153 too) names the selected pair; browsers without it are read through the
 * pair's "selected" flag and RTCDtlsTransport.state.
 */
export interface CandidateSummary {
  type: string;
  address: string;
  port: number;
  protocol: string;
  /** For a relay candidate, how it reaches the TURN server ("udp", "tcp", "tls"); else null. */
  relayProtocol: string | null;
}

export interface ConnectionStats {
  connectionState: RTCPeerConnectionState;
  iceConnectionState: RTCIceConnectionState;
  iceGatheringState: RTCIceGatheringState;
  signalingState: RTCSignalingState;
  dtlsState: string | null;
  dtlsCipher: string | null;
  dtlsRole: string | null;
  tlsVersion: string | null;
  sctpState: string | null;
  maxMessageSize: number | null;
  selectedPair: { local: CandidateSummary; remote: CandidateSummary } | null;
  /** Current ICE round-trip time of the selected pair (STUN consent checks), when reported. */
  iceRttMs: number | null;
  bytesSent: number | null;
  bytesReceived: number | null;
}

type Stat = Record<string, unknown> & { id: string; type: string };

const text = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);

function candidateOf(stat: Stat | undefined): CandidateSummary | null {
  if (!stat) return null;
  return {
    type: text(stat.candidateType, 'unknown'),
    // "address" in current browsers, "ip" in older ones.
    address: text(stat.address) || text(stat.ip),
    port: typeof stat.port === 'number' ? stat.port : 0,
    protocol: text(stat.protocol),
    relayProtocol: text(stat.relayProtocol) || null,
  };
}

export async function readStats(pc: RTCPeerConnection): Promise<ConnectionStats> {
  const report = await pc.getStats();
  const all = new Map<string, Stat>();
  report.forEach((s: Stat) => all.set(s.id, s));
  const values = [...all.values()];
  const transport = values.find((s) => s.type === 'transport');
  let pair: Stat | undefined;
  if (transport && typeof transport.selectedCandidatePairId === 'string') {
    pair = all.get(transport.selectedCandidatePairId);
  }
  pair ??= values.find((s) => s.type === 'candidate-pair' && s.selected === true);
  pair ??= values.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
  const local = pair ? candidateOf(all.get(String(pair.localCandidateId))) : null;
  const remote = pair ? candidateOf(all.get(String(pair.remoteCandidateId))) : null;
  const dtlsTransport = pc.sctp?.transport;
  const rtt = pair?.currentRoundTripTime;
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    iceGatheringState: pc.iceGatheringState,
    signalingState: pc.signalingState,
    dtlsState: (transport?.dtlsState as string | undefined) ?? dtlsTransport?.state ?? null,
    dtlsCipher: (transport?.dtlsCipher as string | undefined) ?? null,
    dtlsRole: (transport?.dtlsRole as string | undefined) ?? null,
    tlsVersion: (transport?.tlsVersion as string | undefined) ?? null,
    sctpState: pc.sctp?.state ?? null,
    maxMessageSize: pc.sctp?.maxMessageSize ?? null,
    selectedPair: local && remote ? { local, remote } : null,
    iceRttMs: typeof rtt === 'number' ? rtt * 1000 : null,
    bytesSent: typeof pair?.bytesSent === 'number' ? pair.bytesSent : null,
    bytesReceived: typeof pair?.bytesReceived === 'number' ? pair.bytesReceived : null,
  };
}
