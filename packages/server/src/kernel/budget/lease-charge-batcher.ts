import type { AuditEntryInput, AuditSink } from '../../infra/audit/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import type { Clock } from '../../shared/ports/index.js';
import type { BudgetStore, LeaseCharge, SettleOutcome } from './budget-store.js';

interface PendingCharge {
  readonly ctx: TenantContext;
  readonly charge: LeaseCharge;
  readonly entries: readonly AuditEntryInput[];
  resolve(outcome: SettleOutcome): void;
  reject(error: unknown): void;
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
  readonly #maxBatch: number;
  readonly #queues = new Map<string, PendingCharge[]>();

  constructor(deps: { store: BudgetStore; audit: AuditSink; clock: Clock; maxBatch?: number }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#maxBatch = deps.maxBatch ?? 64;
  }

  /** Records `charge` and `entries` (actors default to `ctx`'s principal) in the tenant's next batch. */
  submit(ctx: TenantContext, charge: LeaseCharge, entries: readonly AuditEntryInput[]): Promise<SettleOutcome> {
    // Entries of several callers share one append, so each names its own actor.
    const actor = { type: ctx.principal.type, id: ctx.principal.id };
    const attributed = entries.map((entry) => (entry.actor ? entry : { ...entry, actor }));
    return new Promise<SettleOutcome>((resolve, reject) => {
      const pending: PendingCharge = { ctx, charge, entries: attributed, resolve, reject };
      const queue = this.#queues.get(ctx.tenantId);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.#queues.set(ctx.tenantId, [pending]);
      void this.#drain(ctx.tenantId);
    });
  }

  async #drain(tenantId: string): Promise<void> {
    for (;;) {
      const queue = this.#queues.get(tenantId) ?? [];
      if (queue.length === 0) {
        this.#queues.delete(tenantId);
        return;
      }
      const batch = queue.splice(0, this.#maxBatch);
      try {
        this.#settled(batch, await this.#write(batch));
      } catch (error) {
        if (batch.length === 1) {
          batch[0]?.reject(error);
          continue;
        }
        for (const pending of batch) {
          try {
            this.#settled([pending], await this.#write([pending]));
          } catch (alone) {
            pending.reject(alone);
          }
        }
      }
    }
  }

  #write(batch: readonly PendingCharge[]): Promise<SettleOutcome[]> {
    const first = batch[0];
    if (!first) return Promise.resolve([]);
    const entries = batch.flatMap((pending) => pending.entries);
    return this.#store.settleFromLeases(
      first.ctx.tenantId,
      { charges: batch.map((pending) => pending.charge), now: this.#clock.now() },
      async (tx) => {
        await this.#audit.appendAll(first.ctx, entries, tx === undefined ? {} : { tx });
      },
    );
  }

  #settled(batch: readonly PendingCharge[], outcomes: readonly SettleOutcome[]): void {
    batch.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (outcome) pending.resolve(outcome);
      else pending.reject(new Error('the budget store returned fewer outcomes than charges'));
    });
  }
}
