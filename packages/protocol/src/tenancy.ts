import { z } from 'zod';

import { emptyResponseSchema, isoTimestamp, pageOf, pageQuerySchema, roleSchema } from './common.js';
import { defineRoute } from './contract.js';

const tenantIdSchema = z.string().regex(/^tnt_[0-9a-z]+$/, 'expected a tenant id (tnt_…)');
const slugSchema = z
  .string()
  .min(2)
  .max(48)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes, starting with a letter or digit');

/** Per-tenant limits. Each is enforced by the module that consumes it. */
export const quotasSchema = z.strictObject({
  requests_per_minute: z.number().int().min(1).max(1_000_000),
  max_users: z.number().int().min(1).max(100_000),
  max_api_keys: z.number().int().min(1).max(100_000),
  max_secrets: z.number().int().min(0).max(100_000),
  max_vms: z.number().int().min(0).max(10_000),
  max_vcpus: z.number().int().min(0).max(100_000),
  max_memory_mb: z.number().int().min(0).max(100_000_000),
  max_concurrent_tasks: z.number().int().min(0).max(1_000_000),
});
export type Quotas = z.infer<typeof quotasSchema>;

export const tenantSchema = z.object({
  id: tenantIdSchema,
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  quotas: quotasSchema,
  created_at: isoTimestamp,
  updated_at: isoTimestamp,
});
export type Tenant = z.infer<typeof tenantSchema>;

export const createTenantRequestSchema = z.strictObject({
  slug: slugSchema,
  name: z.string().min(1).max(200),
  quotas: quotasSchema.partial().optional(),
});

export const updateTenantRequestSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  status: z.enum(['active', 'suspended']).optional(),
  quotas: quotasSchema.partial().optional(),
});

export const userSchema = z.object({
  id: z.string(),
  tenant_id: tenantIdSchema,
  email: z.string(),
  display_name: z.string(),
  role: roleSchema,
  status: z.enum(['active', 'disabled']),
  created_at: isoTimestamp,
});
export type User = z.infer<typeof userSchema>;

export const createUserRequestSchema = z.strictObject({
  email: z.email().max(320),
  display_name: z.string().min(1).max(200),
  role: roleSchema,
  password: z.string().min(12, 'at least 12 characters').max(1024),
});

export const updateUserRequestSchema = z.strictObject({
  display_name: z.string().min(1).max(200).optional(),
  role: roleSchema.optional(),
  status: z.enum(['active', 'disabled']).optional(),
  password: z.string().min(12, 'at least 12 characters').max(1024).optional(),
});

