/**
 * Channel routes: which target a DataChannel's label leads to. Only configured targets can be
 * reached; a browser names a label, never a host or port. Exact labels win over prefixes, and the
 * longest matching prefix wins among prefixes. docs/bridges.md describes the configuration.
 */
import { readFileSync } from 'node:fs';
import { maskUrl } from 'rtcgate-server';
import { GatewayError, messageOf } from './errors.js';

/** How a TCP target carries messages: as a byte stream, or each one behind a 4-byte length. */
export const TCP_FRAMINGS = ['raw', 'length-prefixed'] as const;
export type TcpFraming = (typeof TCP_FRAMINGS)[number];

export type RouteTarget =
  | { kind: 'echo' }
  | { kind: 'ws'; url: string }
  | { kind: 'tcp'; host: string; port: number; framing: TcpFraming }
  | { kind: 'handler'; name: string };

export interface Route {
  /** Exactly one of label and prefix. */
  label?: string;
  prefix?: string;
  target: RouteTarget;
}

/** A route as written in a routes file or on the command line. */
export interface RouteSpec {
  label?: string;
  prefix?: string;
  /** "echo", "ws://…", "wss://…", "tcp://host:port" or "handler:<name>". */
  target: string;
  /** TCP targets only; default "raw". */
  framing?: string;
}

function bad(message: string): GatewayError {
  return new GatewayError('BAD_ROUTE', message);
}

export function parseTarget(target: string, framing?: string): RouteTarget {
  const shown = maskUrl(target); // errors are logged and printed: no password from the URL
  if (framing !== undefined && !target.startsWith('tcp://')) {
    throw bad(`"framing" applies to tcp:// targets only, not ${shown}`);
  }
  if (target === 'echo') return { kind: 'echo' };
  if (target.startsWith('handler:')) {
    const name = target.slice('handler:'.length);
    if (!name) throw bad('handler: needs a name, e.g. handler:chat');
    return { kind: 'handler', name };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw bad(`target ${JSON.stringify(shown)} is not echo, handler:<name>, ws://, wss:// or tcp://`);
  }
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return { kind: 'ws', url: url.href };
  if (url.protocol === 'tcp:') {
    const port = Number(url.port);
    if (!url.hostname || !url.port || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw bad(`tcp target ${shown} needs a host and a port from 1 to 65535`);
    }
    if (url.pathname !== '' && url.pathname !== '/') throw bad(`tcp target ${shown} has a path`);
    const f = framing ?? 'raw';
    if (!(TCP_FRAMINGS as readonly string[]).includes(f)) {
      throw bad(`framing ${JSON.stringify(f)} is not one of ${TCP_FRAMINGS.join(', ')}`);
    }
    // URL keeps IPv6 literals in brackets; net.connect wants them bare.
    return { kind: 'tcp', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, framing: f as TcpFraming };
  }
  throw bad(`target ${shown}: unsupported scheme ${url.protocol}`);
}

export function parseRoute(spec: unknown, where = 'route'): Route {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw bad(`${where}: not an object`);
  const s = spec as Record<string, unknown>;
  const unknownKeys = Object.keys(s).filter((k) => !['label', 'prefix', 'target', 'framing'].includes(k));
  if (unknownKeys.length > 0) throw bad(`${where}: unknown field ${unknownKeys.join(', ')}`);
  const hasLabel = s.label !== undefined;
  const hasPrefix = s.prefix !== undefined;
  if (hasLabel === hasPrefix) throw bad(`${where}: give exactly one of "label" and "prefix"`);
  const key = hasLabel ? s.label : s.prefix;
  if (typeof key !== 'string' || key === '') throw bad(`${where}: label or prefix must be non-empty text`);
  if (typeof s.target !== 'string') throw bad(`${where}: "target" must be text`);
  if (s.framing !== undefined && typeof s.framing !== 'string') throw bad(`${where}: "framing" must be text`);
  try {
    const target = parseTarget(s.target, s.framing);
    return hasLabel ? { label: key, target } : { prefix: key, target };
  } catch (err) {
    throw bad(`${where}: ${messageOf(err)}`);
  }
}

/**
 * One route from the command line: `LABEL=TARGET`, or `PREFIX*=TARGET` for a prefix, with an
 * optional `,framing=length-prefixed` after a tcp target.
 */
export function parseRouteFlag(text: string): Route {
  const eq = text.indexOf('=');
  if (eq <= 0) throw bad(`--route ${JSON.stringify(maskUrl(text))}: expected LABEL=TARGET or PREFIX*=TARGET`);
  const name = text.slice(0, eq);
  let target = text.slice(eq + 1);
  let framing: string | undefined;
  const comma = target.indexOf(',framing=');
  if (comma >= 0) {
    framing = target.slice(comma + ',framing='.length);
    target = target.slice(0, comma);
  }
  const spec: RouteSpec = name.endsWith('*')
    ? { prefix: name.slice(0, -1), target }
    : { label: name, target };
  if (framing !== undefined) spec.framing = framing;
  return parseRoute(spec, `--route ${name}=${maskUrl(target)}`);
}

/** A routes file: `{"routes": [RouteSpec, …]}` (JSON). */
export function loadRoutesFile(path: string): Route[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw bad(`routes file ${path}: ${messageOf(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad(`routes file ${path}: not JSON (${messageOf(err)})`);
  }
  const routes = (value as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) throw bad(`routes file ${path}: expected {"routes": [...]}`);
  return routes.map((r, i) => parseRoute(r, `routes file ${path}, route ${i + 1}`));
}

/** The route for a label: the exact one, else the longest matching prefix, else undefined. */
export function matchRoute(routes: readonly Route[], label: string): Route | undefined {
  let best: Route | undefined;
  for (const route of routes) {
    if (route.label === label) return route;
    if (route.prefix !== undefined && label.startsWith(route.prefix)) {
      if (!best || route.prefix.length > (best.prefix ?? '').length) best = route;
    }
  }
  return best;
}

/** `label → target` or `prefix* → target`, as logs and the demo's banner show a route. */
export function describeRoute(route: Route): string {
  return `${route.label ?? `${route.prefix}*`} → ${describeTarget(route.target)}`;
}

export function describeTarget(target: RouteTarget): string {
  switch (target.kind) {
    case 'echo':
      return 'echo';
    case 'ws':
      return maskUrl(target.url); // for logs and banners: a password in the URL is not shown
    case 'tcp':
      return `tcp://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port} (${target.framing})`;
    case 'handler':
      return `handler:${target.name}`;
  }
}
