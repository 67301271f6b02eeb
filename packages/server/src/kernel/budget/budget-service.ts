import type { AuditEntryInput, AuditSink } from '../../infra/audit/index.js';
import { TtlCache } from '../../shared/cache/index.js';
import { asTenantId, systemContext, type TenantContext } from '../../shared/context/index.js';
import { errorMessage, ValidationError } from '../../shared/errors/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import type {
  BudgetNotification,
  BudgetPeriod,
  BudgetRecord,
  BudgetScope,
  BudgetScopeRef,
  BudgetStore,
  BudgetView,
  ChargeKind,
  CostDimension,
  CostRow,
  Reservation,
  ReservationInput,
  SettleOutcome,
  ThresholdCrossing,
  WithinTransaction,
} from './budget-store.js';
import { DEFAULT_PRICE_LIST, toolCallPrice, vmSecondsPrice, type PriceList } from './economics.js';
import { BudgetExhaustedError, ReservationNotOpenError, usd } from './errors.js';
import { DEFAULT_LEASE_POLICY, HeadroomLeases, leaseKey, type Lease, type LeasePolicy } from './headroom-leases.js';
import { LeaseChargeBatcher } from './lease-charge-batcher.js';
import type { BudgetEventSink, TaskCanceller } from './ports.js';

export interface BudgetServiceDeps {
  readonly store: BudgetStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly events: BudgetEventSink;
  readonly canceller: TaskCanceller;
  readonly priceList?: PriceList;
  /** Headroom leases (see HeadroomLeases); `false` reserves every piece of work in the store. */
  readonly leases?: Partial<LeasePolicy> | false;
  /** How long budget amounts seen by this process serve routing pressure before they are re-read. */
  readonly pressureFreshMs?: number;
}

export interface ReserveRequest {
  readonly amountMicros: number;
  readonly kind: ChargeKind;
  readonly item: string;
  readonly scope?: BudgetScopeRef;
}

export interface SettleRequest {
  readonly reservationId: string;
  readonly chargedMicros: number;
  /** Audit entries about the work, committed with the charge before its `budget.charged` entry ... */
  readonly before?: readonly AuditEntryInput[];
  /** ... and after it. */
  readonly after?: readonly AuditEntryInput[];
}

/** Leases one call that found its lease drained may open in turn before it reserves on its own. */
const MAX_LEASES_PER_MISS = 4;

/** How close the tightest applicable budget is to its limit (0..1+), with the budget named. */
export interface BudgetPressure {
  readonly utilisation: number;
  readonly budgetId: string | undefined;
  readonly remainingMicros: number | undefined;
}

/**
 * The budget engine (spec §12): budgets per tenant (per period), agent, task and sub-agent; every
 * cost is reserved at its maximum before the work and settled at its real amount after, through a
 * store that makes both atomic across processes. Crossing 75 % alerts (event + notification),
 * 90 % is what the router reads to downgrade, 100 % cancels the work the budget covers.
 *
 * Far from its limits, a process leases a slice of a budget's headroom (a reservation like any
 * other) and reserves work against it in memory, so the hot path makes one durable write per
 * piece of work (its charge) instead of two; near a limit every reservation goes to the store.
 * Call `close()` on shutdown to hand leased headroom back at once (the reaper would, later).
 */
export class BudgetService implements AsyncDisposable {
  readonly #store: BudgetStore;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #log: Logger;
  readonly #events: BudgetEventSink;
  readonly #canceller: TaskCanceller;
  readonly #prices: PriceList;
  readonly #leases: HeadroomLeases | undefined;
  readonly #leaseCharges: LeaseChargeBatcher;
  readonly #leaseMaxAgeMs: number;
  /** Single-flight lease opening per lease key, so concurrent misses share one store call. */
  readonly #opening = new Map<string, Promise<boolean>>();
  /** The latest budget amounts this process has seen, per lease key: routing pressure and lease sizing. */
  readonly #seen: TtlCache<readonly BudgetRecord[]>;
  #sweeper: NodeJS.Timeout | undefined;
  /** Lease renewals and give-backs running off the callers' path; `close` waits for them. */
  readonly #pending = new Set<Promise<void>>();
  /** Set by `close`: no lease is renewed in the background any more. */
  #closing = false;

