import type { CompiledQuery } from 'kysely';
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

/** An error as PostgreSQL reports a refused `aether_expect` or a unique violation, or a lost connection. */
const pgError = (code: string | undefined, message: string): Error => Object.assign(new Error(message), code === undefined ? {} : { code });

/**
 * A store with a one-round-trip path that answers as scripted: record the batch, or refuse it
 * (as when a lease closed or the ledger head moved), or fail (as a lost connection).
 */
class OneTripStore extends CountingStore {
  readonly oneTrip: { charges: number; statements: number }[] = [];
  readonly #answers: ('record' | Error)[];

  constructor(answers: ('record' | Error)[]) {
    super();
    this.#answers = answers;
  }

  async settleOnOpenLeases(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }, alsoWrite: readonly CompiledQuery[]): Promise<SettleOutcome[]> {
    this.oneTrip.push({ charges: batch.charges.length, statements: alsoWrite.length });
    const answer = this.#answers.shift() ?? 'record';
    if (answer !== 'record') throw answer;
    // Recorded as the base store records charges on open leases, but not counted as a locked batch.
    return InMemoryBudgetStore.prototype.settleFromLeases.call(this, tenantId, batch);
  }
}

async function setup(audit = new InMemoryAuditSink(), store: CountingStore = new CountingStore()) {
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

  describe('with a store that settles in one round trip', () => {
    const submitTwo = async (store: OneTripStore) => {
      const audit = new InMemoryAuditSink();
      const { batcher, tenantId, charge } = await setup(audit, store);
      const ctx = systemContext(tenantId, 'test');
      const outcomes = await Promise.allSettled([
        batcher.submit(ctx, charge('res_w1', 3), [{ kind: 'llm.call', payload: { i: 1 } }]),
        batcher.submit(ctx, charge('res_w2', 4), [{ kind: 'llm.call', payload: { i: 2 } }]),
      ]);
      return { outcomes, audit, tenantId };
    };

    it('records the batch and its entries in that one write, and takes the locked path no more', async () => {
      const store = new OneTripStore(['record']);
      const { outcomes, audit, tenantId } = await submitTwo(store);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(store.oneTrip).toEqual([{ charges: 2, statements: 0 }]);
      expect(store.batches).toEqual([]);
      expect(audit.entries.map((e) => e.entry.payload['i'])).toEqual([1, 2]);
      expect(await store.costs(tenantId, 'tenant', {})).toEqual([{ key: tenantId, costMicros: 7, count: 2 }]);
    });

    it.each([
      ['a lease closed meanwhile (aether_expect refused it)', 'AE001'],
      ['the ledger head moved meanwhile (unique violation)', '23505'],
    ])('redoes the batch through settleFromLeases when %s, recording each entry once', async (_case, code) => {
      const store = new OneTripStore([pgError(code, 'refused')]);
      const { outcomes, audit, tenantId } = await submitTwo(store);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(store.oneTrip).toHaveLength(1);
      expect(store.batches).toEqual([2]);
      expect(audit.entries.map((e) => e.entry.payload['i'])).toEqual([1, 2]);
      expect(await store.costs(tenantId, 'tenant', {})).toEqual([{ key: tenantId, costMicros: 7, count: 2 }]);
    });

    it('does not redo a write whose outcome is unknown (the connection was lost): the callers get the error', async () => {
      const lost = pgError(undefined, 'Connection terminated unexpectedly');
      // The batch fails, then each charge alone (retry-each) fails the same way.
      const store = new OneTripStore([lost, lost, lost]);
      const { outcomes, audit } = await submitTwo(store);
      expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'fulfilled'))).toEqual(['Connection terminated unexpectedly', 'Connection terminated unexpectedly']);
      expect(store.batches).toEqual([]);
      expect(audit.entries).toEqual([]);
    });
  });
});
