import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon from 'autocannon';
import Fastify from 'fastify';

import { ALL_MIGRATIONS, createApp, initializePlatform, loadConfig } from '../packages/server/src/app/index.js';
import { openTestDatabase } from '../packages/server/src/infra/database/testing/index.js';
import { percentile, type BenchSuite } from './harness.js';

const CONNECTIONS = 500;
const DURATION_SECONDS = 5;
// Rounds alternate bare and full, and each figure is the median of its rounds: on a shared
// 2-core machine one run of either can land on a busy few seconds and swing the ratio by half.
const ROUNDS = 5;

// CPU time of this thread only (the server's event loop), not of the load generator's worker.
function mainThreadCpuMicros(): number {
  const usage = process.threadCpuUsage();
  return usage.user + usage.system;
}

interface LoadResult {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly errors: number;
  readonly cpuMicrosPerRequest: number;
}

async function load(url: string, headers: Record<string, string>): Promise<LoadResult> {
  // The load generator runs in a worker thread, so it does not share the server's event loop.
  // A short warm-up lets JIT and caches settle before the measured run.
  await autocannon({ url, connections: 50, duration: 1, headers, workers: 1 });
  const cpuBefore = mainThreadCpuMicros();
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_SECONDS, headers, workers: 1 });
  const cpuMicrosPerRequest = (mainThreadCpuMicros() - cpuBefore) / Math.max(1, result.requests.total);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, errors: result.errors + result.non2xx, cpuMicrosPerRequest };
}

function medians(rounds: readonly LoadResult[]): LoadResult {
  const median = (pick: (round: LoadResult) => number): number => percentile(rounds.map(pick), 50);
  return {
    p50: median((round) => round.p50),
    p99: median((round) => round.p99),
    rps: median((round) => round.rps),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    cpuMicrosPerRequest: median((round) => round.cpuMicrosPerRequest),
  };
}

/**
 * Authenticated `GET /v1/tenants/{id}` through the whole stack (auth, tenant scope, permission,
 * rate limit, the tenant read, error envelope, metrics) beside a bare Fastify handler that
 * returns the same JSON, both at 500 concurrent connections in this process, in alternating rounds (medians reported).
 */
export const suite: BenchSuite = {
  name: 'api',
  async run(record) {
    const home = await mkdtemp(join(tmpdir(), 'aether-bench-'));
    // No warm sandbox pool: the route does not use one, and filling it would load the machine under test.
    const config = loadConfig({ AETHER_HOME: home, AETHER_PORT: '0', AETHER_MASTER_KEY: randomBytes(32).toString('hex'), AETHER_LOG_LEVEL: 'silent', AETHER_RATE_LIMIT_PER_MINUTE: '10000000', AETHER_HYPERVISOR_POOL: '' });
    const db = await openTestDatabase('pglite', ALL_MIGRATIONS);
    const app = await createApp(config, { db });
    const init = await initializePlatform(app);
    const url = await app.listen();
    const tenantUrl = `${url}/v1/tenants/${init.tenant_id}`;
    const headers = { authorization: `Bearer ${init.api_key ?? ''}` };
    const body = await (await fetch(tenantUrl, { headers })).json();

    const bare = Fastify({ logger: false });
    bare.get('/v1/tenants/:tenantId', async () => body);
    const bareUrl = `${await bare.listen({ host: '127.0.0.1', port: 0 })}/v1/tenants/${init.tenant_id}`;
    try {
      const bareRounds: LoadResult[] = [];
      const fullRounds: LoadResult[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        bareRounds.push(await load(bareUrl, headers));
        fullRounds.push(await load(tenantUrl, headers));
      }
      const baseline = medians(bareRounds);
      const full = medians(fullRounds);
      record({ name: 'GET /v1/tenants/{id} p50 (authenticated, 500 conns)', value: full.p50, unit: 'ms', baselineName: 'bare Fastify handler p50', baseline: baseline.p50, goal: 'ratio <= 1.3', met: full.p50 / baseline.p50 <= 1.3 });
      record({ name: 'GET /v1/tenants/{id} p99', value: full.p99, unit: 'ms', baselineName: 'bare Fastify handler p99', baseline: baseline.p99 });
      record({ name: 'GET /v1/tenants/{id} throughput', value: full.rps, unit: 'req/s', baselineName: 'bare Fastify handler', baseline: baseline.rps });
      // Server CPU per request moves less than latency when other work shares the machine.
      record({ name: 'GET /v1/tenants/{id} server-thread CPU per request', value: full.cpuMicrosPerRequest, unit: 'µs', baselineName: 'bare Fastify handler', baseline: baseline.cpuMicrosPerRequest });
      if (full.errors > 0 || baseline.errors > 0) throw new Error(`errors during load: full ${String(full.errors)}, bare ${String(baseline.errors)}`);
    } finally {
      await bare.close();
      await app.close();
      await db.close();
      await rm(home, { recursive: true, force: true });
    }
  },
};
