/**
 * A network lab on one machine (root only): network namespaces for hosts and NAT routers, veth
 * pairs, a bridge for "the internet", and iptables NAT and filters inside the routers. Everything
 * lives inside namespaces whose names start with the lab's prefix, so deleting them removes every
 * veth and every rule; `down()` does that, and `sweep()` removes what a crashed run left behind.
 *
 * Addresses are documentation ranges only: the internet is 203.0.113.0/24, the inside of NAT n is
 * 100.64.n.0/24 (shared address space, as behind a carrier-grade NAT).
 *
 *   [browser host] ─ 100.64.1.0/24 ─ [NAT b] ─┐                       ┌─ [NAT g] ─ 100.64.2.0/24 ─ [gateway host]
 *                                             ├── internet bridge ────┤
 *   (or the browser host on the bridge itself) │  server 203.0.113.10  │ (or the gateway host on the bridge)
 *                                             │  coturn 203.0.113.3   │
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * "cone": Linux MASQUERADE, which keeps the source port (endpoint-independent mapping) and lets in
 * only replies to what went out (address-and-port-dependent filtering): hole punching works.
 * "symmetric": MASQUERADE --random-fully, a new random port for every destination: it does not.
 */
export type NatKind = 'cone' | 'symmetric';

export interface SiteSpec {
  /** Behind a NAT of this kind; on the internet bridge itself when absent. */
  nat?: NatKind;
  /** The site's router drops all UDP to and from the internet (TCP and TLS only). */
  blockUdp?: boolean;
}

export interface LabSpec {
  browser: SiteSpec;
  gateway: SiteSpec;
}

export interface Site {
  /** Namespace the host's programs run in. */
  ns: string;
  /** The host's own address. */
  address: string;
  /** Its router's namespace, when behind a NAT. */
  router?: string;
  /** The router's internet-side interface, for impairments. */
  routerWan?: string;
}

export const INTERNET = {
  server: '203.0.113.10',
  coturn: '203.0.113.3',
  prefixLength: 24,
} as const;

export class Lab {
  readonly internet: string;
  readonly browser: Site;
  readonly gateway: Site;
  #namespaces: string[] = [];

  private constructor(
    readonly prefix: string,
    readonly spec: LabSpec,
  ) {
    this.internet = `${prefix}-net`;
    this.browser = site(prefix, 'b', 1, spec.browser);
    this.gateway = site(prefix, 'g', 2, spec.gateway);
  }

