import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SystemClock, silentLogger } from '../../shared/ports/index.js';
import { createSandboxDrivers, probeSandboxes, type DriverName } from '../sandbox/index.js';
import { EgressProxy } from './egress-proxy.js';

// The allowlist half of the escape suite, against every isolating driver the probe finds. The
// test domains resolve (in the proxy's resolver only) to a local HTTP server; only
// allowed.test:<port> is an internal target the proxy may reach on loopback.
const stateDir = await mkdtemp(join(tmpdir(), 'aether-egress-'));
await chmod(stateDir, 0o711);
const drivers = createSandboxDrivers({ stateDir, logger: silentLogger });
const available = (await probeSandboxes(drivers)).filter((probe) => probe.available && probe.driver !== 'process').map((probe) => probe.driver);

let web: Server;
let port = 0;
beforeAll(async () => {
  web = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`HELLO ${req.headers.host ?? ''}\n`));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const address = web.address();
  port = typeof address === 'object' && address ? address.port : 0;
});
afterAll(async () => {
  web.closeAllConnections();
  await new Promise<void>((resolve) => web.close(() => { resolve(); }));
  await rm(stateDir, { recursive: true, force: true });
});

const PROBE = String.raw`
import http.client, os, socket, sys, urllib.request
port = int(sys.argv[1])
def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r: return str(r.status) + ' ' + r.read().decode().strip()
    except urllib.error.HTTPError as e: return str(e.code)
    except Exception as e: return 'ERR ' + type(e).__name__
print('allowed', get(f'http://allowed.test:{port}/'))
print('other', get(f'http://other.test:{port}/'))
print('ip', get(f'http://127.0.0.1:{port}/'))
print('private', get(f'http://private.test:{port}/'))
try:
    c = http.client.HTTPConnection('127.0.0.1', 3128, timeout=5); c.set_tunnel('allowed.test', port); c.request('GET', '/'); print('connect', c.getresponse().status)
except Exception as e: print('connect ERR', type(e).__name__)
try:
    c = http.client.HTTPConnection('127.0.0.1', 3128, timeout=5); c.set_tunnel('other.test', port); c.request('GET', '/'); print('connect-other', c.getresponse().status)
except Exception as e: print('connect-other', str(e)[:40])
for target in [('127.0.0.1', port), ('10.0.0.1', 80), ('169.254.169.254', 80)]:
    try: socket.create_connection(target, timeout=3); print('direct', target[0], 'CONNECTED')
    except Exception as e: print('direct', target[0], 'blocked')
try: socket.getaddrinfo('example.com', 80); print('dns RESOLVED')
except Exception: print('dns none')
`;

describe.each(available)('%s sandbox behind the egress proxy', (driverName: DriverName) => {
  it('reaches an allowlisted domain (200) and nothing else: other domain 403, direct IP and private ranges refused, no DNS', async () => {
    const resolver = (host: string) => Promise.resolve(host === 'private.test' ? ['10.0.0.5'] : ['127.0.0.1']);
    const proxy = new EgressProxy({ logger: silentLogger, clock: new SystemClock(), resolver, perTenantPerMinute: 1000, perVmPerMinute: 1000, internalTargets: [`allowed.test:${String(port)}`] });
    const vmId = `vm_egress${driverName}${String(process.pid)}`;
    const sandbox = await drivers[driverName].create({ name: vmId, vcpus: 1, memoryMb: 256, pidsMax: 64, tmpfsMb: 16, requiredIsolation: drivers[driverName].isolation, network: proxy.networkFor({ tenantId: 'tnt_a', vmId, allowlist: ['allowed.test', 'private.test'] }) });
    try {
      await sandbox.writeFile('probe.py', PROBE);
      const result = await sandbox.exec({ argv: ['python3', 'probe.py', String(port)], timeoutMs: 45_000, outputCapBytes: 64 * 1024 });
      const out = result.stdout.toString();
      expect(out).toContain(`allowed 200 HELLO allowed.test:${String(port)}`);
      expect(out).toContain('other 403');
      expect(out).toContain('ip 403');
      expect(out).toContain('private 403');
      expect(out).toContain('connect 200');
      expect(out).toMatch(/connect-other .*403/);
      expect(out).toContain('direct 127.0.0.1 blocked');
      expect(out).toContain('direct 10.0.0.1 blocked');
      expect(out).toContain('direct 169.254.169.254 blocked');
      expect(out).toContain('dns none');
    } finally {
      await sandbox.destroy();
      await drivers[driverName].settle();
    }
    // the namespace is gone with the sandbox
    expect(existsSync('/run/netns') ? readdirSync('/run/netns').filter((name) => name.includes(String(process.pid))) : []).toEqual([]);
  }, 120_000);
});
