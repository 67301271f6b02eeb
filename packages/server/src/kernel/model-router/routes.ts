import { modelsRoutes as contracts } from '@aether/protocol';

import { defineHandler, requireTenant, type RouteDefinition } from '../../shared/http/index.js';
import { toModelOverride, type ModelCatalog } from './catalog.js';
import type { ModelRouter } from './model-router.js';
import type { TenantCatalogStore } from './tenant-catalog-store.js';

export interface ModelRouterRoutesDeps {
  readonly catalog: ModelCatalog;
  readonly overrides: TenantCatalogStore;
  readonly router: ModelRouter;
  readonly availableProviders: () => readonly string[];
}

/** `GET /v1/models`, the tenant's catalog overrides, and `POST /v1/router/explain`. */
export function modelRouterRoutes(deps: ModelRouterRoutesDeps): RouteDefinition[] {
  return [
    defineHandler(contracts.listModels, { kind: 'tenant', permission: 'models:read' }, async (request) => {
      const ctx = requireTenant(request);
      const available = new Set(deps.availableProviders());
      return {
        items: (await deps.catalog.list(ctx.tenantId)).map((m) => ({
          id: m.id,
          provider: m.provider,
          model: m.model,
          tier: m.tier,
          context_window: m.contextWindow,
          max_output_tokens: m.maxOutputTokens,
          prices: {
            input_per_million_usd: m.prices.inputPerMillionUsd,
            output_per_million_usd: m.prices.outputPerMillionUsd,
            cached_input_per_million_usd: m.prices.cachedInputPerMillionUsd,
          },
          capabilities: m.capabilities,
          available: available.has(m.provider),
        })),
      };
    }),
    defineHandler(contracts.listModelOverrides, { kind: 'tenant', permission: 'models:read' }, async (request) => ({
      items: await deps.overrides.list(requireTenant(request)),
    })),
    defineHandler(contracts.setModelOverride, { kind: 'tenant', permission: 'models:write' }, async (request) => {
      const override = toModelOverride(request.body);
      deps.catalog.assertTenantOverride(override);
      return deps.overrides.set(requireTenant(request), override);
    }),
    defineHandler(contracts.removeModelOverride, { kind: 'tenant', permission: 'models:write' }, async (request) => {
      await deps.overrides.remove(requireTenant(request), request.params.modelId);
      return {};
    }),
    defineHandler(contracts.explainRoute, { kind: 'tenant', permission: 'models:read' }, async (request) => {
      const ctx = requireTenant(request);
      const body = request.body;
      const decision = await deps.router.explain(ctx, {
        messages: body.messages,
        ...(body.tools === undefined ? {} : { tools: body.tools }),
        ...(body.model === undefined ? {} : { model: body.model }),
        ...(body.max_output_tokens === undefined ? {} : { maxOutputTokens: body.max_output_tokens }),
        ...(body.latency === undefined ? {} : { latency: body.latency }),
        scope: { ...(body.agent_id === undefined ? {} : { agentId: body.agent_id }), ...(body.task_id === undefined ? {} : { taskId: body.task_id }) },
      });
      return {
        complexity: { score: decision.complexity.score, level: decision.complexity.level, reasons: [...decision.complexity.reasons] },
        budget: { utilisation: decision.budget.utilisation, tight: decision.budget.tight, budget_id: decision.budget.budgetId ?? null },
        latency: decision.latency,
        delivery: decision.delivery,
        chain: decision.chain.map((m) => ({ model: m.modelId, tier: m.tier, max_cost_usd: m.maxCostMicros / 1e6 })),
        denied: decision.denied ?? null,
        reasons: [...decision.reasons],
      };
    }),
  ];
}
