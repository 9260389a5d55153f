// Finds the browsers to test: a system browser first (Debian's chromium and firefox-esr, or the
// paths in CHROMIUM_PATH / FIREFOX_PATH), Playwright's own download second. Plain JavaScript so
// that scripts/test.mjs can use it before anything is compiled.
import { existsSync } from 'node:fs';

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const FIREFOX_CANDIDATES = ['/usr/bin/firefox-esr', '/usr/bin/firefox'];

/** Flags this machine needs (ENVIRONMENT.md): no sandbox as root, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** @param {string | undefined} explicit @param {string[]} candidates @returns {string | undefined} */
function firstExisting(explicit, candidates) {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`browser path ${explicit} does not exist`);
    return explicit;
  }
  return candidates.find((p) => existsSync(p));
}

/**
 * Switches Chromium's SCTP "SNAP" on (the a=sctp-init SDP attribute, draft-hancke-tsvwg-snap),
 * which Chrome is rolling out. Chromium 156 also takes --enable-blink-features=WebRtcSctpSnap or
 * --force-fieldtrials=WebRTC-Sctp-Snap/Enabled/; without any of them, offers carry no a=sctp-init.
 */
export const SNAP_ARGS = ['--enable-features=WebRtcSctpSnap'];

/**
 * @param {string[]} [extraArgs]
 * @returns {{ executablePath?: string, args: string[] }}
 */
export function chromiumLaunch(extraArgs = []) {
  const executablePath = firstExisting(process.env.CHROMIUM_PATH, CHROMIUM_CANDIDATES);
  // For debugging, e.g. CHROMIUM_EXTRA_ARGS='--enable-logging=stderr --v=1 --vmodule=*/webrtc/*=2'
  // with DEBUG=pw:browser (docs/interop.md).
  const fromEnv = (process.env.CHROMIUM_EXTRA_ARGS ?? '').split(/\s+/).filter(Boolean);
  return {
    ...(executablePath ? { executablePath } : {}),
    args: [...CHROMIUM_ARGS, ...extraArgs, ...fromEnv],
  };
}

/**
 * Stock Firefox speaks WebDriver BiDi, hence channel "moz-firefox"; Playwright's own Firefox build
 * needs no channel. Browser settings stay at their defaults (mDNS host candidates included).
 * @returns {{ executablePath?: string, channel?: string }}
 */
export function firefoxLaunch() {
  const executablePath = firstExisting(process.env.FIREFOX_PATH, FIREFOX_CANDIDATES);
  return executablePath ? { channel: 'moz-firefox', executablePath } : {};
}