  constructor(deps: BudgetServiceDeps) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#log = deps.logger.child({ module: 'budget' });
    this.#events = deps.events;
    this.#canceller = deps.canceller;
    this.#prices = deps.priceList ?? DEFAULT_PRICE_LIST;
    const policy = deps.leases === false ? undefined : { ...DEFAULT_LEASE_POLICY, ...deps.leases };
    this.#leases = policy ? new HeadroomLeases(policy) : undefined;
    this.#leaseCharges = new LeaseChargeBatcher({ store: deps.store, audit: deps.audit, clock: deps.clock });
    this.#leaseMaxAgeMs = policy?.maxAgeMs ?? DEFAULT_LEASE_POLICY.maxAgeMs;
    this.#seen = new TtlCache({ clock: deps.clock, ttlMs: deps.pressureFreshMs ?? 1_000, maxEntries: 10_000 });
  }

  /** Creates or changes the budget of a scope. @throws {ValidationError} on a bad limit or missing scope id. */
  async setBudget(
    ctx: TenantContext,
    input: { scope: BudgetScope; scopeId?: string; period: BudgetPeriod; limitMicros: number },
  ): Promise<BudgetRecord> {
    if (!Number.isSafeInteger(input.limitMicros) || input.limitMicros < 0) {
      throw new ValidationError('limit must be a non-negative amount', { field: 'limit_usd' });
    }
    const scopeId = input.scope === 'tenant' ? ctx.tenantId : input.scopeId;
    if (!scopeId) throw new ValidationError(`a ${input.scope} budget needs scope_id`, { field: 'scope_id' });
    const record = await this.#store.upsert(
      ctx.tenantId,
      { id: this.#ids.next('bud'), scope: input.scope, scopeId, period: input.period, limitMicros: input.limitMicros },
      this.#clock.now(),
    );
    // This process applies a new or changed budget at once: no stale amounts, no lease drawn without it.
    this.#seen.clear();
    await this.#retireLeases(ctx.tenantId);
    await this.#audit.append(ctx, {
      kind: 'budget.set',
      subject: { budget_id: record.id },
      payload: { scope: record.scope, scope_id: record.scopeId, period: record.period, limit_micros: record.limitMicros },
    });
    return record;
  }

  /** The tenant's budgets; `leasedMicros` is the part of `reservedMicros` held as process leases. */
  listBudgets(ctx: TenantContext): Promise<BudgetView[]> {
    return this.#store.list(ctx.tenantId, this.#clock.now());
  }

  /** The pressure of the tightest budget that work in `scope` draws on. */
  async pressure(ctx: TenantContext, scope: BudgetScopeRef = {}): Promise<BudgetPressure> {
    const key = leaseKey(ctx.tenantId, scope);
    let budgets = this.#seen.get(key);
    if (!budgets) {
      budgets = await this.#store.applicable(ctx.tenantId, scope, this.#clock.now());
      this.#seen.set(key, budgets);
    }
    let tightest: BudgetPressure = { utilisation: 0, budgetId: undefined, remainingMicros: undefined };
    for (const b of budgets) {
      const committed = b.spentMicros + b.reservedMicros;
      const utilisation = b.limitMicros === 0 ? 1 : committed / b.limitMicros;
      if (utilisation >= tightest.utilisation) {
        tightest = { utilisation, budgetId: b.id, remainingMicros: Math.max(0, b.limitMicros - committed) };
      }
    }
    return tightest;
  }

  /**
   * Reserves `amountMicros` on every budget the scope draws on, or none of them.
   * @throws {BudgetExhaustedError} when any of them cannot cover it.
   */
  async reserve(ctx: TenantContext, request: ReserveRequest): Promise<Reservation> {
    if (!Number.isSafeInteger(request.amountMicros) || request.amountMicros < 0) {
      throw new ValidationError('reservation amount must be a non-negative integer of micro-USD', { field: 'amount_micros' });
    }
    const scope = request.scope ?? {};
    const work = { id: this.#ids.next('res'), amountMicros: request.amountMicros, kind: request.kind, item: request.item, scope };
    const now = this.#clock.now();
    const carved = await this.#reserveFromLease(ctx, work, now);
    if (carved) return carved;
    const outcome = await this.#store.reserve(ctx.tenantId, work, now);
    if (outcome.ok) {
      this.#seen.set(leaseKey(ctx.tenantId, scope), outcome.budgets);
      return outcome.reservation;
    }
    const b = outcome.budget;
    const error = new BudgetExhaustedError({
      budgetId: b.id,
      scope: b.scope,
      scopeId: b.scopeId,
      limitMicros: b.limitMicros,
      committedMicros: b.spentMicros + b.reservedMicros,
      requestedMicros: request.amountMicros,
    });
    await this.#audit.append(ctx, {
      kind: 'budget.refused',
      subject: { budget_id: b.id },
      payload: { item: request.item, kind: request.kind, requested_micros: request.amountMicros, reason: error.message },
    });
    return Promise.reject(error);
  }

  /**
   * Settles a reservation at its real cost; the `budget.charged` audit entry commits in the same
   * transaction as the charge. Then fires the thresholds this charge crossed.
   * @throws {ReservationNotOpenError} when it was already settled or released.
   */
  settle(ctx: TenantContext, reservationId: string, chargedMicros: number): Promise<SettleOutcome> {
    return this.settleRecording(ctx, { reservationId, chargedMicros });
  }

  /**
   * `settle`, committing the caller's own audit entries about the work in the same transaction
   * (`before` and `after` the `budget.charged` entry), so one durable write records the work and
   * what it cost.
   */
  async settleRecording(ctx: TenantContext, charge: SettleRequest): Promise<SettleOutcome> {
    const { reservationId, chargedMicros, before = [], after = [] } = charge;
    if (!Number.isSafeInteger(chargedMicros) || chargedMicros < 0) {
      throw new ValidationError('charge must be a non-negative integer of micro-USD', { field: 'charged_micros' });
    }
    // The work's own entries and its charge commit together, in one ledger write.
    const entriesOf = (charged: Pick<SettleOutcome, 'reservation' | 'chargedMicros'>): AuditEntryInput[] => [...before, chargedEntry(charged), ...after];
    const carved = this.#leases?.claim(reservationId);
    let outcome: SettleOutcome | undefined;
    if (carved) {
      // The work stays in flight on its lease until its charge is committed, so the lease cannot
      // close before this charge is there to be counted.
      try {
        const leaseCharge = { leaseId: carved.lease.id, work: carved.work, chargedMicros };
        outcome = await this.#leaseCharges.submit(ctx, leaseCharge, entriesOf({ reservation: carved.work, chargedMicros }));
      } finally {
        this.#finishCarved(reservationId, Math.min(chargedMicros, carved.work.amountMicros));
      }
    } else {
      const recordCharge: WithinTransaction = async (tx, charged) => {
        await this.#audit.appendAll(ctx, entriesOf(charged), tx === undefined ? {} : { tx });
      };
      outcome = await this.#store.settle(ctx.tenantId, { reservationId, chargedMicros, now: this.#clock.now() }, recordCharge);
    }
    if (!outcome) throw new ReservationNotOpenError(reservationId);
    // A charge on an open lease touches no budget row (its budgets come back empty); others report them.
    if (!carved || outcome.budgets.length > 0) this.#seen.set(leaseKey(ctx.tenantId, outcome.reservation.scope), outcome.budgets);
    for (const crossing of outcome.crossings) await this.#onCrossing(ctx, crossing, outcome.reservation.scope);
    return outcome;
  }

  /** Returns a reservation unused (the work failed or never started). */
  async release(ctx: TenantContext, reservationId: string): Promise<boolean> {
    if (!this.#leases?.claim(reservationId)) return this.#store.release(ctx.tenantId, reservationId, this.#clock.now());
    this.#finishCarved(reservationId, 0);
    return true;
  }

  /** Ends carved work; the last work of a retired lease closes it, off the caller's path. */
  #finishCarved(reservationId: string, consumedMicros: number): void {
    const finished = this.#leases?.finish(reservationId, consumedMicros);
    if (finished?.closeLease) this.#background(this.#giveBack(finished.lease, { returnMicros: 0, close: true }));
  }

  /** Hands every lease of this process back to the store (work still in flight closes its lease when it settles). */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    // A renewal still under way may open a lease: let it, then hand that one back too.
    await Promise.all(this.#pending);
    await this.#retireLeases(undefined);
    await Promise.all(this.#pending);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Reserves `work` against this process's lease for its scope, opening a lease when there is
   * none (or it ran dry or aged) and the budget is far enough from its limit. Undefined means
   * "reserve it in the store on its own".
   */
  async #reserveFromLease(ctx: TenantContext, work: ReservationInput & { kind: ChargeKind }, now: Date): Promise<Reservation | undefined> {
    const leases = this.#leases;
    if (!leases) return undefined;
    const key = leaseKey(ctx.tenantId, work.scope);
    const carve = () => leases.take(key, { ...work, budgetIds: [] }, this.#clock.nowMs());
    const carved = carve();
    if (carved) {
      // Lease the successor while this one still has room, off the caller's path.
      if (!this.#closing && !this.#opening.has(key) && leases.dueForRenewal(key, now.getTime())) {
        this.#background(this.#singleFlightOpen(ctx, { key, work, now, renewing: true }).then(
          () => undefined,
          (error: unknown) => {
            this.#log.warn('budget.lease-renewal-failed', { tenantId: ctx.tenantId, error: errorMessage(error) });
          },
        ));
      }
      return carved;
    }
    // A burst of calls waiting on one opening can drain the new lease at once: those left over
    // lease again (one store call for a lease's worth of work) rather than each reserve in the
    // store on its own, which serialises on the budget's row and lets the backlog grow.
    for (let attempt = 0; attempt < MAX_LEASES_PER_MISS; attempt += 1) {
      const opened = await this.#singleFlightOpen(ctx, { key, work, now, renewing: false });
      const again = carve();
      if (again || !opened) return again;
    }
    return undefined;
  }

  /**
   * Opens a lease for `key`, or joins the opening already under way (concurrent misses share one
   * store call). @returns whether a lease was opened (none is near a limit or when refused).
   */
  async #singleFlightOpen(ctx: TenantContext, at: { key: string; work: ReservationInput; now: Date; renewing: boolean }): Promise<boolean> {
    const opening = this.#opening.get(at.key);
    if (opening) return opening;
    const open = this.#openLease(ctx, at);
    this.#opening.set(at.key, open);
    try {
      return await open;
    } finally {
      this.#opening.delete(at.key);
    }
  }

  /**
   * Leases a new slice for `key`. Replacing a spent or aged lease, it first gives back what the
   * old one holds unused, so this process never refuses itself; renewing one that still has
   * room, it leases first and swaps after, so work keeps flowing from the old one meanwhile.
   */
  async #openLease(ctx: TenantContext, at: { key: string; work: ReservationInput; now: Date; renewing: boolean }): Promise<boolean> {
    const { key, work, now, renewing } = at;
    const leases = this.#leases;
    if (!leases) return false;
    if (!renewing) {
      const retired = leases.retire(key);
      if (retired) await this.#giveBack(retired.lease, retired);
    }
    const size = leases.sizeFor(work.amountMicros, freeMicros(this.#seen.get(key)));
    if (size === undefined) return false;
    const outcome = await this.#store.reserve(ctx.tenantId, { id: this.#ids.next('res'), amountMicros: size, kind: 'lease', item: 'lease', scope: work.scope }, now);
    if (!outcome.ok) return false;
    this.#seen.set(key, outcome.budgets);
    // No await between retiring the old lease and opening the new one: work never finds neither.
    const replaced = leases.retire(key);
    leases.open(key, { id: outcome.reservation.id, tenantId: ctx.tenantId, scope: work.scope, budgetIds: outcome.reservation.budgetIds, amountMicros: size }, this.#clock.nowMs());
    if (replaced) this.#background(this.#giveBack(replaced.lease, replaced));
    this.#startSweeper();
    return true;
  }

  /**
   * Returns an unused part of a lease, or closes it: its charges move into spent, which may cross
   * alert thresholds. A failure only delays the give-back until the reaper releases the lease.
   */
  async #giveBack(lease: Lease, what: { returnMicros: number; close: boolean }): Promise<void> {
    if (!what.close && what.returnMicros <= 0) return;
    try {
      if (!what.close) {
        await this.#store.shrinkLease(lease.tenantId, { leaseId: lease.id, amountMicros: what.returnMicros }, this.#clock.now());
        return;
      }
      const closed = await this.#store.closeLease(lease.tenantId, lease.id, this.#clock.now());
      if (!closed) return;
      const ctx = systemContext(asTenantId(lease.tenantId), 'budget-lease');
      this.#seen.set(lease.key, closed.budgets);
      for (const crossing of closed.crossings) await this.#onCrossing(ctx, crossing, lease.scope);
    } catch (error) {
      this.#log.warn('budget.lease-return-failed', { tenantId: lease.tenantId, leaseId: lease.id, error: errorMessage(error) });
    }
  }

  /** Retires this process's leases (of one tenant, or all), giving their unused headroom back. */
  async #retireLeases(tenantId: string | undefined): Promise<void> {
    const leases = this.#leases;
    if (!leases) return;
    for (const key of leases.keys()) {
      if (tenantId !== undefined && !key.startsWith(`${tenantId}|`)) continue;
      const retired = leases.retire(key);
      if (retired) await this.#giveBack(retired.lease, retired);
    }
  }

  #background(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /** While leases are open, retires the aged ones every lease lifetime, so an idle process does not hold headroom. */
  #startSweeper(): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const leases = this.#leases;
      if (!leases) return;
      const expired = leases.expiredKeys(this.#clock.nowMs());
      if (expired.length === 0 && leases.keys().length === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
        return;
      }
      for (const key of expired) {
        const retired = leases.retire(key);
        if (retired) this.#background(this.#giveBack(retired.lease, retired));
      }
    }, this.#leaseMaxAgeMs);
    this.#sweeper.unref();
  }

  /**
   * Releases reservations left open longer than `maxAgeMs` (their process died before settling),
   * so a crash cannot hold budget forever; audits each release per tenant. Returns the count.
   */
  async releaseStaleReservations(maxAgeMs: number): Promise<number> {
    const now = this.#clock.now();
    const released = await this.#store.releaseStale(new Date(now.getTime() - maxAgeMs), now);
    for (const { tenantId, released: count } of released) {
      await this.#audit.append(systemContext(asTenantId(tenantId), 'budget-reaper'), {
        kind: 'budget.reservations_expired',
        payload: { released: count, max_age_ms: maxAgeMs },
      });
    }
    return released.reduce((n, r) => n + r.released, 0);
  }

  /** The internal price of one tool call. @throws {PriceUnknownError} */
  toolCallPrice(tool: string): number {
    return toolCallPrice(this.#prices, tool);
  }

  /** The internal price of sandbox seconds. @throws {PriceUnknownError} */
  vmSecondsPrice(vmType: string, seconds: number): number {
    return vmSecondsPrice(this.#prices, vmType, seconds);
  }

  costs(ctx: TenantContext, by: CostDimension, range: { from?: Date; to?: Date } = {}): Promise<CostRow[]> {
    return this.#store.costs(ctx.tenantId, by, range);
  }

  notifications(ctx: TenantContext): Promise<BudgetNotification[]> {
    return this.#store.notifications(ctx.tenantId);
  }

  /** Declares what a task was worth, for ROI. */
  async setTaskValue(ctx: TenantContext, taskId: string, valueMicros: number): Promise<void> {
    await this.#store.setTaskValue(ctx.tenantId, taskId, valueMicros);
    await this.#audit.append(ctx, { kind: 'budget.task_valued', subject: { task_id: taskId }, payload: { value_micros: valueMicros } });
  }

  /** ROI of the tenant's valued tasks: (value - cost) / cost; null while nothing was spent. */
  async roi(ctx: TenantContext): Promise<{ costMicros: number; valueMicros: number; tasks: number; roi: number | null }> {
    const e = await this.#store.taskEconomics(ctx.tenantId);
    return { ...e, roi: e.costMicros === 0 ? null : (e.valueMicros - e.costMicros) / e.costMicros };
  }

  /** Fires each threshold a charge crossed; `scope` is the work's (a sub-agent's budget kills its task). */
  async #onCrossing(ctx: TenantContext, crossing: ThresholdCrossing, scope: BudgetScopeRef): Promise<void> {
    const b = crossing.budget;
    for (const level of [75, 90, 100].filter((l) => l > crossing.fromLevel && l <= crossing.toLevel)) {
      const message = `Budget ${b.scope}:${b.scopeId} reached ${String(level)} % (${usd(b.spentMicros)} of ${usd(b.limitMicros)})`;
      this.#log.warn('budget.threshold-reached', { tenantId: ctx.tenantId, budgetId: b.id, level });
      // The charge is already committed: an event bus that is down must not also skip the
      // ledger entry, the notification or the cancellation below, which are the safety net.
      try {
        await this.#events.publish(ctx, {
          type: 'budget.threshold_reached', budgetId: b.id, scope: b.scope, scopeId: b.scopeId, level, spentMicros: b.spentMicros, limitMicros: b.limitMicros,
        });
      } catch (error) {
        this.#log.error('budget.event-publish-failed', { tenantId: ctx.tenantId, budgetId: b.id, level, error: errorMessage(error) });
      }
      await this.#audit.append(ctx, { kind: 'budget.threshold_reached', subject: { budget_id: b.id }, payload: { level, spent_micros: b.spentMicros, limit_micros: b.limitMicros } });
      if (level === 75) {
        await this.#store.addNotification(ctx.tenantId, { id: this.#ids.next('ntf'), budgetId: b.id, level, message, createdAt: this.#clock.now() });
      }
      if (level === 100) await this.#cancel(ctx, { budget: b, scope, reason: message });
    }
  }

  async #cancel(ctx: TenantContext, what: { budget: BudgetRecord; scope: BudgetScopeRef; reason: string }): Promise<void> {
    const { budget: b, scope, reason } = what;
    switch (b.scope) {
      case 'tenant':
        await this.#canceller.cancelTenantTasks(ctx, reason);
        break;
      case 'agent':
        await this.#canceller.cancelAgentTasks(ctx, b.scopeId, reason);
        break;
      case 'task':
        await this.#canceller.cancelTask(ctx, b.scopeId, reason);
        break;
      case 'subagent':
        // A sub-agent runs inside a task: exhausting its budget kills that task.
        if (scope.taskId !== undefined) await this.#canceller.cancelTask(ctx, scope.taskId, reason);
        break;
    }
    await this.#audit.append(ctx, { kind: 'budget.work_cancelled', subject: { budget_id: b.id }, payload: { scope: b.scope, scope_id: b.scopeId, reason } });
  }
}

/** The `budget.charged` entry of a settled piece of work. */
function chargedEntry({ reservation, chargedMicros }: Pick<SettleOutcome, 'reservation' | 'chargedMicros'>): AuditEntryInput {
  return {
    kind: 'budget.charged',
    subject: {
      reservation_id: reservation.id,
      ...(reservation.scope.taskId === undefined ? {} : { task_id: reservation.scope.taskId }),
    },
    payload: {
      kind: reservation.kind,
      item: reservation.item,
      charged_micros: chargedMicros,
      reserved_micros: reservation.amountMicros,
      budget_ids: reservation.budgetIds.join(','),
      agent_id: reservation.scope.agentId ?? null,
    },
  };
}

/** The least any of `budgets` still has free (limit minus spent and reserved): unlimited without budgets, undefined when unknown. */
function freeMicros(budgets: readonly BudgetRecord[] | undefined): number | undefined {
  if (!budgets) return undefined;
  return budgets.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...budgets.map((b) => b.limitMicros - b.spentMicros - b.reservedMicros));
}
