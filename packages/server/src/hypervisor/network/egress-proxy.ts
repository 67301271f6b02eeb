import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import type { Clock, Logger } from '../../shared/ports/index.js';
import type { SandboxNetwork } from '../sandbox/index.js';
import { hostAllowed, isForbiddenAddress } from './address-policy.js';
import { createNetworkNamespace, listenInNamespace } from './netns.js';

/** Resolves a host name to addresses; injected so tests map test domains without real DNS. */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, order: 'verbatim' })).map((entry) => entry.address);

export interface EgressPolicy {
  readonly tenantId: string;
  readonly vmId: string;
  /** Host names this VM may reach (`*.example.com` for subdomains), or `any` (AgentVM). */
  readonly allowlist: readonly string[] | 'any';
}

export interface EgressProxyDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly resolver?: Resolver;
  /** Requests (connections) per minute. */
  readonly perTenantPerMinute: number;
  readonly perVmPerMinute: number;
  /**
   * `host:port` destinations that may resolve to private addresses (the platform's own tool
   * gateway for VM-to-kernel calls); everything else private is refused.
   */
  readonly internalTargets?: readonly string[];
}

export type EgressDecision = { readonly allowed: true; readonly address: string } | { readonly allowed: false; readonly status: 403 | 429 | 502; readonly reason: string };

class MinuteWindow {
  readonly #counts = new Map<string, { windowStart: number; count: number }>();
  hit(key: string, now: number, limit: number): boolean {
    const entry = this.#counts.get(key);
    if (!entry || now - entry.windowStart >= 60_000) {
      this.#counts.set(key, { windowStart: now, count: 1 });
      return true;
    }
    entry.count += 1;
    return entry.count <= limit;
  }
}

/**
 * The only thing a networked sandbox can reach: an HTTP proxy (CONNECT and absolute-URI HTTP) in
 * our own process, listening inside each VM's network namespace. It checks the VM's domain
 * allowlist, resolves the name itself, refuses private/loopback/link-local/metadata addresses and
 * then connects to the address it checked (so a rebinding answer cannot slip in), and rate-limits
 * per tenant and per VM.
 */
export class EgressProxy {
  readonly #deps: EgressProxyDeps;
  readonly #resolver: Resolver;
  readonly #log: Logger;
  readonly #tenantWindow = new MinuteWindow();
  readonly #vmWindow = new MinuteWindow();

  constructor(deps: EgressProxyDeps) {
    this.#deps = deps;
    this.#resolver = deps.resolver ?? systemResolver;
    this.#log = deps.logger.child({ module: 'hypervisor.egress' });
  }

  /** Decides one destination for one VM. */
  async decide(policy: EgressPolicy, host: string, port: number): Promise<EgressDecision> {
    const now = this.#deps.clock.nowMs();
    if (!this.#tenantWindow.hit(policy.tenantId, now, this.#deps.perTenantPerMinute)) return { allowed: false, status: 429, reason: 'tenant rate limit' };
    if (!this.#vmWindow.hit(policy.vmId, now, this.#deps.perVmPerMinute)) return { allowed: false, status: 429, reason: 'vm rate limit' };
    if (isIP(host) !== 0) return { allowed: false, status: 403, reason: 'direct IP addresses are not allowed' };
    if (!hostAllowed(host, policy.allowlist)) return { allowed: false, status: 403, reason: `${host} is not on the allowlist` };
    let addresses: string[];
    try {
      addresses = await this.#resolver(host);
    } catch {
      return { allowed: false, status: 502, reason: `${host} does not resolve` };
    }
    const internal = this.#deps.internalTargets?.includes(`${host}:${String(port)}`) ?? false;
    const address = addresses[0];
    if (address === undefined) return { allowed: false, status: 502, reason: `${host} does not resolve` };
    // Every answer must be public, not just the first: otherwise a mixed answer picks the victim.
    if (!internal && addresses.some(isForbiddenAddress)) return { allowed: false, status: 403, reason: `${host} resolves to a private or reserved address` };
    return { allowed: true, address };
  }

  /** The network a VM gets: its own namespace, with this proxy at 127.0.0.1:3128 inside. */
  networkFor(policy: EgressPolicy): SandboxNetwork {
    return {
      mode: 'proxy',
      attach: async () => {
        const namespace = await createNetworkNamespace(`aeth-${policy.vmId.slice(-20)}`);
        let listener: NetServer;
        try {
          listener = await listenInNamespace(namespace, 3128);
        } catch (error) {
          await namespace.remove();
          throw error;
        }
        const server = this.#httpServer(policy);
        listener.on('connection', (socket: Socket) => server.emit('connection', socket));
        return {
          namespacePath: namespace.path,
          proxyUrl: 'http://127.0.0.1:3128',
          close: async () => {
            await new Promise<void>((resolve) => listener.close(() => { resolve(); }));
            server.close();
            server.closeAllConnections();
            await namespace.remove();
          },
        };
      },
    };
  }

  /** An HTTP server (not listening) applying `policy`; exposed for tests on a plain port. */
  createServer(policy: EgressPolicy): Server {
    return this.#httpServer(policy);
  }

  #httpServer(policy: EgressPolicy): Server {
    const server = createServer((req, res) => void this.#forward(policy, req, res));
    server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => void this.#tunnel(policy, { req, client, head }));
    server.on('clientError', (_error, socket) => socket.destroy());
    return server;
  }

  async #tunnel(policy: EgressPolicy, connection: { readonly req: IncomingMessage; readonly client: Duplex; readonly head: Buffer }): Promise<void> {
    const { req, client, head } = connection;
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    const host = match?.[1] ?? '';
    const port = Number(match?.[2] ?? 0);
    const decision = await this.#decideLogged(policy, host, port);
    if (!decision.allowed) {
      client.end(`HTTP/1.1 ${String(decision.status)} ${decision.reason}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const upstream = connect(port, decision.address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  }

  async #forward(policy: EgressPolicy, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URL required');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400).end('only http:// is proxied directly; use CONNECT for https');
      return;
    }
    const port = Number(url.port || 80);
    const decision = await this.#decideLogged(policy, url.hostname, port);
    if (!decision.allowed) {
      res.writeHead(decision.status, { 'content-type': 'text/plain' }).end(`${decision.reason}\n`);
      return;
    }
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: url.host };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ host: decision.address, port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('upstream failed\n');
      else res.destroy();
    });
    req.pipe(upstream);
  }

  async #decideLogged(policy: EgressPolicy, host: string, port: number): Promise<EgressDecision> {
    const decision = await this.decide(policy, host, port);
    if (!decision.allowed) this.#log.info('egress.denied', { vmId: policy.vmId, tenantId: policy.tenantId, host, port, reason: decision.reason });
    return decision;
  }
}
