import { EventEmitter } from 'node:events';

import { tenancyRoutes as contracts } from '@aether/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';

import { ApiKeyRevokedError, CredentialsMissingError, PermissionDeniedError, type Authenticated } from '../kernel/auth/index.js';
import { isPromise, type MaybePromise } from '../shared/async/index.js';
import { asTenantId } from '../shared/context/index.js';
import { NotFoundError, RateLimitedError, ValidationError } from '../shared/errors/index.js';
import { defineHandler } from '../shared/http/index.js';
import { ManualClock } from '../shared/ports/index.js';
import { InMemoryRateLimiter } from './rate-limiter.js';
import { bearerOf, guardRequest, type GuardedInput, type RouteGuardDeps } from './route-mounting.js';

const OWN_TENANT = asTenantId('tnt_own');
const OTHER_TENANT = 'tnt_other';
const GOOD_BEARER = 'ak_good';
const REVOKED_BEARER = 'ak_revoked';
const getTenant = defineHandler(contracts.getTenant, { kind: 'tenant', permission: 'tenant:read', tenantParam: 'tenantId', allowOperator: true }, () => ({}) as never);
const updateTenant = defineHandler(contracts.updateTenant, { kind: 'tenant', permission: 'tenant:update', tenantParam: 'tenantId' }, () => ({}) as never);

type Mode = 'from memory' | 'after I/O';

/** Answers now ('from memory') or on a later microtask ('after I/O'), like the real caches. */
function answer<TValue>(mode: Mode, compute: () => TValue): MaybePromise<TValue> {
  return mode === 'from memory' ? compute() : Promise.resolve().then(compute);
}

function makeDeps(mode: Mode, options: { limit?: number; role?: 'viewer' | 'owner' } = {}): { deps: RouteGuardDeps; hits: () => number } {
  const limiter = new InMemoryRateLimiter(new ManualClock());
  let hits = 0;
  const deps: RouteGuardDeps = {
    authenticate: (bearer) =>
      answer(mode, (): Authenticated => {
        if (bearer === REVOKED_BEARER) throw new ApiKeyRevokedError('key_revoked');
        return { principal: { type: 'api_key', id: 'key_good', role: options.role ?? 'owner', scopes: ['*'] }, tenantId: OWN_TENANT };
      }),
    rateLimiter: {
      hit: (key, limit, windowMs) => {
        hits += 1;
        return answer(mode, () => limiter.hit(key, limit, windowMs));
      },
    },
    tenantRequestsPerMinute: () => answer(mode, () => options.limit ?? 100),
    anonymousRequestsPerMinute: 100,
    tenantExists: (tenantId) => answer(mode, () => tenantId === OWN_TENANT),
  };
  return { deps, hits: () => hits };
}

function fakeExchange(input: { bearer?: string; tenantId: string; body?: unknown }): { request: FastifyRequest; reply: FastifyReply; headers: Record<string, unknown> } {
  const headers: Record<string, unknown> = {};
  const reply = {
    header(name: string, value: unknown) {
      headers[name] = value;
      return reply;
    },
    raw: { writableFinished: false, once: () => undefined },
  };
  const request = {
    id: 'req_1',
    ip: '127.0.0.1',
    headers: input.bearer === undefined ? {} : { authorization: `Bearer ${input.bearer}` },
    params: { tenantId: input.tenantId },
    query: {},
    body: input.body,
  };
  return { request: request as unknown as FastifyRequest, reply: reply as unknown as FastifyReply, headers };
}

/** Runs the guard and reports what the client would see, whether it answered at once or later. */
async function outcome(result: () => MaybePromise<GuardedInput>): Promise<{ synchronous: boolean; input?: GuardedInput; error?: unknown }> {
  let value: MaybePromise<GuardedInput>;
  try {
    value = result();
  } catch (error) {
    return { synchronous: true, error };
  }
  if (!isPromise(value)) return { synchronous: true, input: value };
  try {
    return { synchronous: false, input: await value };
  } catch (error) {
    return { synchronous: false, error };
  }
}

