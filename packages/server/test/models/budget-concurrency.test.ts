import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { AuditSink } from '../../src/infra/audit/index.js';
import type { Database } from '../../src/infra/database/index.js';
import { describeWithService, openTestDatabase } from '../../src/infra/database/testing/index.js';
import { BudgetService, PgBudgetStore, RecordingBudgetEvents, RecordingTaskCanceller, budgetMigrations, type BudgetView } from '../../src/kernel/budget/index.js';
import { LedgerService, ledgerMigrations } from '../../src/kernel/ledger/index.js';
import { asTenantId, systemContext, type TenantContext } from '../../src/shared/context/index.js';
import { UlidIdGenerator } from '../../src/shared/ids/index.js';
import { SystemClock, silentLogger } from '../../src/shared/ports/index.js';
import { TableAuditSink, testAuditMigrations } from '../support/table-audit-sink.js';
import { runTsWorker } from '../support/ts-worker.js';

const WORKER = fileURLToPath(new URL('./budget-worker.ts', import.meta.url));

interface WorkerResult {
  /** Calls made (in all, for the sum of several workers). */
  readonly calls: number;
  readonly ok: number;
  readonly exhausted: number;
  readonly other: string[];
}

/** Runs 4 worker processes of `calls` calls each at once (`extra`: the audit sink they use) and adds up what they did. */
async function runFourWorkers(run: { url: string; schema: string; tenant: string; calls: number; extra?: string[] }): Promise<WorkerResult> {
  const args = [run.url, run.schema, run.tenant, String(run.calls), '10', ...(run.extra ?? [])];
  const results = await Promise.all([1, 2, 3, 4].map(() => runTsWorker<Omit<WorkerResult, 'calls'>>(WORKER, args)));
  return {
    calls: 4 * run.calls,
    ok: results.reduce((n, r) => n + r.ok, 0),
    exhausted: results.reduce((n, r) => n + r.exhausted, 0),
    other: results.flatMap((r) => r.other),
  };
}

/**
 * Checks a run of 4 workers against a budget with room for `allowance` calls of 100, far enough
 * from its limit that they lease: every call charged or refused, none beyond the allowance, little
 * stranded (a lease holds at most 1/64 of the free budget and none is taken near the limit), and
 * the budget's spent amount is exactly what was charged. @returns the budget as it ends.
 */
async function expectLeasedRunWithinBudget(check: { budget: BudgetService; ctx: TenantContext; allowance: number; run: WorkerResult }): Promise<BudgetView | undefined> {
  const { budget, ctx, allowance, run } = check;
  expect(run.other).toEqual([]);
  expect(run.ok + run.exhausted).toBe(run.calls);
  expect(run.ok).toBeLessThanOrEqual(allowance);
  expect(run.ok).toBeGreaterThanOrEqual(allowance - 4 * 16);
  const [state] = await budget.listBudgets(ctx);
  expect(state).toMatchObject({ spentMicros: run.ok * 100, reservedMicros: 0 });
  return state;
}

