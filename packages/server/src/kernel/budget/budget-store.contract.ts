import { describe, expect, it } from 'vitest';

import type { BudgetStore } from './budget-store.js';

let counter = 0;
const uniqueTenant = (): string => `tnt_contract${String(++counter)}${Math.random().toString(36).slice(2, 8)}`;
const at = (iso: string): Date => new Date(iso);

/** The behaviour every BudgetStore must have; run against each adapter. */
export function describeBudgetStoreContract(name: string, makeStore: () => BudgetStore): void {
  describe(`${name} (BudgetStore contract)`, () => {
    it('reserves on every applicable budget and refuses a reservation that would cross any limit', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      const now = at('2030-01-10T12:00:00Z');
      await store.upsert(t, { id: 'bud_a', scope: 'tenant', scopeId: t, period: 'month', limitMicros: 1000 }, now);
      await store.upsert(t, { id: 'bud_b', scope: 'task', scopeId: 'task_1', period: 'total', limitMicros: 300 }, now);
      const first = await store.reserve(t, { id: 'res_1', amountMicros: 200, kind: 'llm', item: 'x:y', scope: { taskId: 'task_1' } }, now);
      expect(first.ok).toBe(true);
      if (first.ok) expect(first.reservation.budgetIds).toEqual(['bud_a', 'bud_b']);
      const second = await store.reserve(t, { id: 'res_2', amountMicros: 200, kind: 'llm', item: 'x:y', scope: { taskId: 'task_1' } }, now);
      expect(second.ok).toBe(false);
      if (!second.ok) expect(second.budget.id).toBe('bud_b');
      // The refused reservation left no trace on the tenant budget either.
      const budgets = await store.list(t, now);
      expect(budgets.find((b) => b.id === 'bud_a')?.reservedMicros).toBe(200);
      // Work outside task_1 draws only on the tenant budget.
      expect((await store.reserve(t, { id: 'res_3', amountMicros: 700, kind: 'tool', item: 'grep', scope: {} }, now)).ok).toBe(true);
      expect((await store.reserve(t, { id: 'res_4', amountMicros: 101, kind: 'tool', item: 'grep', scope: {} }, now)).ok).toBe(false);
    });

    it('settles the real cost, frees the reservation and reports each threshold rise once', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      const now = at('2030-01-10T12:00:00Z');
      await store.upsert(t, { id: 'bud_t', scope: 'tenant', scopeId: t, period: 'month', limitMicros: 1000 }, now);
      await store.reserve(t, { id: 'res_1', amountMicros: 900, kind: 'llm', item: 'm', scope: {} }, now);
      const settled = await store.settle(t, { reservationId: 'res_1', chargedMicros: 800, now });
      expect(settled?.chargedMicros).toBe(800);
      expect(settled?.budgets[0]).toMatchObject({ spentMicros: 800, reservedMicros: 0, alertLevel: 75 });
      expect(settled?.crossings).toEqual([expect.objectContaining({ fromLevel: 0, toLevel: 75 })]);
      expect(await store.settle(t, { reservationId: 'res_1', chargedMicros: 800, now })).toBeUndefined();
      await store.reserve(t, { id: 'res_2', amountMicros: 200, kind: 'llm', item: 'm', scope: {} }, now);
      const over = await store.settle(t, { reservationId: 'res_2', chargedMicros: 200, now });
      expect(over?.crossings).toEqual([expect.objectContaining({ fromLevel: 75, toLevel: 100 })]);
    });

    it('releases an unused reservation exactly once', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      const now = at('2030-01-10T12:00:00Z');
      await store.upsert(t, { id: 'bud_t', scope: 'tenant', scopeId: t, period: 'total', limitMicros: 100 }, now);
      await store.reserve(t, { id: 'res_1', amountMicros: 100, kind: 'llm', item: 'm', scope: {} }, now);
      expect(await store.release(t, 'res_1', now)).toBe(true);
      expect(await store.release(t, 'res_1', now)).toBe(false);
      expect((await store.list(t, now))[0]).toMatchObject({ spentMicros: 0, reservedMicros: 0 });
    });

    it('starts a new period for periodic budgets', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      await store.upsert(t, { id: 'bud_d', scope: 'tenant', scopeId: t, period: 'day', limitMicros: 100 }, at('2030-01-10T12:00:00Z'));
      await store.reserve(t, { id: 'res_1', amountMicros: 100, kind: 'llm', item: 'm', scope: {} }, at('2030-01-10T12:00:00Z'));
      await store.settle(t, { reservationId: 'res_1', chargedMicros: 100, now: at('2030-01-10T12:00:01Z') });
      expect((await store.reserve(t, { id: 'res_2', amountMicros: 1, kind: 'llm', item: 'm', scope: {} }, at('2030-01-10T23:00:00Z'))).ok).toBe(false);
      const nextDay = at('2030-01-11T00:00:01Z');
      expect((await store.reserve(t, { id: 'res_3', amountMicros: 100, kind: 'llm', item: 'm', scope: {} }, nextDay)).ok).toBe(true);
      expect((await store.list(t, nextDay))[0]).toMatchObject({ spentMicros: 0, reservedMicros: 100, alertLevel: 0, periodStart: at('2030-01-11T00:00:00Z') });
    });

    it('keeps a new period even when the first reservation of the period is refused', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      await store.upsert(t, { id: 'bud_d', scope: 'tenant', scopeId: t, period: 'day', limitMicros: 100 }, at('2030-01-10T12:00:00Z'));
      await store.reserve(t, { id: 'res_1', amountMicros: 100, kind: 'llm', item: 'm', scope: {} }, at('2030-01-10T12:00:00Z'));
      await store.settle(t, { reservationId: 'res_1', chargedMicros: 100, now: at('2030-01-10T12:00:01Z') });
      const nextDay = at('2030-01-11T08:00:00Z');
      expect((await store.reserve(t, { id: 'res_2', amountMicros: 101, kind: 'llm', item: 'm', scope: {} }, nextDay)).ok).toBe(false);
      expect((await store.reserve(t, { id: 'res_3', amountMicros: 60, kind: 'llm', item: 'm', scope: {} }, nextDay)).ok).toBe(true);
    });

    it('sums settled costs by agent, task, model and day, and task economics', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      const day1 = at('2030-01-10T12:00:00Z');
      const day2 = at('2030-01-11T12:00:00Z');
      const charge = async (id: string, amount: number, scope: { agentId?: string; taskId?: string }, item: string, when: Date, kind: 'llm' | 'tool' = 'llm') => {
        await store.reserve(t, { id, amountMicros: amount, kind, item, scope }, when);
        await store.settle(t, { reservationId: id, chargedMicros: amount, now: when });
      };
      await charge('res_1', 10, { agentId: 'agt_1', taskId: 'task_1' }, 'openai:gpt-5', day1);
      await charge('res_2', 20, { agentId: 'agt_1', taskId: 'task_2' }, 'anthropic:claude-haiku-4-5', day2);
      await charge('res_3', 5, { agentId: 'agt_2', taskId: 'task_2' }, 'grep', day2, 'tool');
      await store.reserve(t, { id: 'res_open', amountMicros: 99, kind: 'llm', item: 'openai:gpt-5', scope: {} }, day2);
      expect(await store.costs(t, 'tenant', {})).toEqual([{ key: t, costMicros: 35, count: 3 }]);
      expect(await store.costs(t, 'agent', {})).toEqual([{ key: 'agt_1', costMicros: 30, count: 2 }, { key: 'agt_2', costMicros: 5, count: 1 }]);
      expect(await store.costs(t, 'model', {})).toEqual([{ key: 'anthropic:claude-haiku-4-5', costMicros: 20, count: 1 }, { key: 'openai:gpt-5', costMicros: 10, count: 1 }]);
      expect(await store.costs(t, 'day', {})).toEqual([{ key: '2030-01-10', costMicros: 10, count: 1 }, { key: '2030-01-11', costMicros: 25, count: 2 }]);
      expect(await store.costs(t, 'task', { from: day2 })).toEqual([{ key: 'task_2', costMicros: 25, count: 2 }]);
      await store.setTaskValue(t, 'task_2', 100);
      expect(await store.taskEconomics(t)).toEqual({ costMicros: 25, valueMicros: 100, tasks: 1 });
    });

    it('releases reservations left open past a cut-off, in every tenant, and no others', async () => {
      const store = makeStore();
      const a = uniqueTenant();
      const b = uniqueTenant();
      const early = at('2030-01-10T12:00:00Z');
      const late = at('2030-01-10T12:10:00Z');
      await store.upsert(a, { id: 'bud_a', scope: 'tenant', scopeId: a, period: 'total', limitMicros: 100 }, early);
      await store.reserve(a, { id: 'res_old', amountMicros: 60, kind: 'llm', item: 'm', scope: {} }, early);
      await store.reserve(b, { id: 'res_old_b', amountMicros: 5, kind: 'llm', item: 'm', scope: {} }, early);
      await store.reserve(a, { id: 'res_new', amountMicros: 30, kind: 'llm', item: 'm', scope: {} }, late);
      const released = await store.releaseStale(at('2030-01-10T12:05:00Z'), late);
      expect(released.filter((r) => r.tenantId === a || r.tenantId === b).sort((x, y) => x.tenantId.localeCompare(y.tenantId))).toEqual(
        [{ tenantId: a, released: 1 }, { tenantId: b, released: 1 }].sort((x, y) => x.tenantId.localeCompare(y.tenantId)),
      );
      expect((await store.list(a, late))[0]).toMatchObject({ reservedMicros: 30 });
      expect(await store.settle(a, { reservationId: 'res_new', chargedMicros: 30, now: late })).toBeDefined();
    });

    it('records charges carved from a lease, and moves them into spent when the lease closes', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      const now = at('2030-01-10T12:00:00Z');
      await store.upsert(t, { id: 'bud_t', scope: 'tenant', scopeId: t, period: 'month', limitMicros: 1000 }, now);
      const lease = await store.reserve(t, { id: 'res_lease', amountMicros: 500, kind: 'lease', item: 'lease', scope: {} }, now);
      expect(lease.ok).toBe(true);
      const budgetIds = lease.ok ? lease.reservation.budgetIds : [];
      const work = (id: string, amountMicros: number) => ({ id, amountMicros, kind: 'llm' as const, item: 'm', scope: {}, budgetIds });
      const [first] = await store.settleFromLeases(t, { charges: [{ leaseId: 'res_lease', work: work('res_w1', 100), chargedMicros: 80 }], now });
      // The lease's reservation covers the charge: no budget row moves yet.
      expect(first?.budgets).toEqual([]);
      await store.settleFromLeases(t, { charges: [{ leaseId: 'res_lease', work: work('res_w2', 100), chargedMicros: 150 }], now });
      // Listed, the charges count as spent already, out of what the lease holds.
      expect((await store.list(t, now))[0]).toMatchObject({ spentMicros: 230, reservedMicros: 270, leasedMicros: 270 });
      expect(await store.shrinkLease(t, { leaseId: 'res_lease', amountMicros: 100 }, now)).toBe(true);
      expect(await store.shrinkLease(t, { leaseId: 'res_lease', amountMicros: 1000 }, now)).toBe(false);
      expect((await store.list(t, now))[0]).toMatchObject({ reservedMicros: 170, leasedMicros: 170 });
      // A lease is never settled as work.
      expect(await store.settle(t, { reservationId: 'res_lease', chargedMicros: 1, now })).toBeUndefined();
      const closed = await store.closeLease(t, 'res_lease', now);
      expect(closed?.budgets[0]).toMatchObject({ spentMicros: 230, reservedMicros: 0 });
      expect(closed?.crossings).toEqual([]);
      expect(await store.closeLease(t, 'res_lease', now)).toBeUndefined();
      expect((await store.list(t, now))[0]).toMatchObject({ spentMicros: 230, reservedMicros: 0, leasedMicros: 0 });
      expect(await store.costs(t, 'tenant', {})).toEqual([{ key: t, costMicros: 230, count: 2 }]);
    });

    it('reports the thresholds a lease crosses when it closes, and charges straight to spent once the reaper released it', async () => {
      const store = makeStore();
      const t = uniqueTenant();
      const early = at('2030-01-10T12:00:00Z');
      const late = at('2030-01-10T12:10:00Z');
      await store.upsert(t, { id: 'bud_t', scope: 'tenant', scopeId: t, period: 'total', limitMicros: 1000 }, early);
      const lease = await store.reserve(t, { id: 'res_l1', amountMicros: 900, kind: 'lease', item: 'lease', scope: {} }, early);
      const budgetIds = lease.ok ? lease.reservation.budgetIds : [];
      await store.settleFromLeases(t, { charges: [{ leaseId: 'res_l1', work: { id: 'res_w1', amountMicros: 800, kind: 'llm', item: 'm', scope: {}, budgetIds }, chargedMicros: 760 }], now: early });
      const closed = await store.closeLease(t, 'res_l1', early);
      expect(closed?.crossings).toEqual([expect.objectContaining({ fromLevel: 0, toLevel: 75 })]);

      await store.reserve(t, { id: 'res_l2', amountMicros: 200, kind: 'lease', item: 'lease', scope: {} }, early);
      await store.settleFromLeases(t, { charges: [{ leaseId: 'res_l2', work: { id: 'res_w2', amountMicros: 100, kind: 'llm', item: 'm', scope: {}, budgetIds }, chargedMicros: 40 }], now: early });
      // The reaper releases a lease as closing does: its charges into spent, its hold out of reserved.
      expect(await store.releaseStale(at('2030-01-10T12:05:00Z'), late)).toEqual([{ tenantId: t, released: 1 }]);
      expect((await store.list(t, late))[0]).toMatchObject({ spentMicros: 800, reservedMicros: 0 });
      // In one batch with a charge on a lease still open, only the released lease's charge moves spent.
      await store.reserve(t, { id: 'res_l3', amountMicros: 100, kind: 'lease', item: 'lease', scope: {} }, late);
      const [afterReap, onOpen] = await store.settleFromLeases(t, { charges: [
        { leaseId: 'res_l2', work: { id: 'res_w3', amountMicros: 100, kind: 'llm', item: 'm', scope: {}, budgetIds }, chargedMicros: 60 },
        { leaseId: 'res_l3', work: { id: 'res_w4', amountMicros: 50, kind: 'llm', item: 'm', scope: {}, budgetIds }, chargedMicros: 30 },
      ], now: late });
      expect(afterReap?.budgets[0]).toMatchObject({ spentMicros: 860, reservedMicros: 100 });
      // 86 % is still the 75 % level it already reached.
      expect(afterReap?.crossings).toEqual([]);
      expect(onOpen).toMatchObject({ chargedMicros: 30, budgets: [], crossings: [] });
      expect((await store.closeLease(t, 'res_l3', late))?.budgets[0]).toMatchObject({ spentMicros: 890, reservedMicros: 0 });
    });

    it('keeps tenants apart', async () => {
      const store = makeStore();
      const a = uniqueTenant();
      const b = uniqueTenant();
      const now = at('2030-01-10T12:00:00Z');
      await store.upsert(a, { id: 'bud_a', scope: 'tenant', scopeId: a, period: 'total', limitMicros: 10 }, now);
      expect(await store.list(b, now)).toEqual([]);
      expect((await store.reserve(b, { id: 'res_b', amountMicros: 1_000_000, kind: 'llm', item: 'm', scope: {} }, now)).ok).toBe(true);
      expect(await store.settle(a, { reservationId: 'res_b', chargedMicros: 1, now })).toBeUndefined();
    });
  });
}
