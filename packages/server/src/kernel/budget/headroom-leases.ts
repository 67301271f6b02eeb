import type { BudgetScopeRef, ChargeKind, Reservation } from './budget-store.js';

/**
 * When a process leases budget headroom, and how much. A lease is an ordinary reservation in the
 * store (so every process's limit check counts it); work is then reserved against it in memory.
 * Near a limit no lease is taken and every piece of work is reserved in the store on its own, so
 * headroom is never stranded in one process while another is refused.
 */
export interface LeasePolicy {
  /** A lease is taken only while the tightest budget has at least this many times the work's amount free. */
  readonly minFreeMultiple: number;
  /** A lease holds at most this many times the amount of the work that opened it ... */
  readonly maxWorkPerLease: number;
  /** ... and at most this share of the tightest budget's free amount. */
  readonly maxFreeShare: number;
  /** Age after which a lease takes no new work and is returned (bounds how long a new budget or limit takes to apply). */
  readonly maxAgeMs: number;
  /**
   * Once less than this share of a lease is free (or it has lived this share of its lifetime),
   * the next one is leased in the background, so no call waits for a lease to open.
   */
  readonly renewAtShare: number;
}

export const DEFAULT_LEASE_POLICY: LeasePolicy = { minFreeMultiple: 128, maxWorkPerLease: 64, maxFreeShare: 1 / 64, maxAgeMs: 5_000, renewAtShare: 0.5 };

export interface Lease {
  readonly id: string;
  readonly key: string;
  readonly tenantId: string;
  readonly scope: BudgetScopeRef;
  readonly budgetIds: readonly string[];
  /** What the lease held when it opened. */
  readonly size: number;
  /** What the store holds for this lease, as far as this process knows. */
  held: number;
  /** What work carved from the lease has reserved and not yet settled or released. */
  inFlight: number;
  readonly openedAtMs: number;
  /** Takes no new work; closed once nothing is in flight. */
  retiring: boolean;
}

/** Work carved from a lease; settled through `BudgetStore.settleFromLeases`. */
export interface CarvedWork {
  readonly lease: Lease;
  readonly work: Reservation & { readonly kind: ChargeKind };
}

/** The key work is leased under: a tenant and the exact set of scopes it draws on. */
export function leaseKey(tenantId: string, scope: BudgetScopeRef): string {
  return `${tenantId}|${scope.agentId ?? ''}|${scope.taskId ?? ''}|${scope.subAgentId ?? ''}`;
}

/**
 * This process's headroom leases and the work carved from them. Pure bookkeeping: every method
 * runs without awaiting, so concurrent callers in the process see consistent amounts; the
 * service makes the matching store calls.
 */
export class HeadroomLeases {
  readonly #policy: LeasePolicy;
  readonly #current = new Map<string, Lease>();
  readonly #carved = new Map<string, CarvedWork>();
  readonly #claimed = new Set<string>();

  constructor(policy: LeasePolicy) {
    this.#policy = policy;
  }

  /** The amount to lease for work of `amountMicros`, or undefined when the budget is too close to its limit (or unknown). */
  sizeFor(amountMicros: number, freeMicros: number | undefined): number | undefined {
    if (freeMicros === undefined || amountMicros <= 0) return undefined;
    if (freeMicros < amountMicros * this.#policy.minFreeMultiple) return undefined;
    const size = Math.floor(Math.min(amountMicros * this.#policy.maxWorkPerLease, freeMicros * this.#policy.maxFreeShare));
    return size >= amountMicros * 2 ? size : undefined;
  }

  /** Carves `work` from the key's current lease if it is fresh and has room; undefined otherwise. */
  take(key: string, work: Reservation & { readonly kind: ChargeKind }, nowMs: number): Reservation | undefined {
    const lease = this.#current.get(key);
    if (!lease || lease.retiring || nowMs - lease.openedAtMs >= this.#policy.maxAgeMs) return undefined;
    if (lease.held - lease.inFlight < work.amountMicros) return undefined;
    lease.inFlight += work.amountMicros;
    const carved = { ...work, budgetIds: lease.budgetIds };
    this.#carved.set(work.id, { lease, work: carved });
    return carved;
  }

  /** Makes a fresh lease the key's current one (the caller retired the previous one first). */
  open(key: string, lease: Pick<Lease, 'id' | 'tenantId' | 'scope' | 'budgetIds'> & { amountMicros: number }, nowMs: number): void {
    const { id, tenantId, scope, budgetIds, amountMicros } = lease;
    this.#current.set(key, { id, key, tenantId, scope, budgetIds, size: amountMicros, held: amountMicros, inFlight: 0, openedAtMs: nowMs, retiring: false });
  }

  /** Whether the key's current lease is running low or getting old, so its successor should be leased now. */
  dueForRenewal(key: string, nowMs: number): boolean {
    const lease = this.#current.get(key);
    if (!lease) return false;
    const free = lease.held - lease.inFlight;
    return free < lease.size * this.#policy.renewAtShare || nowMs - lease.openedAtMs >= this.#policy.maxAgeMs * this.#policy.renewAtShare;
  }

  /**
   * Stops the key's current lease taking work. Returns what to give back to the store: all of it
   * (`close`) when nothing is in flight, else the part no work holds.
   */
  retire(key: string): { lease: Lease; returnMicros: number; close: boolean } | undefined {
    const lease = this.#current.get(key);
    if (!lease) return undefined;
    this.#current.delete(key);
    lease.retiring = true;
    const unused = lease.held - lease.inFlight;
    lease.held -= unused;
    return { lease, returnMicros: unused, close: lease.inFlight === 0 };
  }

  /** Keys whose current lease is older than the policy allows (to retire while the process is idle). */
  expiredKeys(nowMs: number): string[] {
    return [...this.#current.values()].filter((lease) => nowMs - lease.openedAtMs >= this.#policy.maxAgeMs).map((lease) => lease.key);
  }

  keys(): string[] {
    return [...this.#current.keys()];
  }

  /**
   * Takes carved work for settling or releasing: it stays in flight on its lease (which cannot
   * close meanwhile) until `finish`, but a second claim finds nothing, so it settles once.
   */
  claim(reservationId: string): CarvedWork | undefined {
    const carved = this.#carved.get(reservationId);
    if (!carved || this.#claimed.has(reservationId)) return undefined;
    this.#claimed.add(reservationId);
    return carved;
  }

  /**
   * Ends carved work that consumed `consumedMicros` of its lease (0 when released unused).
   * `closeLease` is true when it was the last work of a retiring lease.
   */
  finish(reservationId: string, consumedMicros: number): { lease: Lease; closeLease: boolean } | undefined {
    const carved = this.#carved.get(reservationId);
    if (!carved) return undefined;
    this.#carved.delete(reservationId);
    this.#claimed.delete(reservationId);
    const { lease, work } = carved;
    lease.inFlight -= work.amountMicros;
    lease.held -= Math.min(consumedMicros, work.amountMicros);
    return { lease, closeLease: lease.retiring && lease.inFlight === 0 };
  }
}
