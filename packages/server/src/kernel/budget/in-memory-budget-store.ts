import {
  levelOf,
  periodStart,
  type BudgetNotification,
  type BudgetPeriod,
  type BudgetRecord,
  type BudgetScope,
  type BudgetScopeRef,
  type BudgetStore,
  type BudgetView,
  type CostDimension,
  type CostRow,
  type LeaseCharge,
  type Reservation,
  type ReservationInput,
  type ReserveOutcome,
  type SettleOutcome,
  type ThresholdCrossing,
  type WithinBatch,
  type WithinTransaction,
  withPending,
} from './budget-store.js';

interface StoredReservation extends Reservation {
  leaseId?: string;
  createdAt: Date;
  status: 'open' | 'settled' | 'released';
  chargedMicros: number;
  settledAt: Date | undefined;
}

interface TenantState {
  budgets: Map<string, BudgetRecord>;
  reservations: Map<string, StoredReservation>;
  notifications: BudgetNotification[];
  values: Map<string, number>;
}

/**
 * The BudgetStore in memory, for tests and single-process tools. Each method runs to completion
 * without awaiting, so it is atomic within one process; it passes the same contract suite as
 * PgBudgetStore, but only the PostgreSQL store is atomic across processes.
 */
export class InMemoryBudgetStore implements BudgetStore {
  readonly #tenants = new Map<string, TenantState>();

