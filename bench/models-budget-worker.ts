/**
 * Worker of the budget throughput bench: `ops` reserve+settle pairs at `concurrency` against the
 * shared PostgreSQL schema; prints `{ ops, ms }`.
 */
import { openDatabase } from '../packages/server/src/infra/database/index.js';
import { BudgetService, PgBudgetStore, RecordingBudgetEvents, RecordingTaskCanceller } from '../packages/server/src/kernel/budget/index.js';
import { InMemoryAuditSink } from '../packages/server/src/infra/audit/index.js';
import { asTenantId, systemContext } from '../packages/server/src/shared/context/index.js';
import { UlidIdGenerator } from '../packages/server/src/shared/ids/index.js';
import { SystemClock, silentLogger } from '../packages/server/src/shared/ports/index.js';

const [url, schema, tenant, opsText, concurrencyText] = process.argv.slice(2);
if (!url || !schema || !tenant) throw new Error('usage: models-budget-worker <url> <schema> <tenant> <ops> <concurrency>');
const ops = Number(opsText ?? '500');
const concurrency = Number(concurrencyText ?? '8');
const db = await openDatabase({ engine: 'postgres', url, schema, poolSize: concurrency + 1 });
const budget = new BudgetService({
  store: new PgBudgetStore({ db }), audit: new InMemoryAuditSink(), clock: new SystemClock(), ids: new UlidIdGenerator(),
  logger: silentLogger, events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller(),
});
const ctx = systemContext(asTenantId(tenant), 'bench');
let next = 0;
const start = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < ops) {
      next++;
      const reservation = await budget.reserve(ctx, { amountMicros: 10, kind: 'llm', item: 'bench', scope: { agentId: 'agt_bench' } });
      await budget.settle(ctx, reservation.id, 10);
    }
  }),
);
const ms = performance.now() - start;
await budget.close();
await db.close();
process.stdout.write(`${JSON.stringify({ ops, ms })}\n`);
