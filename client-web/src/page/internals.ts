/**
 * The internals sections of the page, drawn from one stats reading: DTLS and SRTP, the candidates
 * and pairs, the channels. Pure rendering: what to show comes in, DOM goes out. Every value a
 * browser does not report says so ("not reported by this browser") instead of staying blank.
 */
import type { CandidateStats, ConnectionStats, DataChannelStats } from '../lib/index.js';

export const NOT_REPORTED = 'not reported by this browser';

type Child = Node | string;

export function h(
  tag: string,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

/** A value a browser may leave out: the text, or NOT_REPORTED marked as missing. */
function reported(value: string | null | undefined): Child {
  return value === null || value === undefined ? h('span', { class: 'missing' }, NOT_REPORTED) : value;
}

function setCell(el: HTMLElement, value: Child): void {
  el.replaceChildren(value);
}

/** getStats reports the DTLS version as the record-layer code (RFC 6347 §4.1, RFC 9147). */
export function dtlsVersion(code: string): string {
  return code === 'FEFD' ? 'DTLS 1.2' : code === 'FEFC' ? 'DTLS 1.3' : code;
}

export interface SecurityCells {
  state: HTMLElement;
  role: HTMLElement;
  version: HTMLElement;
  cipher: HTMLElement;
  srtp: HTMLElement;
  iceRole: HTMLElement;
  localFingerprint: HTMLElement;
  remoteFingerprint: HTMLElement;
}

const DTLS_ROLE_WORDS: Record<string, string> = {
  client: 'client — this browser started the handshake',
  server: 'server — the gateway started the handshake',
};

/** The SDP's a=fingerprint (RFC 8122 §5): the same certificate, as the offer/answer carried it. */
function sdpFingerprint(sdp: string | undefined): string | null {
  const m = /^a=fingerprint:(\S+) (\S+)/m.exec(sdp ?? '');
  return m ? `${m[1]} ${m[2]}` : null;
}

function fingerprintCell(fromStats: string | null, sdp: string | undefined): Child {
  if (fromStats) return fromStats;
  const fromSdp = sdpFingerprint(sdp);
  return h(
    'span',
    { class: 'missing' },
    fromSdp ? `${NOT_REPORTED} (its SDP says ${fromSdp})` : NOT_REPORTED,
  );
}

export function renderSecurity(cells: SecurityCells, s: ConnectionStats, pc: RTCPeerConnection): void {
  setCell(cells.state, reported(s.dtlsState));
  setCell(cells.role, reported(s.dtlsRole ? (DTLS_ROLE_WORDS[s.dtlsRole] ?? s.dtlsRole) : null));
  setCell(cells.version, reported(s.tlsVersion ? dtlsVersion(s.tlsVersion) : null));
  setCell(cells.cipher, reported(s.dtlsCipher));
  // Browsers negotiate use_srtp in every DTLS handshake; with no media nothing is encrypted by it.
  setCell(
    cells.srtp,
    reported(s.srtpCipher ? `${s.srtpCipher} (negotiated; this connection carries no media)` : null),
  );
  setCell(cells.iceRole, reported(s.iceRole));
  setCell(cells.localFingerprint, fingerprintCell(s.localFingerprint, pc.localDescription?.sdp));
  setCell(cells.remoteFingerprint, fingerprintCell(s.remoteFingerprint, pc.remoteDescription?.sdp));
}

const CANDIDATE_TYPE_WORDS: Record<string, string> = {
  host: 'an address of the machine itself',
  srflx: 'its public address, as a STUN server saw it',
  prflx: 'learnt from the other side’s connectivity checks',
  relay: 'an address on a TURN relay',
};

export function addressText(c: { address: string; side?: string }): string {
  // Chromium leaves its own (mDNS-hidden) host address out of the stats; Firefox shows the name.
  if (c.address === '') return '(hidden by the browser)';
  if (c.address.endsWith('.local')) return `${c.address} (mDNS name)`;
  return c.address;
}

export function candidateText(c: CandidateStats): string {
  const relay = c.relayProtocol ? ` (TURN over ${c.relayProtocol})` : '';
  return `${c.type}${relay} ${addressText(c)}:${c.port}/${c.protocol}`;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

const fmtNumber = (n: number | null): Child =>
  n === null ? h('span', { class: 'missing' }, NOT_REPORTED) : n.toLocaleString('en');

export function renderCandidates(body: HTMLElement, s: ConnectionStats): void {
  const order = (c: CandidateStats) => (c.side === 'local' ? 0 : 1);
  const rows = [...s.candidates]
    .sort((a, b) => order(a) - order(b) || (b.priority ?? 0) - (a.priority ?? 0))
    .map((c) =>
      h(
        'tr',
        {
          'data-side': c.side,
          'data-type': c.type,
          'data-selected': String(c.selected),
          class: c.selected ? 'selected' : undefined,
        },
        h('td', {}, c.side === 'local' ? 'this browser' : 'the gateway'),
        h(
          'td',
          { 'data-col': 'type' },
          h('b', {}, c.type),
          h('small', {}, ` ${CANDIDATE_TYPE_WORDS[c.type] ?? ''}`),
        ),
        h(
          'td',
          {},
          `${c.protocol}${c.tcpType ? ` (${c.tcpType})` : ''}${c.relayProtocol ? `, TURN over ${c.relayProtocol}` : ''}`,
        ),
        h('td', { 'data-col': 'address' }, addressText(c)),
        h('td', { class: 'num' }, String(c.port)),
        h('td', { class: 'num' }, c.priority === null ? NOT_REPORTED : String(c.priority)),
        h('td', { 'data-col': 'selected' }, c.selected ? '✔ selected pair' : ''),
      ),
    );
  body.replaceChildren(
    ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '7' }, 'no candidates yet'))]),
  );
}

