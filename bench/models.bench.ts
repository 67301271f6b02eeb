import { fileURLToPath } from 'node:url';

import { InMemoryAuditSink } from '../packages/server/src/infra/audit/index.js';
import { openTestDatabase } from '../packages/server/src/infra/database/testing/index.js';
import { BudgetService, PgBudgetStore, RecordingBudgetEvents, RecordingTaskCanceller, budgetMigrations } from '../packages/server/src/kernel/budget/index.js';
import { asTenantId, systemContext } from '../packages/server/src/shared/context/index.js';
import { UlidIdGenerator } from '../packages/server/src/shared/ids/index.js';
import { SystemClock, silentLogger } from '../packages/server/src/shared/ports/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { runTsWorker } from '../packages/server/test/support/ts-worker.js';

const WORKER = fileURLToPath(new URL('./models-budget-worker.ts', import.meta.url));
const OVERHEAD_WORKER = fileURLToPath(new URL('./models-overhead-worker.ts', import.meta.url));

/** Measures one engine and audit sink in a fresh process (see models-overhead-worker.ts) and records its figures. */
async function routerOverhead(engine: 'pglite' | 'postgres', audit: 'memory' | 'ledger', record: Parameters<BenchSuite['run']>[0]): Promise<void> {
  const { figures } = await runTsWorker<{ figures: BenchFigure[] }>(OVERHEAD_WORKER, [engine, audit]);
  for (const figure of figures) record(figure);
}

function runWorker(args: string[]): Promise<{ ops: number; ms: number }> {
  return runTsWorker(WORKER, args);
}

async function reservationThroughput(url: string, record: Parameters<BenchSuite['run']>[0]): Promise<void> {
  const db = await openTestDatabase('postgres', budgetMigrations);
  try {
    const clock = new SystemClock();
    const budget = new BudgetService({
      store: new PgBudgetStore({ db }), audit: new InMemoryAuditSink(), clock, ids: new UlidIdGenerator(), logger: silentLogger,
      events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller(),
    });
    const tenant = 'tnt_benchbudget';
    const ctx = systemContext(asTenantId(tenant), 'bench');
    await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1e12 });
    await budget.setBudget(ctx, { scope: 'agent', scopeId: 'agt_bench', period: 'day', limitMicros: 1e12 });
    const ops = 500;
    const one = await runWorker([url, db.schema, tenant, String(ops * 4), '8']);
    const started = performance.now();
    const four = await Promise.all([1, 2, 3, 4].map(() => runWorker([url, db.schema, tenant, String(ops), '8'])));
    const wall = performance.now() - started;
    const fourPerSecond = four.reduce((n, r) => n + r.ops, 0) / (Math.max(...four.map((r) => r.ms)) / 1000);
    record({
      name: 'reserve+settle pairs/s, 4 processes x 8 in flight, one hot tenant+agent budget (PostgreSQL)', value: fourPerSecond, unit: 'ops/s',
      baselineName: '1 process x 8 in flight', baseline: one.ops / (one.ms / 1000),
    });
    await budget.close();
    record({ name: '4-process run wall time incl. process start', value: wall, unit: 'ms', baselineName: '1-process run (loop only)', baseline: one.ms });
  } finally {
    await db.close();
  }
}

export const suite: BenchSuite = {
  name: 'models',
  async run(record) {
    await routerOverhead('pglite', 'memory', record);
    const url = process.env['AETHER_TEST_DATABASE_URL'];
    if (!url) {
      console.log('PostgreSQL figures skipped: set AETHER_TEST_DATABASE_URL');
      return;
    }
    await routerOverhead('postgres', 'memory', record);
    await routerOverhead('postgres', 'ledger', record);
    await reservationThroughput(url, record);
  },
};