  /** Builds the lab; on any failure removes what was built and throws. */
  static async up(prefix: string, spec: LabSpec): Promise<Lab> {
    if (!/^[a-z0-9]{1,8}$/.test(prefix)) throw new Error(`lab prefix must be 1-8 of [a-z0-9]: ${prefix}`);
    if (process.getuid?.() !== 0) {
      throw new Error('the network lab needs root (ip netns, iptables); CI runs as root');
    }
    sweep(prefix);
    const lab = new Lab(prefix, spec);
    try {
      await lab.#build();
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** `ip netns exec <ns>`, to put in front of a command. */
  static exec(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  async #addNs(name: string): Promise<void> {
    await ip('netns', 'add', name);
    this.#namespaces.push(name);
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  async #build(): Promise<void> {
    const net = this.internet;
    await this.#addNs(net);
    await ip('-n', net, 'link', 'add', 'name', 'inet', 'type', 'bridge');
    await ip('-n', net, 'link', 'set', 'inet', 'up');
    for (const a of [INTERNET.server, INTERNET.coturn]) {
      await ip('-n', net, 'addr', 'add', `${a}/${INTERNET.prefixLength}`, 'dev', 'inet');
    }
    await this.#buildSite(this.browser, this.spec.browser, 'b', 101, 20);
    await this.#buildSite(this.gateway, this.spec.gateway, 'g', 102, 30);
  }

  /** A host, on the bridge (public `hostOctet`) or behind a NAT router (public `routerOctet`). */
  async #buildSite(
    s: Site,
    spec: SiteSpec,
    tag: string,
    routerOctet: number,
    hostOctet: number,
  ): Promise<void> {
    const net = this.internet;
    await this.#addNs(s.ns);
    const wanNs = s.router ?? s.ns;
    if (s.router) await this.#addNs(s.router);
    // The internet-side link: router (or host) ⇄ bridge.
    const wan = `${this.prefix}${tag}w`;
    await ip('link', 'add', 'wan', 'netns', wanNs, 'type', 'veth', 'peer', 'name', wan, 'netns', net);
    await ip('-n', net, 'link', 'set', wan, 'master', 'inet');
    await ip('-n', net, 'link', 'set', wan, 'up');
    await ip('-n', wanNs, 'link', 'set', 'wan', 'up');
    const publicAddress = `203.0.113.${s.router ? routerOctet : hostOctet}`;
    await ip('-n', wanNs, 'addr', 'add', `${publicAddress}/${INTERNET.prefixLength}`, 'dev', 'wan');
    if (!s.router) {
      if (spec.blockUdp) await this.#blockUdp(s.ns, 'OUTPUT', 'INPUT', 'wan');
      return;
    }
    // Inside link: host ⇄ router, and the NAT.
    const inside = s.address.replace(/\.2$/, '');
    await ip('link', 'add', 'lan', 'netns', s.router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.ns);
    await ip('-n', s.router, 'addr', 'add', `${inside}.1/24`, 'dev', 'lan');
    await ip('-n', s.router, 'link', 'set', 'lan', 'up');
    await ip('-n', s.ns, 'addr', 'add', `${s.address}/24`, 'dev', 'eth0');
    await ip('-n', s.ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', s.ns, 'route', 'add', 'default', 'via', `${inside}.1`);
    const r = Lab.exec(s.router);
    await sh(...r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    const masquerade = ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE'];
    await sh(...r, 'iptables', ...masquerade, ...(spec.nat === 'symmetric' ? ['--random-fully'] : []));
    // A NAT lets in only replies to what went out (FORWARD). Nor does anything unsolicited reach
    // the router itself (INPUT): accepted there, it would take the conntrack tuple a later outgoing
    // packet maps to, and MASQUERADE would move that packet to another port, breaking
    // endpoint-independent mapping (and hole punching) by accident.
    for (const chain of ['FORWARD', 'INPUT']) {
      const established = ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];
      await sh(...r, 'iptables', '-A', chain, '-i', 'wan', ...established);
      await sh(...r, 'iptables', '-A', chain, '-i', 'wan', '-j', 'DROP');
    }
    if (spec.blockUdp) await this.#blockUdp(s.router, 'FORWARD', 'FORWARD', 'wan');
  }

  async #blockUdp(ns: string, outChain: string, inChain: string, wan: string): Promise<void> {
    const x = Lab.exec(ns);
    await sh(...x, 'iptables', '-I', outChain, '-o', wan, '-p', 'udp', '-j', 'DROP');
    await sh(...x, 'iptables', '-I', inChain, '-i', wan, '-p', 'udp', '-j', 'DROP');
  }

  /**
   * Drops `probability` (0..1) of the packets crossing the site's internet link, both ways
   * (iptables statistic; this kernel has no netem). 1 cuts the path. Returns a function that
   * removes the rule again.
   */
  async impair(which: 'browser' | 'gateway', probability: number): Promise<() => Promise<void>> {
    const s = which === 'browser' ? this.browser : this.gateway;
    const ns = s.router ?? s.ns;
    const chains = s.router ? ['FORWARD'] : ['INPUT', 'OUTPUT'];
    const match =
      probability >= 1 ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', String(probability)];
    const rules: string[][] = [];
    for (const chain of chains) {
      for (const dir of chain === 'OUTPUT' ? ['-o'] : chain === 'INPUT' ? ['-i'] : ['-i', '-o']) {
        rules.push([chain, dir, 'wan', '-p', 'udp', ...match, '-j', 'DROP']);
      }
    }
    for (const rule of rules) await sh(...Lab.exec(ns), 'iptables', '-I', ...rule);
    return async () => {
      for (const rule of rules) await sh(...Lab.exec(ns), 'iptables', '-D', ...rule);
    };
  }

  /** Kills what runs in the lab's namespaces and deletes them (veths and rules go with them). */
  down(): Promise<void> {
    sweep(this.prefix);
    this.#namespaces = [];
    return Promise.resolve();
  }
}

function site(prefix: string, tag: string, n: number, spec: SiteSpec): Site {
  if (!spec.nat) return { ns: `${prefix}-${tag}`, address: `203.0.113.${tag === 'b' ? 20 : 30}` };
  return {
    ns: `${prefix}-${tag}`,
    address: `100.64.${n}.2`,
    router: `${prefix}-${tag}nat`,
    routerWan: 'wan',
  };
}

async function ip(...args: string[]): Promise<void> {
  await sh('ip', ...args);
}

async function sh(...argv: string[]): Promise<string> {
  const [command = '', ...args] = argv;
  try {
    const { stdout } = await run(command, args);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`lab: ${command} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Namespaces of this prefix (ours only), their processes killed, then deleted. */
export function sweep(prefix: string): void {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
  for (const ns of list) {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of list) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // deleted meanwhile
    }
  }
}