describe('guardRequest', () => {
  it('answers without a promise when credential, tenant and rate window are in memory', async () => {
    const { deps } = makeDeps('from memory');
    const exchange = fakeExchange({ bearer: GOOD_BEARER, tenantId: OWN_TENANT });
    const result = await outcome(() => guardRequest(deps, getTenant, exchange));
    expect(result.synchronous).toBe(true);
    expect(result.input?.ctx).toMatchObject({ tenantId: OWN_TENANT, requestId: 'req_1', traceId: 'req_1' });
    expect(result.input?.ctx?.signal.aborted).toBe(false);
    expect(exchange.headers).toEqual({ 'x-ratelimit-limit': 100, 'x-ratelimit-remaining': 99 });
  });

  /** A guarded request whose reply sits on a socket the test can finish and close. */
  async function guardedOverSocket(): Promise<{ ctx: GuardedInput['ctx']; raw: EventEmitter & { writableFinished: boolean } }> {
    const { deps } = makeDeps('from memory');
    const exchange = fakeExchange({ bearer: GOOD_BEARER, tenantId: OWN_TENANT });
    const raw = Object.assign(new EventEmitter(), { writableFinished: false });
    Object.assign(exchange.reply, { raw });
    const { input } = await outcome(() => guardRequest(deps, getTenant, exchange));
    return { ctx: input?.ctx, raw };
  }

  it("aborts the context's signal when the client goes away before the answer is written", async () => {
    const { ctx, raw } = await guardedOverSocket();
    const signal = ctx?.signal;
    expect(ctx?.signal).toBe(signal); // made once, on first read
    raw.emit('close');
    expect(signal?.aborted).toBe(true);
    expect(String(signal?.reason)).toContain('client closed the connection');
  });

  it('leaves the signal alone when the connection closes after the answer was written', async () => {
    const { ctx, raw } = await guardedOverSocket();
    const signal = ctx?.signal;
    raw.writableFinished = true;
    raw.emit('close');
    expect(signal?.aborted).toBe(false);
  });

  it('returns a promise when a step needs I/O', async () => {
    const { deps } = makeDeps('after I/O');
    const result = await outcome(() => guardRequest(deps, getTenant, fakeExchange({ bearer: GOOD_BEARER, tenantId: OWN_TENANT })));
    expect(result.synchronous).toBe(false);
    expect(result.input?.ctx?.tenantId).toBe(OWN_TENANT);
  });

  describe.each<Mode>(['from memory', 'after I/O'])('with every dependency answering %s', (mode) => {
    it('refuses a request without credentials before counting it', async () => {
      const { deps, hits } = makeDeps(mode);
      const result = await outcome(() => guardRequest(deps, getTenant, fakeExchange({ tenantId: OWN_TENANT })));
      expect(result.error).toBeInstanceOf(CredentialsMissingError);
      expect(hits()).toBe(0);
    });

    it('refuses a revoked key before counting it', async () => {
      const { deps, hits } = makeDeps(mode);
      const result = await outcome(() => guardRequest(deps, getTenant, fakeExchange({ bearer: REVOKED_BEARER, tenantId: OWN_TENANT })));
      expect(result.error).toBeInstanceOf(ApiKeyRevokedError);
      expect(hits()).toBe(0);
    });

    it('refuses a call past the window with retry-after, before looking at the path', async () => {
      const { deps } = makeDeps(mode, { limit: 1 });
      await outcome(() => guardRequest(deps, getTenant, fakeExchange({ bearer: GOOD_BEARER, tenantId: OWN_TENANT })));
      const exchange = fakeExchange({ bearer: GOOD_BEARER, tenantId: OTHER_TENANT });
      const result = await outcome(() => guardRequest(deps, getTenant, exchange));
      expect(result.error).toBeInstanceOf(RateLimitedError);
      expect(exchange.headers).toMatchObject({ 'x-ratelimit-limit': 1, 'x-ratelimit-remaining': 0, 'retry-after': 60 });
    });

    it('answers 404 for another tenant\'s path, exactly as for a missing tenant', async () => {
      const { deps } = makeDeps(mode);
      const result = await outcome(() => guardRequest(deps, getTenant, fakeExchange({ bearer: GOOD_BEARER, tenantId: OTHER_TENANT })));
      expect(result.error).toBeInstanceOf(NotFoundError);
    });

    it('rejects a malformed path parameter before the tenant check', async () => {
      const { deps } = makeDeps(mode);
      const result = await outcome(() => guardRequest(deps, getTenant, fakeExchange({ bearer: GOOD_BEARER, tenantId: 'not-a-tenant' })));
      expect(result.error).toBeInstanceOf(ValidationError);
    });

    it('checks the permission before the body', async () => {
      const { deps } = makeDeps(mode, { role: 'viewer' });
      const result = await outcome(() => guardRequest(deps, updateTenant, fakeExchange({ bearer: GOOD_BEARER, tenantId: OWN_TENANT, body: { unknown: 1 } })));
      expect(result.error).toBeInstanceOf(PermissionDeniedError);
    });

    it('rejects a malformed body last', async () => {
      const { deps } = makeDeps(mode);
      const result = await outcome(() => guardRequest(deps, updateTenant, fakeExchange({ bearer: GOOD_BEARER, tenantId: OWN_TENANT, body: { unknown: 1 } })));
      expect(result.error).toBeInstanceOf(ValidationError);
    });
  });
});

describe('bearerOf', () => {
  const of = (authorization: string | undefined): string | undefined => bearerOf({ headers: { authorization } } as unknown as FastifyRequest);

  it('takes the token of the usual form and of the forms the pattern allows', () => {
    expect(of('Bearer ak_token')).toBe('ak_token');
    expect(of('bearer ak_token')).toBe('ak_token');
    expect(of('Bearer   ak_token  ')).toBe('ak_token');
    expect(of('Bearer\tak_token')).toBe('ak_token');
  });

  it('refuses a missing header, another scheme, an empty token and a token with whitespace inside', () => {
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer ', 'Bearer  ', 'Bearer ak_one ak_two', 'Bearer ak_one\tak_two', 'Bearerak_token']) {
      expect(of(header)).toBeUndefined();
    }
  });
});
