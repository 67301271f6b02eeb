import type { LockedHead } from './append-batch.js';

/**
 * The head of each tenant's chain as this process last wrote or read it: a hint that lets an
 * append be planned without first reading (and locking) the head, and so be sent in one round
 * trip. A hint is only ever a guess: the write it plans checks the head in the database and
 * refuses itself when the head moved (another process wrote, or the transaction that left the
 * hint rolled back), and the append then takes the locked path, which leaves a fresh hint.
 *
 * A hint is taken, not read: while one write is planned on it, other writes of the tenant in this
 * process find none and take the locked path, which waits for that write's row lock.
 */
export class HeadHints {
  readonly #heads = new Map<string, LockedHead>();
  readonly #maxTenants: number;

  constructor(options: { maxTenants?: number } = {}) {
    this.#maxTenants = options.maxTenants ?? 10_000;
  }

  /** The tenant's hint, removed until `remember` puts one back. */
  take(tenantId: string): LockedHead | undefined {
    const head = this.#heads.get(tenantId);
    if (head) this.#heads.delete(tenantId);
    return head;
  }

  /** Records the head after a write of this process (its frontier must not be shared or mutated). */
  remember(tenantId: string, head: LockedHead): void {
    this.#heads.delete(tenantId);
    if (this.#heads.size >= this.#maxTenants) {
      const oldest = this.#heads.keys().next();
      if (!oldest.done) this.#heads.delete(oldest.value);
    }
    this.#heads.set(tenantId, head);
  }
}