export function renderPairs(body: HTMLElement, s: ConnectionStats): void {
  const byId = new Map(s.candidates.map((c) => [c.id, c]));
  const side = (id: string) => {
    const c = byId.get(id);
    return c ? candidateText(c) : `(candidate ${id} not in the report)`;
  };
  const rows = [...s.candidatePairs]
    .sort((a, b) => Number(b.selected) - Number(a.selected) || Number(b.nominated) - Number(a.nominated))
    .map((p) =>
      h(
        'tr',
        {
          'data-selected': String(p.selected),
          'data-state': p.state,
          class: p.selected ? 'selected' : undefined,
        },
        h('td', {}, side(p.localCandidateId)),
        h('td', {}, side(p.remoteCandidateId)),
        h('td', {}, p.state),
        h('td', {}, yesNo(p.nominated)),
        h('td', { 'data-col': 'selected' }, p.selected ? '✔ in use' : ''),
        h('td', { class: 'num' }, fmtNumber(p.bytesSent)),
        h('td', { class: 'num' }, fmtNumber(p.bytesReceived)),
        h('td', { class: 'num' }, p.rttMs === null ? NOT_REPORTED : `${p.rttMs.toFixed(1)} ms`),
      ),
    );
  body.replaceChildren(
    ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '8' }, 'no candidate pairs yet'))]),
  );
}

/** One DataChannel as the page knows it: the object (its options) and, when reported, its counters. */
export interface ChannelRow {
  /** A channel the user did not ask for: the library's control channel, the page's RTT probe. */
  role?: 'control' | 'probe';
  channel: RTCDataChannel | null;
  stats: DataChannelStats | null;
}

function optionCell(channel: RTCDataChannel | null, read: (c: RTCDataChannel) => string): Child {
  return channel ? read(channel) : h('span', { class: 'missing' }, 'unknown (not a channel of this page)');
}

export function renderChannels(body: HTMLElement, rows: ChannelRow[]): void {
  const trs = rows.map(({ channel, stats, role }) => {
    const note =
      role === 'control'
        ? 'the library’s control channel'
        : role === 'probe'
          ? 'the page’s round-trip probe'
          : '';
    const label = channel?.label ?? stats?.label ?? '?';
    const state = channel?.readyState ?? stats?.state ?? 'unknown';
    const id = channel?.id ?? stats?.channelId ?? null;
    const count = (key: 'messagesSent' | 'bytesSent' | 'messagesReceived' | 'bytesReceived') =>
      h('td', { class: 'num', 'data-col': key }, fmtNumber(stats![key]));
    // A channel that closed between two readings may never be in a report: that is not the
    // browser leaving its counters out.
    const counters = stats
      ? [count('messagesSent'), count('bytesSent'), count('messagesReceived'), count('bytesReceived')]
      : [
          h(
            'td',
            { colspan: '4', class: 'missing', 'data-col': 'counters' },
            state === 'closed' ? 'closed before the page read its counters' : NOT_REPORTED,
          ),
        ];
    return h(
      'tr',
      { 'data-label': label, 'data-state': state, 'data-role': role },
      h('td', { 'data-col': 'label' }, h('b', {}, label), note ? h('small', { class: 'note' }, note) : ''),
      h('td', { class: 'num', 'data-col': 'id' }, id === null ? 'not yet' : String(id)),
      h(
        'td',
        { 'data-col': 'ordered' },
        optionCell(channel, (c) => yesNo(c.ordered)),
      ),
      h(
        'td',
        { 'data-col': 'maxRetransmits' },
        optionCell(channel, (c) => (c.maxRetransmits === null ? 'no limit' : String(c.maxRetransmits))),
      ),
      h(
        'td',
        { 'data-col': 'maxPacketLifeTime' },
        optionCell(channel, (c) => (c.maxPacketLifeTime === null ? 'no limit' : `${c.maxPacketLifeTime} ms`)),
      ),
      h(
        'td',
        { 'data-col': 'negotiated' },
        optionCell(channel, (c) => (c.negotiated ? `yes, id ${c.id}` : 'no')),
      ),
      h('td', { 'data-col': 'protocol' }, (channel?.protocol ?? stats?.protocol ?? '') || '(none)'),
      h(
        'td',
        { 'data-col': 'state', class: state === 'open' ? 'good' : state === 'closed' ? 'bad' : undefined },
        state,
      ),
      ...counters,
    );
  });
  body.replaceChildren(...(trs.length ? trs : [h('tr', {}, h('td', { colspan: '12' }, 'no channels yet'))]));
}
