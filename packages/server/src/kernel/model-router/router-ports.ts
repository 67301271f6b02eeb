import type { AuditEntryInput } from '../../infra/audit/index.js';
import type { TenantContext } from '../../shared/context/index.js';

/** Which budgets a call draws on (the budget engine's scope reference). */
export interface CallScope {
  readonly agentId?: string;
  readonly taskId?: string;
  readonly subAgentId?: string;
}

/**
 * What the router needs from the budget engine; `kernel/budget`'s BudgetService satisfies it.
 * `reserve` must throw (BUDGET_EXHAUSTED) when the amount does not fit.
 */
export interface RouterBudget {
  pressure(ctx: TenantContext, scope?: CallScope): Promise<{ readonly utilisation: number; readonly budgetId: string | undefined }>;
  reserve(ctx: TenantContext, request: { amountMicros: number; kind: 'llm'; item: string; scope?: CallScope }): Promise<{ readonly id: string }>;
  /** Settles at the real cost; the `before`/`after` audit entries commit in the same transaction as the charge. */
  settleRecording(
    ctx: TenantContext,
    charge: { reservationId: string; chargedMicros: number; before?: readonly AuditEntryInput[]; after?: readonly AuditEntryInput[] },
  ): Promise<unknown>;
  release(ctx: TenantContext, reservationId: string): Promise<boolean>;
}

/**
 * Success rates per model from the learning engine (a later issue). A rate in [0, 1] moves a
 * model ahead of same-tier peers; undefined means "no evidence".
 */
export interface SuccessRateSource {
  successRate(tenantId: string, modelId: string): number | undefined;
}

/** No evidence for any model: routing falls back to price order. */
export const noSuccessRates: SuccessRateSource = { successRate: () => undefined };
