/**
 * One worker process of the budget concurrency test: makes `calls` routed model calls (scripted
 * provider, real budget engine on the shared PostgreSQL schema) and prints one JSON summary line.
 * Audits into the test table, or with `ledger <master key hex>` into the signed ledger.
 */
import type { AuditSink } from '../../src/infra/audit/index.js';
import { openDatabase } from '../../src/infra/database/index.js';
import { BudgetService, PgBudgetStore, RecordingBudgetEvents, RecordingTaskCanceller } from '../../src/kernel/budget/index.js';
import { LedgerService } from '../../src/kernel/ledger/index.js';
import { CircuitBreakers, ModelCatalog, ModelRouter } from '../../src/kernel/model-router/index.js';
import { ScriptedProvider } from '../../src/runtime/providers/index.js';
import { asTenantId, systemContext } from '../../src/shared/context/index.js';
import { UlidIdGenerator } from '../../src/shared/ids/index.js';
import { SystemClock, silentLogger } from '../../src/shared/ports/index.js';
import { TableAuditSink } from '../support/table-audit-sink.js';

const [url, schema, tenantId, callsText, concurrencyText, auditKind, masterKeyHex] = process.argv.slice(2);
if (!url || !schema || !tenantId) throw new Error('usage: budget-worker <url> <schema> <tenant> <calls> <concurrency>');
const calls = Number(callsText ?? '50');
const concurrency = Number(concurrencyText ?? '10');

const db = await openDatabase({ engine: 'postgres', url, schema, poolSize: concurrency + 2 });
const clock = new SystemClock();
let audit: AuditSink = new TableAuditSink(db);
if (auditKind === 'ledger') {
  if (!masterKeyHex) throw new Error('usage: budget-worker … ledger <master key hex>');
  const ledger = new LedgerService({ db, masterKey: Buffer.from(masterKeyHex, 'hex'), clock, logger: silentLogger });
  await ledger.init();
  audit = ledger;
}
const budget = new BudgetService({
  store: new PgBudgetStore({ db }), audit, clock, ids: new UlidIdGenerator(), logger: silentLogger,
  events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller(),
});
const scripted = new ScriptedProvider({ scripts: { fixed: { turns: [{ reply: { text: 'done', usage: { input_tokens: 10, output_tokens: 100 } } }] } } });
const router = new ModelRouter({
  // Input is free and output costs 1 micro-USD per token, so a call reserves and costs exactly 100.
  catalog: new ModelCatalog({ defaults: [], deploymentOverrides: [{ id: 'scripted:fixed', tier: 'small', prices: { inputPerMillionUsd: 0, outputPerMillionUsd: 1 } }] }),
  providers: { resolve: () => Promise.resolve(scripted) },
  availableProviders: () => ['scripted'],
  budget, audit, clock, logger: silentLogger,
  breakers: new CircuitBreakers({ clock }),
});
const ctx = systemContext(asTenantId(tenantId), 'budget-worker');

let ok = 0;
let exhausted = 0;
const other: string[] = [];
let next = 0;
async function lane(): Promise<void> {
  while (next < calls) {
    next++;
    try {
      await router.call(ctx, { messages: [{ role: 'user', content: 'go' }], model: 'scripted:fixed', maxOutputTokens: 100 });
      ok++;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'BUDGET_EXHAUSTED') exhausted++;
      else other.push(String(code ?? error));
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, () => lane()));
// Hands leased headroom back, as the app does on shutdown.
await budget.close();
await db.close();
process.stdout.write(`${JSON.stringify({ ok, exhausted, other })}\n`);
