import { describe, expect, it } from 'vitest';

import { InMemoryAuditSink, type AuditEntryInput, type AuditReceipt } from '../../infra/audit/index.js';
import { asTenantId, systemContext, type TenantContext } from '../../shared/context/index.js';
import { ManualClock } from '../../shared/ports/index.js';
import type { LeaseCharge, SettleOutcome } from './budget-store.js';
import { InMemoryBudgetStore } from './in-memory-budget-store.js';
import { LeaseChargeBatcher } from './lease-charge-batcher.js';

/** The in-memory store, counting how many batches it was asked to record. */
class CountingStore extends InMemoryBudgetStore {
  readonly batches: number[] = [];
  override settleFromLeases(...args: Parameters<InMemoryBudgetStore['settleFromLeases']>): Promise<SettleOutcome[]> {
    this.batches.push(args[1].charges.length);
    return super.settleFromLeases(...args);
  }
}

/** Refuses any batch holding an entry marked `poison`, as a ledger refuses an invalid entry. */
class PickyAuditSink extends InMemoryAuditSink {
  override async appendAll(ctx: TenantContext, entries: readonly AuditEntryInput[]): Promise<AuditReceipt[]> {
    if (entries.some((entry) => entry.payload['poison'] === true)) throw new Error('entry refused');
    return super.appendAll(ctx, entries);
  }
}

async function setup(audit = new InMemoryAuditSink()) {
  const store = new CountingStore();
  const clock = new ManualClock();
  const tenantId = asTenantId('tnt_batch');
  await store.upsert(tenantId, { id: 'bud_t', scope: 'tenant', scopeId: tenantId, period: 'month', limitMicros: 1_000_000 }, clock.now());
  const lease = await store.reserve(tenantId, { id: 'res_lease', amountMicros: 10_000, kind: 'lease', item: 'lease', scope: {} }, clock.now());
  if (!lease.ok) throw new Error('lease refused');
  const charge = (id: string, chargedMicros: number): LeaseCharge => ({
    leaseId: 'res_lease', chargedMicros, work: { id, amountMicros: 100, kind: 'llm', item: 'm', scope: {}, budgetIds: lease.reservation.budgetIds },
  });
  const batcher = new LeaseChargeBatcher({ store, audit, clock });
  return { store, audit, batcher, tenantId, charge, clock };
}

describe('LeaseChargeBatcher', () => {
  it('writes the charges submitted together in one batch, with every entry in order', async () => {
    const { store, audit, batcher, tenantId, charge } = await setup();
    const ctx = systemContext(tenantId, 'test');
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(ctx, charge(`res_w${String(i)}`, i), [{ kind: 'llm.call', payload: { i } }])));
    expect(outcomes.map((o) => [o.reservation.id, o.chargedMicros])).toEqual(Array.from({ length: 10 }, (_, i) => [`res_w${String(i)}`, i]));
    expect(store.batches).toEqual([10]);
    expect(audit.entries.map((e) => e.entry.payload['i'])).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(await store.costs(tenantId, 'tenant', {})).toEqual([{ key: tenantId, costMicros: 45, count: 10 }]);
  });

  it('names each caller as the actor of its own entries when their entries share one append', async () => {
    const { audit, batcher, tenantId, charge } = await setup();
    const alice = systemContext(tenantId, 'alice');
    const bob = systemContext(tenantId, 'bob');
    await Promise.all([
      batcher.submit(alice, charge('res_a', 1), [{ kind: 'llm.call', payload: {} }]),
      batcher.submit(bob, charge('res_b', 1), [{ kind: 'llm.call', payload: {} }, { kind: 'llm.call', actor: { type: 'agent', id: 'agt_1' }, payload: {} }]),
    ]);
    expect(audit.entries.map((e) => e.actor.id)).toEqual(['alice', 'bob', 'agt_1']);
  });

  it('retries a failed batch charge by charge, so only the bad one fails and nothing of it is charged', async () => {
    const { store, batcher, tenantId, charge } = await setup(new PickyAuditSink());
    const ctx = systemContext(tenantId, 'test');
    const settled = await Promise.allSettled([
      batcher.submit(ctx, charge('res_first', 5), [{ kind: 'llm.call', payload: {} }]),
      batcher.submit(ctx, charge('res_good', 7), [{ kind: 'llm.call', payload: {} }]),
      batcher.submit(ctx, charge('res_bad', 11), [{ kind: 'llm.call', payload: { poison: true } }]),
      batcher.submit(ctx, charge('res_late', 13), [{ kind: 'llm.call', payload: {} }]),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    // The batch of four fails on the bad entry; each is then written alone.
    expect(store.batches).toEqual([4, 1, 1, 1, 1]);
    expect(await store.costs(tenantId, 'tenant', {})).toEqual([{ key: tenantId, costMicros: 25, count: 3 }]);
  });
});