describeWithService('postgres', 'Budget engine under concurrency (4 processes, real PostgreSQL)', (url) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase('postgres', [...budgetMigrations, ...ledgerMigrations, ...testAuditMigrations]);
  });
  afterAll(async () => {
    await db.close();
  });
  /** The test process's own view of the budgets the workers charge. */
  const budgetService = (audit: AuditSink) =>
    new BudgetService({
      store: new PgBudgetStore({ db }), audit, clock: new SystemClock(), ids: new UlidIdGenerator(),
      logger: silentLogger, events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller(),
    });

  it('charges at most the 50 calls the budget allows out of 200, and the audited charges equal the spent amount', { timeout: 120_000 }, async () => {
    const tenant = asTenantId('tnt_concurrency');
    const ctx = systemContext(tenant, 'test');
    const budget = budgetService(new TableAuditSink(db));
    await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 50 * 100 });

    const { ok, exhausted, other } = await runFourWorkers({ url, schema: db.schema, tenant, calls: 50 });
    expect(other).toEqual([]);
    expect(ok + exhausted).toBe(200);
    // Each call reserves exactly what it costs, so the allowance is exactly 50 and never exceeded.
    expect(ok).toBe(50);

    const [state] = await budget.listBudgets(ctx);
    expect(state).toMatchObject({ spentMicros: 5000, reservedMicros: 0 });
    const audited = await db.withTenant(tenant, (tx) =>
      sql<{ total: string; count: string }>`select coalesce(sum((payload->>'charged_micros')::bigint), 0) as total, count(*) as count
        from test_audit where kind = 'budget.charged'`.execute(tx),
    );
    expect(Number(audited.rows[0]?.total)).toBe(state?.spentMicros);
    expect(Number(audited.rows[0]?.count)).toBe(50);
    const refused = await db.withTenant(tenant, (tx) => sql<{ count: string }>`select count(*) as count from test_audit where kind = 'budget.refused'`.execute(tx));
    expect(Number(refused.rows[0]?.count)).toBe(150);
  });

  it('with headroom leases in every process, never overspends and strands at most one lease per process', { timeout: 120_000 }, async () => {
    const tenant = asTenantId('tnt_concurrency_leases');
    const ctx = systemContext(tenant, 'test');
    const budget = budgetService(new TableAuditSink(db));
    // Room for 2,000 calls of 100: far from the limit the workers lease, near it they reserve each call.
    await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 2000 * 100 });

    const state = await expectLeasedRunWithinBudget({ budget, ctx, allowance: 2000, run: await runFourWorkers({ url, schema: db.schema, tenant, calls: 600 }) });
    const audited = await db.withTenant(tenant, (tx) =>
      sql<{ total: string; count: string }>`select coalesce(sum((payload->>'charged_micros')::bigint), 0) as total, count(*) as count
        from test_audit where kind = 'budget.charged'`.execute(tx),
    );
    expect(Number(audited.rows[0]?.total)).toBe(state?.spentMicros);
    const leases = await db.withTenant(tenant, (tx) =>
      sql<{ total: string; open: string }>`select count(*) as total, count(*) filter (where status = 'open') as open from budget_reservations where kind = 'lease'`.execute(tx),
    );
    expect(Number(leases.rows[0]?.total)).toBeGreaterThan(0);
    expect(Number(leases.rows[0]?.open)).toBe(0);
  });

  it('with the signed ledger in every process, never overspends, and the one chain verifies and sums to the spent amount', { timeout: 120_000 }, async () => {
    // Each process plans its charges on the ledger head it last wrote; the others keep moving it,
    // so refused one-round-trip writes and their locked redo are exercised across processes.
    const tenant = asTenantId('tnt_concurrency_ledger');
    const ctx = systemContext(tenant, 'test');
    const masterKey = randomBytes(32);
    const ledger = new LedgerService({ db, masterKey, clock: new SystemClock(), logger: silentLogger });
    await ledger.init();
    const budget = budgetService(ledger);
    await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1000 * 100 });

    const run = await runFourWorkers({ url, schema: db.schema, tenant, calls: 300, extra: ['ledger', masterKey.toString('hex')] });
    const state = await expectLeasedRunWithinBudget({ budget, ctx, allowance: 1000, run });
    const charged = await db.withTenant(tenant, (tx) =>
      sql<{ total: string; count: string }>`select coalesce(sum((body::jsonb->'payload'->>'charged_micros')::bigint), 0) as total, count(*) as count
        from ledger_entries where kind = 'budget.charged'`.execute(tx),
    );
    expect(Number(charged.rows[0]?.total)).toBe(state?.spentMicros);
    expect(Number(charged.rows[0]?.count)).toBe(run.ok);
    expect(await ledger.verify(ctx)).toMatchObject({ valid: true, first_invalid_seq: null });
  });
});
