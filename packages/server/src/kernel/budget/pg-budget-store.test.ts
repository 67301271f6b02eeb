import { sql } from 'kysely';
import { expect, it } from 'vitest';

import { isExpectationFailure, type Database } from '../../infra/database/index.js';
import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { asTenantId } from '../../shared/context/index.js';
import { describeBudgetStoreContract } from './budget-store.contract.js';
import type { LeaseCharge } from './budget-store.js';
import { budgetMigrations } from './migrations.js';
import { PgBudgetStore } from './pg-budget-store.js';

describeEachDatabase('PgBudgetStore', budgetMigrations, (getDb) => {
  describeBudgetStoreContract('PgBudgetStore', () => new PgBudgetStore({ db: getDb() }));

  let tenantCounter = 0;
  const now = new Date('2030-01-10T12:00:00Z');

  /** A tenant with a budget of 1,000 and an open lease `res_lease` of 500 on it. */
  async function leased(store: PgBudgetStore): Promise<{ tenantId: string; charge: (id: string, chargedMicros: number) => LeaseCharge }> {
    tenantCounter += 1;
    const tenantId = `tnt_onetrip${String(tenantCounter)}`;
    await store.upsert(tenantId, { id: 'bud_t', scope: 'tenant', scopeId: tenantId, period: 'month', limitMicros: 1000 }, now);
    const lease = await store.reserve(tenantId, { id: 'res_lease', amountMicros: 500, kind: 'lease', item: 'lease', scope: {} }, now);
    if (!lease.ok) throw new Error('lease refused');
    const budgetIds = lease.reservation.budgetIds;
    return { tenantId, charge: (id, chargedMicros) => ({ leaseId: 'res_lease', chargedMicros, work: { id, amountMicros: 100, kind: 'llm', item: 'm', scope: {}, budgetIds } }) };
  }

  const notes = (db: Database, tenantId: string) =>
    db.withTenant(asTenantId(tenantId), async (tx) => (await sql<{ n: number }>`select count(*)::int as n from budget_notifications`.execute(tx)).rows[0]?.n);

  it('settleOnOpenLeases records charges on open leases and the caller\'s statements in one write', async () => {
    const store = new PgBudgetStore({ db: getDb() });
    const { tenantId, charge } = await leased(store);
    const alsoWrite = sql`insert into budget_notifications (tenant_id, id, budget_id, level, message, created_at) values (${tenantId}, 'not_1', 'bud_t', 75, 'with the charges', ${now})`.compile(getDb().kysely);
    const outcomes = await store.settleOnOpenLeases(tenantId, { charges: [charge('res_w1', 30), charge('res_w2', 40)], now }, [alsoWrite]);
    expect(outcomes.map((o) => [o.reservation.id, o.chargedMicros, o.budgets, o.crossings])).toEqual([['res_w1', 30, [], []], ['res_w2', 40, [], []]]);
    expect((await store.list(tenantId, now))[0]).toMatchObject({ spentMicros: 70, leasedMicros: 430 });
    expect(await notes(getDb(), tenantId)).toBe(1);
    // Closing the lease moves these charges into spent like any others.
    expect((await store.closeLease(tenantId, 'res_lease', now))?.budgets[0]).toMatchObject({ spentMicros: 70, reservedMicros: 0 });
  });

  it('settleOnOpenLeases refuses the whole write when a lease is no longer open, recording nothing', async () => {
    const store = new PgBudgetStore({ db: getDb() });
    const { tenantId, charge } = await leased(store);
    await store.closeLease(tenantId, 'res_lease', now);
    const alsoWrite = sql`insert into budget_notifications (tenant_id, id, budget_id, level, message, created_at) values (${tenantId}, 'not_2', 'bud_t', 75, 'never kept', ${now})`.compile(getDb().kysely);
    const refused = await store.settleOnOpenLeases(tenantId, { charges: [charge('res_w1', 30)], now }, [alsoWrite]).then(() => undefined, (error: unknown) => error);
    expect(isExpectationFailure(refused)).toBe(true);
    expect(await notes(getDb(), tenantId)).toBe(0);
    expect(await store.costs(tenantId, 'tenant', {})).toEqual([]);
    // The locked path then moves the charge straight into spent.
    const [moved] = await store.settleFromLeases(tenantId, { charges: [charge('res_w1', 30)], now });
    expect(moved?.budgets[0]).toMatchObject({ spentMicros: 30 });
  });
});
