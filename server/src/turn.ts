/**
 * Short-lived TURN credentials in the TURN REST scheme (draft-uberti-behave-turn-rest-00) that
 * coturn checks with `use-auth-secret` + `static-auth-secret`: the username is
 * "<expiry unix seconds>:<name>", the credential base64(HMAC-SHA1(secret, username)). coturn
 * refuses the username once its expiry has passed, and any credential not made with its secret.
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from './protocol/index.js';

export interface TurnConfig {
  /** turn: / turns: URLs of the coturn server(s), e.g. "turn:turn.example.com:3478?transport=udp". */
  urls: string[];
  /** The coturn `static-auth-secret`. */
  secret: string;
  /** How long a credential stays valid, in seconds. */
  ttlSeconds: number;
}

export const DEFAULT_TURN_TTL_SECONDS = 3600;

export interface TurnCredential {
  username: string;
  credential: string;
  /** Unix time in seconds after which coturn refuses it. */
  expiresAt: number;
}

/** The credential for `name` valid until `nowMs + ttlSeconds` (whole seconds, rounded down). */
export function turnCredential(
  secret: string,
  ttlSeconds: number,
  name: string,
  nowMs: number = Date.now(),
): TurnCredential {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  // coturn takes the expiry from before the first ":" (its rest-api-separator): keep the name free of it.
  const username = `${expiresAt}:${name.replaceAll(':', '_')}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/** The ICE server entry for `name`, or none when TURN is not configured. */
export function turnIceServers(turn: TurnConfig | undefined, name: string, nowMs?: number): IceServer[] {
  if (!turn) return [];
  const { username, credential } = turnCredential(turn.secret, turn.ttlSeconds, name, nowMs);
  return [{ urls: turn.urls, username, credential }];
}
