import type { TenantContext } from '../../shared/context/index.js';
import type { Logger } from '../../shared/ports/index.js';

/** Events the budget engine raises; the bus (a later issue) implements this port. */
export interface BudgetEvent {
  readonly type: 'budget.threshold_reached';
  readonly budgetId: string;
  readonly scope: string;
  readonly scopeId: string;
  readonly level: number;
  readonly spentMicros: number;
  readonly limitMicros: number;
}

export interface BudgetEventSink {
  publish(ctx: TenantContext, event: BudgetEvent): Promise<void>;
}

/** Cancels running work when a budget runs out; the orchestrator (a later issue) implements it. */
export interface TaskCanceller {
  /** Cancels every active task of the tenant (tenant budget at 100 %). */
  cancelTenantTasks(ctx: TenantContext, reason: string): Promise<void>;
  /** Cancels every active task of one agent (agent budget at 100 %). */
  cancelAgentTasks(ctx: TenantContext, agentId: string, reason: string): Promise<void>;
  /** Kills one task (its task or sub-agent budget at 100 %). */
  cancelTask(ctx: TenantContext, taskId: string, reason: string): Promise<void>;
}

/** Records what it is given; for tests and for deployments before the bus/orchestrator exist. */
export class RecordingBudgetEvents implements BudgetEventSink {
  readonly events: { tenantId: string; event: BudgetEvent }[] = [];
  publish(ctx: TenantContext, event: BudgetEvent): Promise<void> {
    this.events.push({ tenantId: ctx.tenantId, event });
    return Promise.resolve();
  }
}

export class RecordingTaskCanceller implements TaskCanceller {
  readonly calls: { tenantId: string; target: 'tenant' | 'agent' | 'task'; id: string; reason: string }[] = [];
  cancelTenantTasks(ctx: TenantContext, reason: string): Promise<void> {
    this.calls.push({ tenantId: ctx.tenantId, target: 'tenant', id: ctx.tenantId, reason });
    return Promise.resolve();
  }
  cancelAgentTasks(ctx: TenantContext, agentId: string, reason: string): Promise<void> {
    this.calls.push({ tenantId: ctx.tenantId, target: 'agent', id: agentId, reason });
    return Promise.resolve();
  }
  cancelTask(ctx: TenantContext, taskId: string, reason: string): Promise<void> {
    this.calls.push({ tenantId: ctx.tenantId, target: 'task', id: taskId, reason });
    return Promise.resolve();
  }
}

/**
 * Publishes budget events to the log until the bus (a later issue) is plugged in. A real outlet:
 * operators see every threshold; the notification record is written by the service itself.
 */
export class LoggingBudgetEvents implements BudgetEventSink {
  readonly #log: Logger;
  constructor(logger: Logger) {
    this.#log = logger.child({ module: 'budget-events' });
  }
  publish(ctx: TenantContext, event: BudgetEvent): Promise<void> {
    this.#log.warn(event.type, { tenantId: ctx.tenantId, budgetId: event.budgetId, level: event.level, scope: event.scope, scopeId: event.scopeId });
    return Promise.resolve();
  }
}