  #tenant(tenantId: string): TenantState {
    let state = this.#tenants.get(tenantId);
    if (!state) {
      state = { budgets: new Map(), reservations: new Map(), notifications: [], values: new Map() };
      this.#tenants.set(tenantId, state);
    }
    return state;
  }

  #rollover(state: TenantState, now: Date): void {
    for (const [id, b] of state.budgets) {
      if (b.period === 'total') continue;
      const start = periodStart(b.period, now);
      if (b.periodStart < start) state.budgets.set(id, { ...b, periodStart: start, spentMicros: 0, alertLevel: 0 });
    }
  }

  #applicable(state: TenantState, scope: BudgetScopeRef): BudgetRecord[] {
    const wanted = (b: BudgetRecord): boolean =>
      b.scope === 'tenant' ||
      (b.scope === 'agent' && b.scopeId === scope.agentId) ||
      (b.scope === 'task' && b.scopeId === scope.taskId) ||
      (b.scope === 'subagent' && b.scopeId === scope.subAgentId);
    return [...state.budgets.values()].filter(wanted).sort((a, b) => a.id.localeCompare(b.id));
  }

  upsert(tenantId: string, budget: { id: string; scope: BudgetScope; scopeId: string; period: BudgetPeriod; limitMicros: number }, now: Date): Promise<BudgetRecord> {
    const state = this.#tenant(tenantId);
    const existing = [...state.budgets.values()].find((b) => b.scope === budget.scope && b.scopeId === budget.scopeId);
    const samePeriod = existing?.period === budget.period;
    const record: BudgetRecord = {
      id: existing?.id ?? budget.id,
      scope: budget.scope,
      scopeId: budget.scopeId,
      period: budget.period,
      periodStart: samePeriod && existing ? existing.periodStart : periodStart(budget.period, now),
      limitMicros: budget.limitMicros,
      spentMicros: samePeriod && existing ? existing.spentMicros : 0,
      reservedMicros: existing?.reservedMicros ?? 0,
      alertLevel: 0,
    };
    state.budgets.set(record.id, record);
    return Promise.resolve(record);
  }

  list(tenantId: string, now: Date): Promise<BudgetView[]> {
    const state = this.#tenant(tenantId);
    this.#rollover(state, now);
    const order = ['tenant', 'agent', 'task', 'subagent'];
    const reservations = [...state.reservations.values()];
    const leases = reservations.filter((r) => r.kind === 'lease' && r.status === 'open');
    const pendingOf = (leaseId: string) => reservations.filter((r) => r.leaseId === leaseId && r.status === 'settled').reduce((n, r) => n + r.chargedMicros, 0);
    return Promise.resolve(
      [...state.budgets.values()]
        .sort((a, b) => order.indexOf(a.scope) - order.indexOf(b.scope) || a.scopeId.localeCompare(b.scopeId))
        .map((b) => {
          const covering = leases.filter((l) => l.budgetIds.includes(b.id));
          return withPending(b, { leasedMicros: covering.reduce((n, l) => n + l.amountMicros, 0), pendingMicros: covering.reduce((n, l) => n + pendingOf(l.id), 0) });
        }),
    );
  }

  applicable(tenantId: string, scope: BudgetScopeRef, now: Date): Promise<BudgetRecord[]> {
    const state = this.#tenant(tenantId);
    this.#rollover(state, now);
    return Promise.resolve(this.#applicable(state, scope));
  }

  reserve(tenantId: string, input: ReservationInput, now: Date): Promise<ReserveOutcome> {
    const state = this.#tenant(tenantId);
    this.#rollover(state, now);
    const budgets = this.#applicable(state, input.scope);
    const refused = budgets.find((b) => b.spentMicros + b.reservedMicros + input.amountMicros > b.limitMicros);
    if (refused) return Promise.resolve({ ok: false, budget: refused });
    const updated = budgets.map((b) => ({ ...b, reservedMicros: b.reservedMicros + input.amountMicros }));
    for (const b of updated) state.budgets.set(b.id, b);
    const reservation: StoredReservation = { ...input, budgetIds: budgets.map((b) => b.id), createdAt: now, status: 'open', chargedMicros: 0, settledAt: undefined };
    state.reservations.set(input.id, reservation);
    return Promise.resolve({ ok: true, reservation: { ...input, budgetIds: reservation.budgetIds }, budgets: updated });
  }

  async settle(tenantId: string, charge: { reservationId: string; chargedMicros: number; now: Date }, within?: WithinTransaction): Promise<SettleOutcome | undefined> {
    const state = this.#tenant(tenantId);
    const reservation = state.reservations.get(charge.reservationId);
    if (reservation?.status !== 'open' || reservation.kind === 'lease') return undefined;
    reservation.status = 'settled';
    reservation.chargedMicros = charge.chargedMicros;
    reservation.settledAt = charge.now;
    const work = { id: reservation.id, amountMicros: reservation.amountMicros, kind: reservation.kind, item: reservation.item, scope: reservation.scope, budgetIds: reservation.budgetIds };
    const outcome: SettleOutcome = { reservation: work, chargedMicros: charge.chargedMicros, ...this.#charge(state, { budgetIds: reservation.budgetIds, unreserve: reservation.amountMicros, charged: charge.chargedMicros }) };
    await within?.(undefined, outcome);
    return outcome;
  }

  async settleFromLeases(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }, within?: WithinBatch): Promise<SettleOutcome[]> {
    const { charges, now } = batch;
    // The caller's entries first: if they fail, nothing is charged (as a rolled-back transaction).
    await within?.(undefined);
    const state = this.#tenant(tenantId);
    return charges.map(({ leaseId, work, chargedMicros }): SettleOutcome => {
      const lease = state.reservations.get(leaseId);
      state.reservations.set(work.id, { ...work, leaseId, createdAt: now, status: 'settled', chargedMicros, settledAt: now });
      const leaseOpen = lease?.kind === 'lease' && lease.status === 'open';
      const moved = leaseOpen ? { budgets: [], crossings: [] } : this.#charge(state, { budgetIds: work.budgetIds, unreserve: 0, charged: chargedMicros });
      return { reservation: work, chargedMicros, ...moved };
    });
  }

  shrinkLease(tenantId: string, request: { leaseId: string; amountMicros: number }): Promise<boolean> {
    const state = this.#tenant(tenantId);
    const lease = state.reservations.get(request.leaseId);
    if (lease?.kind !== 'lease' || lease.status !== 'open' || lease.amountMicros < request.amountMicros) return Promise.resolve(false);
    state.reservations.set(lease.id, { ...lease, amountMicros: lease.amountMicros - request.amountMicros });
    for (const id of lease.budgetIds) {
      const b = state.budgets.get(id);
      if (b) state.budgets.set(id, { ...b, reservedMicros: Math.max(0, b.reservedMicros - request.amountMicros) });
    }
    return Promise.resolve(true);
  }

  closeLease(tenantId: string, leaseId: string, now: Date): Promise<{ budgets: BudgetRecord[]; crossings: ThresholdCrossing[] } | undefined> {
    const state = this.#tenant(tenantId);
    const lease = state.reservations.get(leaseId);
    if (lease?.kind !== 'lease' || lease.status !== 'open') return Promise.resolve(undefined);
    const charged = [...state.reservations.values()].filter((r) => r.leaseId === leaseId && r.status === 'settled').reduce((n, r) => n + r.chargedMicros, 0);
    state.reservations.set(leaseId, { ...lease, status: 'released', chargedMicros: charged, settledAt: now });
    return Promise.resolve(this.#charge(state, { budgetIds: lease.budgetIds, unreserve: lease.amountMicros, charged }));
  }

  /** Moves `charged` into spent and `unreserve` out of reserved on each budget; reports alert rises. */
  #charge(state: TenantState, charge: { budgetIds: readonly string[]; unreserve: number; charged: number }): { budgets: BudgetRecord[]; crossings: ThresholdCrossing[] } {
    const budgets: BudgetRecord[] = [];
    const crossings: ThresholdCrossing[] = [];
    for (const id of charge.budgetIds) {
      const b = state.budgets.get(id);
      if (!b) continue;
      let next: BudgetRecord = { ...b, reservedMicros: Math.max(0, b.reservedMicros - charge.unreserve), spentMicros: b.spentMicros + charge.charged };
      const level = levelOf(next);
      if (level > next.alertLevel) {
        crossings.push({ budget: { ...next, alertLevel: level }, fromLevel: next.alertLevel, toLevel: level });
        next = { ...next, alertLevel: level };
      }
      state.budgets.set(id, next);
      budgets.push(next);
    }
    return { budgets, crossings };
  }

  async release(tenantId: string, reservationId: string, now: Date): Promise<boolean> {
    const state = this.#tenant(tenantId);
    const reservation = state.reservations.get(reservationId);
    if (reservation?.status !== 'open') return false;
    if (reservation.kind === 'lease') return (await this.closeLease(tenantId, reservationId, now)) !== undefined;
    reservation.status = 'released';
    reservation.settledAt = now;
    for (const id of reservation.budgetIds) {
      const b = state.budgets.get(id);
      if (b) state.budgets.set(id, { ...b, reservedMicros: Math.max(0, b.reservedMicros - reservation.amountMicros) });
    }
    return true;
  }

  async releaseStale(before: Date, now: Date): Promise<{ tenantId: string; released: number }[]> {
    const out: { tenantId: string; released: number }[] = [];
    for (const [tenantId, state] of this.#tenants) {
      const stale = [...state.reservations.values()].filter((r) => r.status === 'open' && r.createdAt < before);
      let released = 0;
      for (const r of stale) if (await this.release(tenantId, r.id, now)) released++;
      if (released > 0) out.push({ tenantId, released });
    }
    return out;
  }

  addNotification(tenantId: string, notification: BudgetNotification): Promise<void> {
    this.#tenant(tenantId).notifications.push(notification);
    return Promise.resolve();
  }

  notifications(tenantId: string): Promise<BudgetNotification[]> {
    return Promise.resolve([...this.#tenant(tenantId).notifications]);
  }

  costs(tenantId: string, by: CostDimension, range: { from?: Date; to?: Date }): Promise<CostRow[]> {
    const rows = new Map<string, CostRow>();
    for (const r of this.#tenant(tenantId).reservations.values()) {
      if (r.status !== 'settled' || !r.settledAt) continue;
      if (range.from && r.settledAt < range.from) continue;
      if (range.to && r.settledAt >= range.to) continue;
      if (by === 'model' && r.kind !== 'llm') continue;
      const key = {
        tenant: tenantId,
        agent: r.scope.agentId ?? '-',
        task: r.scope.taskId ?? '-',
        model: r.item,
        day: r.settledAt.toISOString().slice(0, 10),
      }[by];
      const row = rows.get(key) ?? { key, costMicros: 0, count: 0 };
      rows.set(key, { key, costMicros: row.costMicros + r.chargedMicros, count: row.count + 1 });
    }
    return Promise.resolve([...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  }

  setTaskValue(tenantId: string, taskId: string, valueMicros: number): Promise<void> {
    this.#tenant(tenantId).values.set(taskId, valueMicros);
    return Promise.resolve();
  }

  taskEconomics(tenantId: string): Promise<{ costMicros: number; valueMicros: number; tasks: number }> {
    const state = this.#tenant(tenantId);
    let cost = 0;
    for (const r of state.reservations.values()) {
      if (r.status === 'settled' && r.scope.taskId !== undefined && state.values.has(r.scope.taskId)) cost += r.chargedMicros;
    }
    const values = [...state.values.values()];
    return Promise.resolve({ costMicros: cost, valueMicros: values.reduce((n, v) => n + v, 0), tasks: values.length });
  }
}
