import { sendPlannedAppend, type AuditEntryInput, type AuditSink } from '../../infra/audit/index.js';
import { KeyedBatcher } from '../../shared/batching/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import type { Clock } from '../../shared/ports/index.js';
import type { BudgetStore, LeaseCharge, SettleOutcome } from './budget-store.js';

interface QueuedCharge {
  readonly ctx: TenantContext;
  readonly charge: LeaseCharge;
  readonly entries: readonly AuditEntryInput[];
}

/**
 * Group commit for the charges of work carved from leases: charges of one tenant that arrive
 * while its batch is being written wait and go together in the next one, with all their audit
 * entries, so a burst of calls pays one transaction, one ledger head lock and one fsync per
 * batch instead of per call. Each caller still returns only once its charge and its entries
 * have committed. A failed batch is retried charge by charge, so one bad charge fails alone.
 */
export class LeaseChargeBatcher {
  readonly #store: BudgetStore;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #batches: KeyedBatcher<QueuedCharge, SettleOutcome>;

  constructor(deps: { store: BudgetStore; audit: AuditSink; clock: Clock; maxBatch?: number }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#batches = new KeyedBatcher({ maxBatch: deps.maxBatch ?? 64, onBatchFailure: 'retry-each', write: (_tenantId, batch) => this.#write(batch) });
  }

  /** Records `charge` and `entries` (actors default to `ctx`'s principal) in the tenant's next batch. */
  submit(ctx: TenantContext, charge: LeaseCharge, entries: readonly AuditEntryInput[]): Promise<SettleOutcome> {
    // Entries of several callers share one append, so each names its own actor.
    const actor = { type: ctx.principal.type, id: ctx.principal.id };
    const attributed = entries.map((entry) => (entry.actor ? entry : { ...entry, actor }));
    return this.#batches.submit(ctx.tenantId, { ctx, charge, entries: attributed });
  }

  async #write(batch: readonly QueuedCharge[]): Promise<SettleOutcome[]> {
    const first = batch[0];
    if (!first) return [];
    const entries = batch.flatMap((queued) => queued.entries);
    const charges = { charges: batch.map((queued) => queued.charge), now: this.#clock.now() };
    // The common case in one round trip: charges on open leases and their entries, planned on the
    // ledger head this process last saw. Should a lease have closed or the head moved meanwhile,
    // nothing was written, and the batch goes the way that reads and locks what it needs.
    const settleOnOpenLeases = this.#store.settleOnOpenLeases?.bind(this.#store);
    if (settleOnOpenLeases) {
      const sent = await sendPlannedAppend(this.#audit.prepareAppend?.(first.ctx, entries), (statements) => settleOnOpenLeases(first.ctx.tenantId, charges, statements));
      if (sent) return sent.result;
    }
    return this.#store.settleFromLeases(first.ctx.tenantId, charges, async (tx) => {
      await this.#audit.appendAll(first.ctx, entries, tx === undefined ? {} : { tx });
    });
  }
}
