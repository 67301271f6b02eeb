import { z } from 'zod';

import { emptyResponseSchema, isoTimestamp } from './common.js';
import { defineRoute } from './contract.js';

export const modelTierSchema = z.enum(['small', 'mid', 'large']);

export const modelInfoSchema = z.object({
  id: z.string(),
  provider: z.string(),
  model: z.string(),
  tier: modelTierSchema,
  context_window: z.number().int(),
  max_output_tokens: z.number().int(),
  prices: z.object({
    input_per_million_usd: z.number(),
    output_per_million_usd: z.number(),
    cached_input_per_million_usd: z.number(),
  }),
  capabilities: z.object({ tools: z.boolean(), vision: z.boolean(), audio: z.boolean(), thinking: z.boolean() }),
  /** Whether this deployment has the model's provider configured. */
  available: z.boolean(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

const modelIdSchema = z.string().max(256).regex(/^[a-z0-9-]+:.+$/, 'expected provider:model');

/**
 * Changes one model of the catalog, or adds one: every field but `id` is optional and falls back
 * to the catalog below (shipped defaults, then the deployment's file). A new model needs `tier`
 * and both input and output prices, so it can always be priced; `disabled: true` takes a model
 * out of routing. The deployment file (AETHER_MODELS_CATALOG_FILE) lists the same shape.
 */
export const modelOverrideSchema = z.strictObject({
  id: modelIdSchema,
  tier: modelTierSchema.optional(),
  context_window: z.number().int().min(1).max(100_000_000).optional(),
  max_output_tokens: z.number().int().min(1).max(100_000_000).optional(),
  prices: z
    .strictObject({
      input_per_million_usd: z.number().min(0).max(1_000_000).optional(),
      output_per_million_usd: z.number().min(0).max(1_000_000).optional(),
      cached_input_per_million_usd: z.number().min(0).max(1_000_000).optional(),
    })
    .optional(),
  capabilities: z.strictObject({ tools: z.boolean().optional(), vision: z.boolean().optional(), audio: z.boolean().optional(), thinking: z.boolean().optional() }).optional(),
  disabled: z.boolean().optional(),
});
export type ModelOverrideInput = z.infer<typeof modelOverrideSchema>;

const modelOverrideParams = z.strictObject({ modelId: modelIdSchema });

const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(1_000_000),
});
const toolSchema = z.strictObject({
  name: z.string().min(1).max(128),
  description: z.string().max(4_000).default(''),
  parameters: z.record(z.string(), z.unknown()).default({ type: 'object' }),
});

export const routerExplainRequestSchema = z.strictObject({
  messages: z.array(chatMessageSchema).min(1).max(10_000),
  tools: z.array(toolSchema).max(256).optional(),
  model: z.string().regex(/^[a-z0-9-]+:.+$/, 'expected provider:model').optional(),
  max_output_tokens: z.number().int().min(1).max(1_000_000).optional(),
  latency: z.enum(['normal', 'critical']).optional(),
  agent_id: z.string().max(200).optional(),
  task_id: z.string().max(200).optional(),
});

export const routingDecisionSchema = z.object({
  complexity: z.object({
    score: z.number(),
    level: z.enum(['low', 'medium', 'high']),
    reasons: z.array(z.string()),
  }),
  budget: z.object({ utilisation: z.number(), tight: z.boolean(), budget_id: z.string().nullable() }),
  latency: z.enum(['normal', 'critical']),
  delivery: z.enum(['sync', 'stream', 'async_queue']),
  chain: z.array(z.object({ model: z.string(), tier: modelTierSchema, max_cost_usd: z.number() })),
  denied: z.string().nullable(),
  reasons: z.array(z.string()),
});
export type RoutingDecision = z.infer<typeof routingDecisionSchema>;

export const budgetScopeSchema = z.enum(['tenant', 'agent', 'task', 'subagent']);
export const budgetPeriodSchema = z.enum(['day', 'month', 'total']);

export const budgetSchema = z.object({
  id: z.string(),
  scope: budgetScopeSchema,
  scope_id: z.string(),
  period: budgetPeriodSchema,
  period_start: isoTimestamp,
  limit_usd: z.number(),
  spent_usd: z.number(),
  /** Held for work in flight, including `leased_usd`. */
  reserved_usd: z.number(),
  /** The part of `reserved_usd` running processes hold as headroom leases (given back within seconds of disuse). */
  leased_usd: z.number(),
  utilisation: z.number(),
  alert_level: z.number().int(),
});
export type Budget = z.infer<typeof budgetSchema>;

export const setBudgetRequestSchema = z.strictObject({
  scope: budgetScopeSchema,
  /** Required below the tenant: the agent, task or sub-agent id. */
  scope_id: z.string().min(1).max(200).optional(),
  period: budgetPeriodSchema,
  limit_usd: z.number().min(0).max(1_000_000_000),
});

export const budgetNotificationSchema = z.object({
  id: z.string(),
  budget_id: z.string(),
  level: z.number().int(),
  message: z.string(),
  created_at: isoTimestamp,
});

export const costsQuerySchema = z.strictObject({
  by: z.enum(['tenant', 'agent', 'task', 'model', 'day']).default('tenant'),
  from: isoTimestamp.optional(),
  to: isoTimestamp.optional(),
});

export const costsResponseSchema = z.object({
  by: z.enum(['tenant', 'agent', 'task', 'model', 'day']),
  items: z.array(z.object({ key: z.string(), cost_usd: z.number(), count: z.number().int() })),
  total_usd: z.number(),
  roi: z.object({ cost_usd: z.number(), value_usd: z.number(), tasks: z.number().int(), roi: z.number().nullable() }),
});
export type CostsResponse = z.infer<typeof costsResponseSchema>;

/** Models, routing, budgets and costs (spec §12, §19). */
export const modelsRoutes = {
  listModels: defineRoute({
    method: 'GET', path: '/v1/models', tag: 'models', summary: "List the models in the tenant's catalog, with prices, tiers and capabilities",
    response: z.object({ items: z.array(modelInfoSchema) }),
  }),
  explainRoute: defineRoute({
    method: 'POST', path: '/v1/router/explain', tag: 'models', summary: 'Explain which models the router would use for a request, and why (calls nothing)',
    body: routerExplainRequestSchema,
    response: routingDecisionSchema,
    exampleBody: { messages: [{ role: 'user', content: 'Summarise this paragraph in one sentence.' }] },
  }),
  listModelOverrides: defineRoute({
    method: 'GET', path: '/v1/models/overrides', tag: 'models', summary: "List the tenant's own changes to the model catalog",
    response: z.object({ items: z.array(modelOverrideSchema) }),
  }),
  setModelOverride: defineRoute({
    method: 'PUT', path: '/v1/models/overrides', tag: 'models', summary: "Change or add one model of the tenant's catalog (prices, tier, limits, capabilities), or disable it",
    body: modelOverrideSchema,
    response: modelOverrideSchema,
    exampleBody: { id: 'openai:gpt-5', prices: { input_per_million_usd: 1, output_per_million_usd: 8 } },
  }),
  removeModelOverride: defineRoute({
    method: 'DELETE', path: '/v1/models/overrides/{modelId}', tag: 'models', summary: "Drop the tenant's change to one model; the deployment's entry applies again",
    params: modelOverrideParams, response: emptyResponseSchema,
  }),
  listBudgets: defineRoute({
    method: 'GET', path: '/v1/budgets', tag: 'budgets', summary: "List the tenant's budgets with spend and alerts",
    response: z.object({ items: z.array(budgetSchema), notifications: z.array(budgetNotificationSchema) }),
  }),
  setBudget: defineRoute({
    method: 'PUT', path: '/v1/budgets', tag: 'budgets', summary: 'Create or change the budget of a scope (tenant, agent, task, sub-agent)',
    body: setBudgetRequestSchema,
    response: budgetSchema,
    exampleBody: { scope: 'tenant', period: 'month', limit_usd: 100 },
  }),
  getCosts: defineRoute({
    method: 'GET', path: '/v1/costs', tag: 'budgets', summary: 'Settled costs grouped by tenant, agent, task, model or day, with ROI',
    query: costsQuerySchema,
    response: costsResponseSchema,
  }),
} as const;
