import type { Clock } from '../../shared/ports/index.js';
import type { LockedHead } from './append-batch.js';

/**
 * The head of each tenant's chain as this process last wrote or read it: a hint that lets an
 * append be planned without first reading (and locking) the head, and so be sent in one round
 * trip. A hint is only ever a guess: the write it plans checks the head in the database and
 * refuses itself when the head moved (another process wrote, or the transaction that left the
 * hint rolled back), and the append then takes the locked path, which leaves a fresh hint.
 *
 * A hint is taken, not read: while one write is planned on it, other writes of the tenant in this
 * process find none and take the locked path, which waits for that write's row lock. After a
 * planned write failed, the tenant gets no hint for a cool-down: another process is writing its
 * chain too, and each refused write would cost a round trip and its signatures for nothing.
 */
export class HeadHints {
  readonly #heads = new Map<string, LockedHead>();
  readonly #coolUntilMs = new Map<string, number>();
  readonly #clock: Clock;
  readonly #coolDownMs: number;
  readonly #maxTenants: number;

  constructor(options: { clock: Clock; coolDownMs?: number; maxTenants?: number }) {
    this.#clock = options.clock;
    this.#coolDownMs = options.coolDownMs ?? 1000;
    this.#maxTenants = options.maxTenants ?? 10_000;
  }

  /** The tenant's hint, removed until `remember` puts one back; none while the tenant cools down. */
  take(tenantId: string): LockedHead | undefined {
    const coolUntilMs = this.#coolUntilMs.get(tenantId);
    if (coolUntilMs !== undefined) {
      if (coolUntilMs > this.#clock.nowMs()) return undefined;
      this.#coolUntilMs.delete(tenantId);
    }
    const head = this.#heads.get(tenantId);
    if (head) this.#heads.delete(tenantId);
    return head;
  }

  /**
   * Records the head after a write of this process (its frontier must not be shared or mutated),
   * unless a later one is recorded already: two writes of this process can finish out of order
   * (a planned one commits, a locked one that waited for it remembers first).
   */
  remember(tenantId: string, head: LockedHead): void {
    const known = this.#heads.get(tenantId);
    if (known && known.seq >= head.seq) return;
    this.#set(this.#heads, tenantId, head);
  }

  /** A write planned on the tenant's hint did not commit: plan none for the cool-down. */
  failed(tenantId: string): void {
    this.#set(this.#coolUntilMs, tenantId, this.#clock.nowMs() + this.#coolDownMs);
  }

  /** Sets `tenantId` as the newest entry of `map`, dropping the oldest past `maxTenants`. */
  #set<TValue>(map: Map<string, TValue>, tenantId: string, value: TValue): void {
    map.delete(tenantId);
    if (map.size >= this.#maxTenants) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(tenantId, value);
  }
}
