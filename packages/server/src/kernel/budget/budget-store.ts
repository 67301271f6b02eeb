import type { CompiledQuery } from 'kysely';

import type { DbTransaction } from '../../infra/database/index.js';

export type BudgetScope = 'tenant' | 'agent' | 'task' | 'subagent';
export const BUDGET_SCOPES: readonly BudgetScope[] = ['tenant', 'agent', 'task', 'subagent'];
export type BudgetPeriod = 'day' | 'month' | 'total';
export type ChargeKind = 'llm' | 'tool' | 'vm_seconds';
/** A reservation is either for one piece of work (a charge kind) or a headroom lease a process carves work from. */
export type ReservationKind = ChargeKind | 'lease';

/** One budget; amounts in micro-USD. `committed = spent + reserved` never exceeds `limit` at reserve time. */
export interface BudgetRecord {
  readonly id: string;
  readonly scope: BudgetScope;
  readonly scopeId: string;
  readonly period: BudgetPeriod;
  readonly periodStart: Date;
  readonly limitMicros: number;
  readonly spentMicros: number;
  readonly reservedMicros: number;
  /** The highest alert threshold (percent: 0, 75, 90, 100) already signalled this period. */
  readonly alertLevel: number;
}

/** A budget as listed: with the part of `reservedMicros` that processes hold as headroom leases. */
export interface BudgetView extends BudgetRecord {
  readonly leasedMicros: number;
}

/** A budget as listed: charges on open leases counted as spent, and taken out of what the leases hold. */
export function withPending(budget: BudgetRecord, leases: { leasedMicros: number; pendingMicros: number }): BudgetView {
  const { leasedMicros, pendingMicros } = leases;
  return {
    ...budget,
    spentMicros: budget.spentMicros + pendingMicros,
    reservedMicros: Math.max(0, budget.reservedMicros - pendingMicros),
    leasedMicros: Math.max(0, leasedMicros - pendingMicros),
  };
}

/** Which budgets a piece of work draws on, beside the tenant's own (the hierarchy). */
export interface BudgetScopeRef {
  readonly agentId?: string;
  readonly taskId?: string;
  readonly subAgentId?: string;
}

export interface ReservationInput {
  readonly id: string;
  readonly amountMicros: number;
  readonly kind: ReservationKind;
  readonly scope: BudgetScopeRef;
  /** What is charged: a model id, a tool name or a VM profile. */
  readonly item: string;
}

export interface Reservation extends ReservationInput {
  readonly budgetIds: readonly string[];
}

export type ReserveOutcome =
  | { readonly ok: true; readonly reservation: Reservation; readonly budgets: readonly BudgetRecord[] }
  | { readonly ok: false; readonly budget: BudgetRecord };

/** A budget whose alert level rose in this settlement (exactly one settlement sees each rise). */
export interface ThresholdCrossing {
  readonly budget: BudgetRecord;
  readonly fromLevel: number;
  readonly toLevel: number;
}

export interface SettleOutcome {
  readonly reservation: Reservation & { readonly kind: ChargeKind };
  readonly chargedMicros: number;
  readonly budgets: readonly BudgetRecord[];
  readonly crossings: readonly ThresholdCrossing[];
}

/** The charge of one piece of work carved from a lease. */
export interface LeaseCharge {
  readonly leaseId: string;
  readonly work: Reservation & { readonly kind: ChargeKind };
  readonly chargedMicros: number;
}

/** The alert thresholds of spec §12, in percent of the limit. */
export const ALERT_LEVELS = [75, 90, 100] as const;

/** The highest threshold a budget has reached. */
export function levelOf(budget: { spentMicros: number; limitMicros: number }): number {
  const percent = budget.limitMicros === 0 ? (budget.spentMicros > 0 ? 100 : 0) : (budget.spentMicros / budget.limitMicros) * 100;
  return ALERT_LEVELS.filter((level) => percent >= level).at(-1) ?? 0;
}

export type CostDimension = 'tenant' | 'agent' | 'task' | 'model' | 'day';
export interface CostRow {
  readonly key: string;
  readonly costMicros: number;
  readonly count: number;
}

export interface BudgetNotification {
  readonly id: string;
  readonly budgetId: string;
  readonly level: number;
  readonly message: string;
  readonly createdAt: Date;
}