export const apiKeySchema = z.object({
  id: z.string(),
  tenant_id: tenantIdSchema,
  name: z.string(),
  role: roleSchema,
  scopes: z.array(z.string()),
  prefix: z.string(),
  created_at: isoTimestamp,
  expires_at: isoTimestamp.nullable(),
  last_used_at: isoTimestamp.nullable(),
  revoked_at: isoTimestamp.nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

const scopePattern = /^(\*|[a-z][a-z_-]*:(\*|[a-z][a-z_-]*))$/;
export const createApiKeyRequestSchema = z.strictObject({
  name: z.string().min(1).max(200),
  role: roleSchema,
  scopes: z.array(z.string().regex(scopePattern, 'scope must look like "resource:action" or "*"')).max(64).optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

/** The only answer that carries the key's secret: store it now, it is never shown again. */
export const createdApiKeySchema = z.object({ api_key: apiKeySchema, secret: z.string() });

export const tokenRequestSchema = z.discriminatedUnion('grant_type', [
  z.strictObject({ grant_type: z.literal('api_key'), api_key: z.string().min(1).max(512) }),
  z.strictObject({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1).max(512) }),
  z.strictObject({
    grant_type: z.literal('password'),
    tenant: z.string().min(1).max(64),
    email: z.string().min(1).max(320),
    password: z.string().min(1).max(1024),
  }),
]);

export const tokenResponseSchema = z.object({
  token_type: z.literal('Bearer'),
  access_token: z.string(),
  expires_in: z.number().int(),
  refresh_token: z.string(),
  refresh_expires_in: z.number().int(),
  tenant_id: tenantIdSchema,
});

export const revokeTokenRequestSchema = z.strictObject({ refresh_token: z.string().min(1).max(512) });

export const principalSchema = z.object({
  type: z.enum(['user', 'api_key', 'operator']),
  id: z.string(),
  tenant_id: tenantIdSchema.nullable(),
  role: roleSchema.nullable(),
  scopes: z.array(z.string()),
  permissions: z.array(z.string()),
});

export const secretSchema = z.object({
  name: z.string(),
  description: z.string(),
  created_at: isoTimestamp,
  updated_at: isoTimestamp,
});
const secretNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-", starting with a letter');
export const putSecretRequestSchema = z.strictObject({
  name: secretNameSchema,
  value: z.string().min(1).max(65_536),
  description: z.string().max(500).optional(),
});

const tenantParams = z.strictObject({ tenantId: tenantIdSchema });
const userParams = z.strictObject({ userId: z.string().min(1).max(64) });
const keyParams = z.strictObject({ keyId: z.string().min(1).max(64) });
const secretParams = z.strictObject({ name: secretNameSchema });

export const tenancyRoutes = {
  createToken: defineRoute({
    method: 'POST', path: '/v1/tokens', tag: 'auth', authenticated: false,
    summary: 'Exchange an API key, a password or a refresh token for an access token (15 min) and a refresh token (7 d)',
    body: tokenRequestSchema, response: tokenResponseSchema,
    exampleBody: { grant_type: 'api_key', api_key: 'ak_…' },
  }),
  revokeToken: defineRoute({
    method: 'POST', path: '/v1/tokens/revoke', tag: 'auth', authenticated: false,
    summary: 'Revoke a refresh token and every token rotated from it (log out)',
    body: revokeTokenRequestSchema, response: emptyResponseSchema,
    exampleBody: { refresh_token: 'rt_…' },
  }),
  getMe: defineRoute({
    method: 'GET', path: '/v1/me', tag: 'auth', summary: 'Who the caller is and what it may do',
    response: principalSchema,
  }),
  listTenants: defineRoute({
    method: 'GET', path: '/v1/tenants', tag: 'tenants',
    summary: 'List tenants: all of them for the operator, the caller\'s own otherwise',
    query: pageQuerySchema, response: pageOf(tenantSchema),
  }),
  createTenant: defineRoute({
    method: 'POST', path: '/v1/tenants', tag: 'tenants', successStatus: 201,
    summary: 'Create a tenant (platform operator only)',
    body: createTenantRequestSchema, response: tenantSchema,
    exampleBody: { slug: 'acme', name: 'Acme Corp' },
  }),
  getTenant: defineRoute({
    method: 'GET', path: '/v1/tenants/{tenantId}', tag: 'tenants', summary: 'Get a tenant',
    params: tenantParams, response: tenantSchema,
  }),
  updateTenant: defineRoute({
    method: 'PATCH', path: '/v1/tenants/{tenantId}', tag: 'tenants',
    summary: 'Rename a tenant (Owner); change its status or quotas (operator)',
    params: tenantParams, body: updateTenantRequestSchema, response: tenantSchema,
    exampleBody: { name: 'Acme Corporation' },
  }),
  listUsers: defineRoute({
    method: 'GET', path: '/v1/users', tag: 'users', summary: 'List the tenant\'s users',
    query: pageQuerySchema, response: pageOf(userSchema),
  }),
  createUser: defineRoute({
    method: 'POST', path: '/v1/users', tag: 'users', successStatus: 201, summary: 'Add a user to the tenant',
    body: createUserRequestSchema, response: userSchema,
    exampleBody: { email: 'dev@example.com', display_name: 'Dev', role: 'developer', password: 'correct horse battery' },
  }),
  getUser: defineRoute({
    method: 'GET', path: '/v1/users/{userId}', tag: 'users', summary: 'Get a user',
    params: userParams, response: userSchema,
  }),
  updateUser: defineRoute({
    method: 'PATCH', path: '/v1/users/{userId}', tag: 'users', summary: 'Change a user\'s name, role, status or password',
    params: userParams, body: updateUserRequestSchema, response: userSchema,
    exampleBody: { display_name: 'Renamed' },
  }),
  listApiKeys: defineRoute({
    method: 'GET', path: '/v1/keys', tag: 'keys', summary: 'List the tenant\'s API keys (never their secrets)',
    query: pageQuerySchema, response: pageOf(apiKeySchema),
  }),
  createApiKey: defineRoute({
    method: 'POST', path: '/v1/keys', tag: 'keys', successStatus: 201,
    summary: 'Create an API key; its secret is in this answer only',
    body: createApiKeyRequestSchema, response: createdApiKeySchema,
    exampleBody: { name: 'ci', role: 'developer', expires_in_days: 90 },
  }),
  revokeApiKey: defineRoute({
    method: 'DELETE', path: '/v1/keys/{keyId}', tag: 'keys', summary: 'Revoke an API key (takes effect at once)',
    params: keyParams, response: apiKeySchema,
  }),
  listSecrets: defineRoute({
    method: 'GET', path: '/v1/secrets', tag: 'secrets', summary: 'List the tenant\'s secrets (names only, never values)',
    response: z.object({ items: z.array(secretSchema) }),
  }),
  putSecret: defineRoute({
    method: 'POST', path: '/v1/secrets', tag: 'secrets', successStatus: 201,
    summary: 'Create or replace a secret, stored encrypted with AES-256-GCM; the value is never returned',
    body: putSecretRequestSchema, response: secretSchema,
    exampleBody: { name: 'OPENAI_API_KEY', value: 'sk-…', description: 'production key' },
  }),
  deleteSecret: defineRoute({
    method: 'DELETE', path: '/v1/secrets/{name}', tag: 'secrets', summary: 'Delete a secret',
    params: secretParams, response: emptyResponseSchema,
  }),
} as const;
