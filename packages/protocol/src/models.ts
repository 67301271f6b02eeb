import { z } from 'zod';

import { isoTimestamp } from './common.js';
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