/** Runs inside the transaction of a batch of lease charges (their audit entries commit with them). */
export type WithinBatch = (tx: DbTransaction | undefined) => Promise<void>;

/** Runs inside the store's transaction (so an audit entry commits with the charge it records), given what is charged. */
export type WithinTransaction = (tx: DbTransaction | undefined, charged: Pick<SettleOutcome, 'reservation' | 'chargedMicros'>) => Promise<void>;

/**
 * Persistence of budgets, reservations and charges. `reserve` and `settle` are atomic across
 * processes: two concurrent reservations can never both pass a limit that only one fits under.
 */
export interface BudgetStore {
  upsert(tenantId: string, budget: { id: string; scope: BudgetScope; scopeId: string; period: BudgetPeriod; limitMicros: number }, now: Date): Promise<BudgetRecord>;
  list(tenantId: string, now: Date): Promise<BudgetView[]>;
  /** Budgets that `scope` draws on (tenant's, plus agent/task/sub-agent ones that exist), rolled to `now`'s period. */
  applicable(tenantId: string, scope: BudgetScopeRef, now: Date): Promise<BudgetRecord[]>;
  reserve(tenantId: string, input: ReservationInput, now: Date): Promise<ReserveOutcome>;
  /** @returns undefined when the reservation is not open. */
  settle(tenantId: string, charge: { reservationId: string; chargedMicros: number; now: Date }, within?: WithinTransaction): Promise<SettleOutcome | undefined>;
  release(tenantId: string, reservationId: string, now: Date): Promise<boolean>;
  /**
   * Records charges of work carved from leases (`lease` reservations), all in one transaction.
   * While its lease is open a charge is only recorded: the lease's reservation covers it, and
   * `closeLease` moves the lease's charges into spent. If a lease is closed already (the reaper
   * released it), its charges go straight into spent (`budgets` and `crossings` then say what
   * moved). `within` runs in the same transaction (for the charges' audit entries). Outcomes
   * come back in the charges' order.
   */
  settleFromLeases(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }, within?: WithinBatch): Promise<SettleOutcome[]>;
  /**
   * `settleFromLeases` for the common case, in one round trip where the store can: records the
   * charges and runs `alsoWrite` (the charges' audit entries, see `AuditSink.prepareAppend`) in
   * one transaction sent without waiting for answers. It refuses the whole write when a lease is
   * no longer open (the charges must then move into spent, which needs the budgets' rows read
   * and locked), throwing an error that `lostToConcurrentWrite` recognises; nothing is then
   * recorded, and `settleFromLeases` handles the batch. Absent where the store has no such path.
   */
  settleOnOpenLeases?(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }, alsoWrite: readonly CompiledQuery[]): Promise<SettleOutcome[]>;
  /** Gives `amountMicros` an open lease holds unused back to its budgets. @returns false when it is not open or holds less. */
  shrinkLease(tenantId: string, lease: { leaseId: string; amountMicros: number }, now: Date): Promise<boolean>;
  /**
   * Closes an open lease: its charges move into spent and what it held leaves reserved (`release`
   * does the same for a lease). @returns undefined when it is not open.
   */
  closeLease(tenantId: string, leaseId: string, now: Date): Promise<{ budgets: BudgetRecord[]; crossings: ThresholdCrossing[] } | undefined>;
  /**
   * Releases, in every tenant, reservations still open that were made before `before` (their
   * process died between reserve and settle); returns how many, per tenant.
   */
  releaseStale(before: Date, now: Date): Promise<{ tenantId: string; released: number }[]>;
  addNotification(tenantId: string, notification: BudgetNotification): Promise<void>;
  notifications(tenantId: string): Promise<BudgetNotification[]>;
  costs(tenantId: string, by: CostDimension, range: { from?: Date; to?: Date }): Promise<CostRow[]>;
  setTaskValue(tenantId: string, taskId: string, valueMicros: number): Promise<void>;
  /** Total settled cost and declared value of tasks that have a value. */
  taskEconomics(tenantId: string): Promise<{ costMicros: number; valueMicros: number; tasks: number }>;
}

/** Start of the period containing `now` (UTC). */
export function periodStart(period: BudgetPeriod, now: Date): Date {
  if (period === 'day') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (period === 'month') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return new Date(0);
}
