import { z } from 'zod';

import { defineRoute } from './contract.js';

export const statusSchema = z.object({
  version: z.string(),
  node_version: z.string(),
  uptime_seconds: z.number(),
  database: z.enum(['pglite', 'postgres']),
  redis: z.boolean(),
  nats: z.boolean(),
  roles: z.array(z.string()),
});

export const readinessSchema = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), latency_ms: z.number(), error: z.string().optional() })),
});

export const systemRoutes = {
  getStatus: defineRoute({
    method: 'GET', path: '/v1/status', tag: 'system', summary: 'Version, uptime and which backends this server uses',
    response: statusSchema,
  }),
} as const;
