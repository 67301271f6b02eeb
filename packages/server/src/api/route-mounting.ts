import { apiRoutes, type RouteContract } from '@aether/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

import { extendLogScope } from '../infra/logger/index.js';
import { can, CredentialsMissingError, isPermission, OperatorOnlyError, PermissionDeniedError, type Authenticated } from '../kernel/auth/index.js';
import { asTenantId, type TenantContext, type TenantId } from '../shared/context/index.js';
import { ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../shared/errors/index.js';
import type { RouteDefinition } from '../shared/http/index.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RouteGuardDeps {
  readonly authenticate: (bearer: string) => Promise<Authenticated>;
  readonly rateLimiter: RateLimiter;
  /** The tenant's `requests_per_minute` quota. */
  readonly tenantRequestsPerMinute: (tenantId: TenantId) => Promise<number>;
  /** Limit per client address for calls without credentials, and for the operator. */
  readonly anonymousRequestsPerMinute: number;
  /** Whether a tenant exists (for operator calls on a tenant's path). */
  readonly tenantExists: (tenantId: TenantId) => Promise<boolean>;
}

/** Pairs each definition with its operation name, and refuses contracts without handlers and vice versa. */
export function nameRoutes(definitions: readonly RouteDefinition[]): { name: string; definition: RouteDefinition }[] {
  const byContract = new Map<RouteContract, RouteDefinition>();
  for (const definition of definitions) {
    if (byContract.has(definition.contract)) throw new Error(`two handlers for ${definition.contract.method} ${definition.contract.path}`);
    byContract.set(definition.contract, definition);
    const access = definition.access;
    if (access.kind === 'tenant' && !isPermission(access.permission)) {
      throw new Error(`${definition.contract.method} ${definition.contract.path} requires unknown permission "${access.permission}"`);
    }
  }
  const named: { name: string; definition: RouteDefinition }[] = [];
  for (const [name, contract] of Object.entries(apiRoutes) as [string, RouteContract][]) {
    const definition = byContract.get(contract);
    if (!definition) throw new Error(`route ${name} (${contract.method} ${contract.path}) is in the protocol but has no handler`);
    byContract.delete(contract);
    named.push({ name, definition });
  }
  const orphan = byContract.values().next();
  if (!orphan.done) throw new Error(`handler for ${orphan.value.contract.method} ${orphan.value.contract.path} has no contract in apiRoutes`);
  return named;
}

/** Parses one part of a request, turning zod issues into one VALIDATION_FAILED naming every field. */
export function parsePart<TSchema extends z.ZodType>(schema: TSchema | undefined, value: unknown, part: string): z.output<TSchema> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = [part, ...issue.path.map(String)].join('.');
    return { path, message: issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message };
  });
  const first = issues[0];
  throw new ValidationError(`Invalid ${part}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, {
    field: first?.path ?? part,
    issue: first?.message ?? 'invalid',
    issue_count: issues.length,
  });
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

async function enforceRate(deps: RouteGuardDeps, reply: FastifyReply, quota: { key: string; limit: number }): Promise<void> {
  const { key, limit } = quota;
  const decision = await deps.rateLimiter.hit(key, limit, 60_000);
  void reply.header('x-ratelimit-limit', limit).header('x-ratelimit-remaining', decision.remaining);
  if (!decision.allowed) {
    void reply.header('retry-after', decision.retryAfterSeconds);
    throw new RateLimitedError(decision.retryAfterSeconds);
  }
}

/**
 * Runs the checks every route gets, in an order that leaks nothing: authenticate (401), rate
 * limit (429), path parameters (400), tenant of the path (404 for another tenant's), permission
 * (403), query and body (400). Returns the handler's input.
 */
export async function guardRequest(
  deps: RouteGuardDeps,
  definition: RouteDefinition,
  { request, reply }: { request: FastifyRequest; reply: FastifyReply },
): Promise<{ principal: Authenticated['principal'] | undefined; ctx: TenantContext | undefined; params: unknown; query: unknown; body: unknown }> {
  const { contract, access } = definition;
  let authenticated: Authenticated | undefined;
  if (access.kind !== 'public') {
    const bearer = bearerOf(request);
    if (!bearer) throw new CredentialsMissingError();
    authenticated = await deps.authenticate(bearer);
    if (authenticated.tenantId) extendLogScope({ tenant_id: authenticated.tenantId });
  }
  if (authenticated?.tenantId) {
    await enforceRate(deps, reply, { key: `tenant:${authenticated.tenantId}`, limit: await deps.tenantRequestsPerMinute(authenticated.tenantId) });
  } else {
    await enforceRate(deps, reply, { key: `ip:${request.ip}`, limit: deps.anonymousRequestsPerMinute });
  }
  const params = parsePart(contract.params, request.params, 'path');
  const principal = authenticated?.principal;
  let tenantId = authenticated?.tenantId;

  if (access.kind === 'operator' && principal?.type !== 'operator') throw new OperatorOnlyError();
  if (access.kind === 'tenant') {
    const pathTenant = access.tenantParam ? (params as Record<string, string> | undefined)?.[access.tenantParam] : undefined;
    if (principal?.type === 'operator') {
      if (!access.allowOperator || pathTenant === undefined) {
        throw new ForbiddenError('This route acts inside a tenant; use a key or token of that tenant', { details: { route: contract.path } });
      }
      if (!(await deps.tenantExists(asTenantId(pathTenant)))) throw new NotFoundError('tenant', pathTenant);
      tenantId = asTenantId(pathTenant);
    } else {
      // Another tenant's path answers exactly like a missing tenant, so existence never leaks.
      if (pathTenant !== undefined && pathTenant !== tenantId) throw new NotFoundError('tenant', pathTenant);
      if (!principal || (principal.type !== 'user' && principal.type !== 'api_key') || !isPermission(access.permission)) {
        throw new PermissionDeniedError(access.permission, null);
      }
      if (!can(principal.role, principal.scopes, access.permission)) throw new PermissionDeniedError(access.permission, principal.role);
    }
  }
  const query = parsePart(contract.query, request.query, 'query');
  const body = parsePart(contract.body, request.body, 'body');
  const ctx: TenantContext | undefined =
    tenantId && principal ? tenantContext({ tenantId, principal, requestId: request.id, traceId: traceIdOf(request) }, reply) : undefined;
  return { principal, ctx, params, query, body };
}

export function traceIdOf(request: FastifyRequest): string {
  // W3C traceparent: version-traceid-parentid-flags; fall back to the request id.
  const traceparent = request.headers['traceparent'];
  const match = typeof traceparent === 'string' ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent) : null;
  return match?.[1] ?? request.id;
}

/**
 * The request's TenantContext. Its signal aborts when the client goes away before the answer is
 * written, so long work can stop early; it is made on first use, as most handlers never read it.
 */
function tenantContext(fields: Omit<TenantContext, 'signal'>, reply: FastifyReply): TenantContext {
  let controller: AbortController | undefined;
  return {
    ...fields,
    get signal(): AbortSignal {
      if (!controller) {
        const created = new AbortController();
        controller = created;
        if (reply.raw.writableFinished) return created.signal;
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) created.abort(new Error('client closed the connection'));
        });
      }
      return controller.signal;
    },
  };
}
