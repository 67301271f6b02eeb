import { modelsRoutes as contracts } from '@aether/protocol';

import { defineHandler, requireTenant, type RouteDefinition } from '../../shared/http/index.js';
import type { BudgetService } from './budget-service.js';
import type { BudgetView } from './budget-store.js';

export interface BudgetRoutesDeps {
  readonly budget: BudgetService;
}

const toUsd = (micros: number): number => micros / 1e6;

function toWire(b: BudgetView) {
  return {
    id: b.id,
    scope: b.scope,
    scope_id: b.scopeId,
    period: b.period,
    period_start: b.periodStart.toISOString(),
    limit_usd: toUsd(b.limitMicros),
    spent_usd: toUsd(b.spentMicros),
    reserved_usd: toUsd(b.reservedMicros),
    leased_usd: toUsd(b.leasedMicros),
    utilisation: b.limitMicros === 0 ? (b.spentMicros > 0 ? 1 : 0) : b.spentMicros / b.limitMicros,
    alert_level: b.alertLevel,
  };
}

/** `GET/PUT /v1/budgets` and `GET /v1/costs`. */
export function budgetRoutes(deps: BudgetRoutesDeps): RouteDefinition[] {
  return [
    defineHandler(contracts.listBudgets, { kind: 'tenant', permission: 'budgets:read' }, async (request) => {
      const ctx = requireTenant(request);
      const [budgets, notifications] = await Promise.all([deps.budget.listBudgets(ctx), deps.budget.notifications(ctx)]);
      return {
        items: budgets.map(toWire),
        notifications: notifications.map((n) => ({ id: n.id, budget_id: n.budgetId, level: n.level, message: n.message, created_at: n.createdAt.toISOString() })),
      };
    }),
    defineHandler(contracts.setBudget, { kind: 'tenant', permission: 'budgets:write' }, async (request) => {
      const ctx = requireTenant(request);
      const { scope, scope_id: scopeId, period, limit_usd: limitUsd } = request.body;
      const record = await deps.budget.setBudget(ctx, { scope, period, limitMicros: Math.round(limitUsd * 1e6), ...(scopeId === undefined ? {} : { scopeId }) });
      // Read back as listed, so the answer shows what other processes hold leased.
      const listed = (await deps.budget.listBudgets(ctx)).find((b) => b.id === record.id);
      return toWire(listed ?? { ...record, leasedMicros: 0 });
    }),
    defineHandler(contracts.getCosts, { kind: 'tenant', permission: 'costs:read' }, async (request) => {
      const ctx = requireTenant(request);
      const { by, from, to } = request.query;
      const range = { ...(from === undefined ? {} : { from: new Date(from) }), ...(to === undefined ? {} : { to: new Date(to) }) };
      const [rows, roi] = await Promise.all([deps.budget.costs(ctx, by, range), deps.budget.roi(ctx)]);
      return {
        by,
        items: rows.map((r) => ({ key: r.key, cost_usd: toUsd(r.costMicros), count: r.count })),
        total_usd: toUsd(rows.reduce((n, r) => n + r.costMicros, 0)),
        roi: { cost_usd: toUsd(roi.costMicros), value_usd: toUsd(roi.valueMicros), tasks: roi.tasks, roi: roi.roi },
      };
    }),
  ];
}
