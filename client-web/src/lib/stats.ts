/**
 * Reads what a person wants to see of a connection from getStats() (W3C webrtc-stats): the
 * selected candidate pair, DTLS state and cipher, round-trip time, every candidate and pair, the
 * data channels' counters. The "transport" stats object (Chromium; Firefox ESR 153 too) names the
 * selected pair; browsers without it are read through the pair's "selected" flag and
 * RTCDtlsTransport.state. A value a browser does not report is null, never a guess.
 */
export interface CandidateSummary {
  type: string;
  address: string;
  port: number;
  protocol: string;
  /** For a relay candidate, how it reaches the TURN server ("udp", "tcp", "tls"); else null. */
  relayProtocol: string | null;
}

/** One ICE candidate of the connection (RTCIceCandidateStats, webrtc-stats §7.13). */
export interface CandidateStats extends CandidateSummary {
  id: string;
  side: 'local' | 'remote';
  priority: number | null;
  /** For a TCP candidate: "active", "passive" or "so"; else null. */
  tcpType: string | null;
  /** For a local srflx or relay candidate: the STUN or TURN server it came from, when reported. */
  url: string | null;
  /** Whether it is one end of the selected pair. */
  selected: boolean;
}

/** One candidate pair (RTCIceCandidatePairStats, webrtc-stats §7.14). */
export interface CandidatePairStats {
  id: string;
  localCandidateId: string;
  remoteCandidateId: string;
  /** "frozen", "waiting", "in-progress", "failed", "succeeded" (or "cancelled" in Firefox). */
  state: string;
  nominated: boolean;
  /** The pair the transport uses: the one `selectedPair` describes. Exactly one once connected. */
  selected: boolean;
  bytesSent: number | null;
  bytesReceived: number | null;
  rttMs: number | null;
}

/** One data channel's counters (RTCDataChannelStats, webrtc-stats §7.9). */
export interface DataChannelStats {
  id: string;
  label: string;
  protocol: string;
  /** The SCTP stream id (`dataChannelIdentifier`), when reported. */
  channelId: number | null;
  state: string;
  messagesSent: number | null;
  bytesSent: number | null;
  messagesReceived: number | null;
  bytesReceived: number | null;
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
  /** The SRTP protection profile the DTLS handshake negotiated (RFC 5764), as the browser names it. */
  srtpCipher: string | null;
  /** This browser's ICE role: "controlling" or "controlled". */
  iceRole: string | null;
  /** Certificate fingerprints ("sha-256 AB:CD:…") of this end and the gateway, from certificate stats. */
  localFingerprint: string | null;
  remoteFingerprint: string | null;
  candidates: CandidateStats[];
  candidatePairs: CandidatePairStats[];
  dataChannels: DataChannelStats[];
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

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

function fingerprintOf(stat: Stat | undefined): string | null {
  if (!stat || typeof stat.fingerprint !== 'string') return null;
  return `${text(stat.fingerprintAlgorithm, '?')} ${stat.fingerprint}`;
}

export async function readStats(pc: RTCPeerConnection): Promise<ConnectionStats> {
  return summarizeStats(pc, await pc.getStats());
}

/** The same as readStats, from a report already read (a page that also shows the raw report). */
export function summarizeStats(pc: RTCPeerConnection, report: RTCStatsReport): ConnectionStats {
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
  const candidates: CandidateStats[] = values
    .filter((s) => s.type === 'local-candidate' || s.type === 'remote-candidate')
    .map((s) => ({
      ...candidateOf(s)!,
      id: s.id,
      side: s.type === 'local-candidate' ? 'local' : 'remote',
      priority: num(s.priority),
      tcpType: text(s.tcpType) || null,
      url: text(s.url) || null,
      selected: pair !== undefined && (s.id === pair.localCandidateId || s.id === pair.remoteCandidateId),
    }));
  const candidatePairs: CandidatePairStats[] = values
    .filter((s) => s.type === 'candidate-pair')
    .map((s) => ({
      id: s.id,
      localCandidateId: text(s.localCandidateId),
      remoteCandidateId: text(s.remoteCandidateId),
      state: text(s.state, 'unknown'),
      nominated: s.nominated === true,
      selected: s === pair,
      bytesSent: num(s.bytesSent),
      bytesReceived: num(s.bytesReceived),
      rttMs: typeof s.currentRoundTripTime === 'number' ? s.currentRoundTripTime * 1000 : null,
    }));
  const dataChannels: DataChannelStats[] = values
    .filter((s) => s.type === 'data-channel')
    .map((s) => ({
      id: s.id,
      label: text(s.label),
      protocol: text(s.protocol),
      channelId: num(s.dataChannelIdentifier),
      state: text(s.state, 'unknown'),
      messagesSent: num(s.messagesSent),
      bytesSent: num(s.bytesSent),
      messagesReceived: num(s.messagesReceived),
      bytesReceived: num(s.bytesReceived),
    }));
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
    srtpCipher: text(transport?.srtpCipher) || null,
    iceRole: text(transport?.iceRole) || null,
    localFingerprint: fingerprintOf(all.get(text(transport?.localCertificateId))),
    remoteFingerprint: fingerprintOf(all.get(text(transport?.remoteCertificateId))),
    candidates,
    candidatePairs,
    dataChannels,
  };
}
