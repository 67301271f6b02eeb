import type { AuditSink } from '../../infra/audit/index.js';
import { asTenantId, systemContext, type TenantContext } from '../../shared/context/index.js';
import { ValidationError } from '../../shared/errors/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import type {
  BudgetNotification,
  BudgetPeriod,
  BudgetRecord,
  BudgetScope,
  BudgetScopeRef,
  BudgetStore,
  ChargeKind,
  CostDimension,
  CostRow,
  Reservation,
  SettleOutcome,
  ThresholdCrossing,
} from './budget-store.js';
import { DEFAULT_PRICE_LIST, toolCallPrice, vmSecondsPrice, type PriceList } from './economics.js';
import { BudgetExhaustedError, ReservationNotOpenError, usd } from './errors.js';
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
}

export interface ReserveRequest {
  readonly amountMicros: number;
  readonly kind: ChargeKind;
  readonly item: string;
  readonly scope?: BudgetScopeRef;
}

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
 */
export class BudgetService {
  readonly #store: BudgetStore;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #log: Logger;
  readonly #events: BudgetEventSink;
  readonly #canceller: TaskCanceller;
  readonly #prices: PriceList;

  constructor(deps: BudgetServiceDeps) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#log = deps.logger.child({ module: 'budget' });
    this.#events = deps.events;
    this.#canceller = deps.canceller;
    this.#prices = deps.priceList ?? DEFAULT_PRICE_LIST;
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
    await this.#audit.append(ctx, {
      kind: 'budget.set',
      subject: { budget_id: record.id },
      payload: { scope: record.scope, scope_id: record.scopeId, period: record.period, limit_micros: record.limitMicros },
    });
    return record;
  }

  listBudgets(ctx: TenantContext): Promise<BudgetRecord[]> {
    return this.#store.list(ctx.tenantId, this.#clock.now());
  }

  /** The pressure of the tightest budget that work in `scope` draws on. */
  async pressure(ctx: TenantContext, scope: BudgetScopeRef = {}): Promise<BudgetPressure> {
    const budgets = await this.#store.applicable(ctx.tenantId, scope, this.#clock.now());
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
    const outcome = await this.#store.reserve(
      ctx.tenantId,
      { id: this.#ids.next('res'), amountMicros: request.amountMicros, kind: request.kind, item: request.item, scope: request.scope ?? {} },
      this.#clock.now(),
    );
    if (outcome.ok) return outcome.reservation;
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
  async settle(ctx: TenantContext, reservationId: string, chargedMicros: number): Promise<SettleOutcome> {
    if (!Number.isSafeInteger(chargedMicros) || chargedMicros < 0) {
      throw new ValidationError('charge must be a non-negative integer of micro-USD', { field: 'charged_micros' });
    }
    const outcome = await this.#store.settle(ctx.tenantId, { reservationId, chargedMicros, now: this.#clock.now() }, async (tx, settled) => {
      await this.#audit.append(
        ctx,
        {
          kind: 'budget.charged',
          subject: {
            reservation_id: reservationId,
            ...(settled.reservation.scope.taskId === undefined ? {} : { task_id: settled.reservation.scope.taskId }),
          },
          payload: {
            kind: settled.reservation.kind,
            item: settled.reservation.item,
            charged_micros: chargedMicros,
            reserved_micros: settled.reservation.amountMicros,
            budget_ids: settled.reservation.budgetIds.join(','),
            agent_id: settled.reservation.scope.agentId ?? null,
          },
        },
        tx === undefined ? {} : { tx },
      );
    });
    if (!outcome) throw new ReservationNotOpenError(reservationId);
    for (const crossing of outcome.crossings) await this.#onCrossing(ctx, crossing, outcome.reservation);
    return outcome;
  }

  /** Returns a reservation unused (the work failed or never started). */
  async release(ctx: TenantContext, reservationId: string): Promise<boolean> {
    return this.#store.release(ctx.tenantId, reservationId, this.#clock.now());
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

  async #onCrossing(ctx: TenantContext, crossing: ThresholdCrossing, reservation: Reservation): Promise<void> {
    const b = crossing.budget;
    for (const level of [75, 90, 100].filter((l) => l > crossing.fromLevel && l <= crossing.toLevel)) {
      const message = `Budget ${b.scope}:${b.scopeId} reached ${String(level)} % (${usd(b.spentMicros)} of ${usd(b.limitMicros)})`;
      this.#log.warn('budget.threshold-reached', { tenantId: ctx.tenantId, budgetId: b.id, level });
      await this.#events.publish(ctx, {
        type: 'budget.threshold_reached', budgetId: b.id, scope: b.scope, scopeId: b.scopeId, level, spentMicros: b.spentMicros, limitMicros: b.limitMicros,
      });
      await this.#audit.append(ctx, { kind: 'budget.threshold_reached', subject: { budget_id: b.id }, payload: { level, spent_micros: b.spentMicros, limit_micros: b.limitMicros } });
      if (level === 75) {
        await this.#store.addNotification(ctx.tenantId, { id: this.#ids.next('ntf'), budgetId: b.id, level, message, createdAt: this.#clock.now() });
      }
      if (level === 100) await this.#cancel(ctx, { budget: b, reservation, reason: message });
    }
  }

  async #cancel(ctx: TenantContext, what: { budget: BudgetRecord; reservation: Reservation; reason: string }): Promise<void> {
    const { budget: b, reservation, reason } = what;
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
        if (reservation.scope.taskId !== undefined) await this.#canceller.cancelTask(ctx, reservation.scope.taskId, reason);
        break;
    }
    await this.#audit.append(ctx, { kind: 'budget.work_cancelled', subject: { budget_id: b.id }, payload: { scope: b.scope, scope_id: b.scopeId, reason } });
  }
}
