import { apiRoutes, type RouteContract } from '@aether/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

import { extendLogScope } from '../infra/logger/index.js';
import { can, CredentialsMissingError, isPermission, OperatorOnlyError, PermissionDeniedError, type Authenticated } from '../kernel/auth/index.js';
import { isPromise, type MaybePromise } from '../shared/async/index.js';
import { asTenantId, type TenantContext, type TenantId } from '../shared/context/index.js';
import { ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../shared/errors/index.js';
import type { RouteDefinition } from '../shared/http/index.js';
import type { RateDecision, RateLimiter } from './rate-limiter.js';

/**
 * What the guard reads on every request. Each returns a plain value when it can answer from
 * memory (cached credential, tenant record, in-process rate window) and a promise when it needs
 * I/O, so a request served from memory runs its checks without an `await` (ADR 0006).
 */
export interface RouteGuardDeps {
  readonly authenticate: (bearer: string) => MaybePromise<Authenticated>;
  readonly rateLimiter: RateLimiter;
  /** The tenant's `requests_per_minute` quota. */
  readonly tenantRequestsPerMinute: (tenantId: TenantId) => MaybePromise<number>;
  /** Limit per client address for calls without credentials, and for the operator. */
  readonly anonymousRequestsPerMinute: number;
  /** Whether a tenant exists (for operator calls on a tenant's path). */
  readonly tenantExists: (tenantId: TenantId) => MaybePromise<boolean>;
}

/** What the checks hand to the route's handler (its `RouteRequest`). */
export interface GuardedInput {
  readonly principal: Authenticated['principal'] | undefined;
  readonly ctx: TenantContext | undefined;
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
  readonly requestId: string;
  readonly ip: string;
}

interface GuardedRequest {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
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

const BEARER_PATTERN = /^Bearer\s+(\S+)\s*$/i;
const BEARER_PREFIX = 'Bearer ';
const WHITESPACE = /\s/;
const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const RATE_WINDOW_MS = 60_000;

/** The token of an `Authorization: Bearer <token>` header, else undefined. */
export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  // The usual exact form skips the case-insensitive capturing pattern (a regexp run and a match
  // array per request); anything else still goes through it.
  if (header.startsWith(BEARER_PREFIX)) {
    const token = header.slice(BEARER_PREFIX.length);
    if (token !== '' && !WHITESPACE.test(token)) return token;
  }
  return BEARER_PATTERN.exec(header)?.[1];
}

/**
 * Runs the checks every route gets, in an order that leaks nothing: authenticate (401), rate
 * limit (429), path parameters (400), tenant of the path (404 for another tenant's), permission
 * (403), query and body (400). Returns the handler's input: a plain value when every check could
 * answer from memory, else a promise. A failed check throws synchronously or rejects.
 */
export function guardRequest(deps: RouteGuardDeps, definition: RouteDefinition, io: GuardedRequest): MaybePromise<GuardedInput> {
  if (definition.access.kind === 'public') return limitRate(deps, definition, { io, authenticated: undefined });
  const bearer = bearerOf(io.request);
  if (!bearer) throw new CredentialsMissingError();
  // Each step branches on isPromise instead of chaining through closures: on the path served
  // from memory that allocates nothing per step, and this runs on every request.
  const authenticated = deps.authenticate(bearer);
  if (isPromise(authenticated)) return authenticated.then((loaded) => afterAuthentication(deps, definition, { io, authenticated: loaded }));
  return afterAuthentication(deps, definition, { io, authenticated });
}

interface GuardState {
  readonly io: GuardedRequest;
  readonly authenticated: Authenticated | undefined;
}

function afterAuthentication(deps: RouteGuardDeps, definition: RouteDefinition, state: GuardState): MaybePromise<GuardedInput> {
  const tenantId = state.authenticated?.tenantId;
  if (tenantId) extendLogScope({ tenant_id: tenantId });
  return limitRate(deps, definition, state);
}

// Tenants are limited by their quota, keyed by their id as it is (a `tnt_…` id cannot collide
// with an `ip:` key, and no string is joined per request); the operator and anonymous calls by
// client address.
function limitRate(deps: RouteGuardDeps, definition: RouteDefinition, state: GuardState): MaybePromise<GuardedInput> {
  const tenantId = state.authenticated?.tenantId;
  if (!tenantId) return enforceRate(deps, definition, { state, key: `ip:${state.io.request.ip}`, limit: deps.anonymousRequestsPerMinute });
  const limit = deps.tenantRequestsPerMinute(tenantId);
  if (isPromise(limit)) return limit.then((loaded) => enforceRate(deps, definition, { state, key: tenantId, limit: loaded }));
  return enforceRate(deps, definition, { state, key: tenantId, limit });
}

interface RateCheck {
  readonly state: GuardState;
  readonly key: string;
  readonly limit: number;
}

function enforceRate(deps: RouteGuardDeps, definition: RouteDefinition, check: RateCheck): MaybePromise<GuardedInput> {
  const decision = deps.rateLimiter.hit(check.key, check.limit, RATE_WINDOW_MS);
  if (isPromise(decision)) return decision.then((decided) => admitRate(deps, definition, { check, decision: decided }));
  return admitRate(deps, definition, { check, decision });
}

function admitRate(deps: RouteGuardDeps, definition: RouteDefinition, { check, decision }: { check: RateCheck; decision: RateDecision }): MaybePromise<GuardedInput> {
  const { reply } = check.state.io;
  void reply.header('x-ratelimit-limit', check.limit).header('x-ratelimit-remaining', decision.remaining);
  if (!decision.allowed) {
    void reply.header('retry-after', decision.retryAfterSeconds);
    throw new RateLimitedError(decision.retryAfterSeconds);
  }
  return checkAccess(deps, definition, check.state);
}

// Path parameters, then whose tenant the path names, then the permission.
function checkAccess(deps: RouteGuardDeps, definition: RouteDefinition, state: GuardState): MaybePromise<GuardedInput> {
  const { contract, access } = definition;
  const params = parsePart(contract.params, state.io.request.params, 'path');
  const principal = state.authenticated?.principal;
  const ownTenant = state.authenticated?.tenantId;

  if (access.kind === 'operator' && principal?.type !== 'operator') throw new OperatorOnlyError();
  if (access.kind !== 'tenant') return parseInput(definition, { io: state.io, principal, tenantId: ownTenant, params });
  const pathTenant = access.tenantParam ? (params as Record<string, string> | undefined)?.[access.tenantParam] : undefined;
  if (principal?.type === 'operator') {
    if (!access.allowOperator || pathTenant === undefined) {
      throw new ForbiddenError('This route acts inside a tenant; use a key or token of that tenant', { details: { route: contract.path } });
    }
    const tenantId = asTenantId(pathTenant);
    const scoped = (exists: boolean): GuardedInput => {
      if (!exists) throw new NotFoundError('tenant', pathTenant);
      return parseInput(definition, { io: state.io, principal, tenantId, params });
    };
    const exists = deps.tenantExists(tenantId);
    return isPromise(exists) ? exists.then(scoped) : scoped(exists);
  }
  // Another tenant's path answers exactly like a missing tenant, so existence never leaks.
  if (pathTenant !== undefined && pathTenant !== ownTenant) throw new NotFoundError('tenant', pathTenant);
  if (!principal || (principal.type !== 'user' && principal.type !== 'api_key') || !isPermission(access.permission)) {
    throw new PermissionDeniedError(access.permission, null);
  }
  if (!can(principal.role, principal.scopes, access.permission)) throw new PermissionDeniedError(access.permission, principal.role);
  return parseInput(definition, { io: state.io, principal, tenantId: ownTenant, params });
}

// Query and body are checked last, so a malformed body never tells an outsider anything.
function parseInput(
  definition: RouteDefinition,
  checked: { io: GuardedRequest; principal: Authenticated['principal'] | undefined; tenantId: TenantId | undefined; params: unknown },
): GuardedInput {
  const { io, principal, tenantId, params } = checked;
  const query = parsePart(definition.contract.query, io.request.query, 'query');
  const body = parsePart(definition.contract.body, io.request.body, 'body');
  const ctx = tenantId && principal ? new RequestTenantContext({ tenantId, principal, requestId: io.request.id, traceId: traceIdOf(io.request) }, io.reply) : undefined;
  return { principal, ctx, params, query, body, requestId: io.request.id, ip: io.request.ip };
}

export function traceIdOf(request: FastifyRequest): string {
  // W3C traceparent: version-traceid-parentid-flags; fall back to the request id.
  const traceparent = request.headers['traceparent'];
  const match = typeof traceparent === 'string' ? TRACEPARENT_PATTERN.exec(traceparent) : null;
  return match?.[1] ?? request.id;
}

/**
 * The request's TenantContext. Its signal aborts when the client goes away before the answer is
 * written, so long work can stop early; it is made on first use, as most handlers never read it.
 *
 * A class, not an object literal with a `get signal()`: a literal with an accessor gets a fresh
 * hidden class per request, held in old space and pointing at the request's young objects, so
 * every scavenge copied whole requests and promoted them (~6 µs of GC per request, against 0.2).
 */
class RequestTenantContext implements TenantContext {
  readonly tenantId: TenantId;
  readonly principal: TenantContext['principal'];
  readonly requestId: string;
  readonly traceId: string;
  readonly #reply: FastifyReply;
  #controller: AbortController | undefined;

  constructor(fields: Omit<TenantContext, 'signal'>, reply: FastifyReply) {
    this.tenantId = fields.tenantId;
    this.principal = fields.principal;
    this.requestId = fields.requestId;
    this.traceId = fields.traceId;
    this.#reply = reply;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const raw = this.#reply.raw;
    if (!raw.writableFinished) {
      raw.once('close', () => {
        if (!raw.writableFinished) controller.abort(new Error('client closed the connection'));
      });
    }
    return controller.signal;
  }
}
