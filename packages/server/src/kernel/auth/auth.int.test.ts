import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import { thenMaybe } from '../../shared/async/index.js';
import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, type TenantContext } from '../../shared/context/index.js';
import { QuotaExceededError } from '../../shared/errors/index.js';
import { UlidIdGenerator } from '../../shared/ids/index.js';
import { ManualClock, silentLogger } from '../../shared/ports/index.js';
import { enforceQuota, tenancyMigrations, TenantService, UserService } from '../tenancy/index.js';
import {
  ApiKeyExpiredError,
  ApiKeyRevokedError,
  ApiKeyService,
  Authenticator,
  authMigrations,
  CredentialsInvalidError,
  OperatorKeyService,
  RefreshTokenReusedError,
  RoleEscalationError,
  TenantSuspendedError,
  TokenExpiredError,
  TokenService,
} from './index.js';

const quotas = {
  requests_per_minute: 100, max_users: 3, max_api_keys: 3, max_secrets: 3,
  max_vms: 1, max_vcpus: 1, max_memory_mb: 1, max_concurrent_tasks: 1,
};

function build(db: Parameters<Parameters<typeof describeEachDatabase>[2]>[0] extends () => infer T ? T : never) {
  const clock = new ManualClock(new Date());
  const ids = new UlidIdGenerator();
  const audit = new InMemoryAuditSink();
  const tenants = new TenantService({ db, clock, ids, audit, defaultQuotas: quotas });
  const users = new UserService({ db, clock, ids, audit });
  const tenantStatus = (tenantId: string) => thenMaybe(tenants.find(tenantId), (tenant) => tenant?.status);
  const apiKeys = new ApiKeyService({ db, clock, ids, audit, logger: silentLogger, tenantStatus, enforceKeyQuota: (tx, check) => enforceQuota(tx, { ...check, quota: 'max_api_keys' }) });
  const operatorKeys = new OperatorKeyService({ db, clock, ids });
  const tokens = new TokenService({ db, clock, ids, signingKey: randomBytes(32), accessTtlSeconds: 900, refreshTtlSeconds: 7 * 86_400 });
  const authenticator = new Authenticator({
    apiKeys, operatorKeys, tokens,
    users: {
      async authenticate(tenantRef, email, password) {
        const tenant = await tenants.find(tenantRef);
        if (!tenant) return undefined;
        const user = await users.authenticate(asTenantId(tenant.id), email, password);
        return user ? { id: user.id, role: user.role, tenantId: asTenantId(tenant.id) } : undefined;
      },
      status: (tenantId, userId) => users.status(tenantId, userId),
      tenantStatus: (tenantId) => tenantStatus(tenantId),
    },
  });
  return { clock, audit, tenants, users, apiKeys, operatorKeys, tokens, authenticator };
}

async function newTenant(services: ReturnType<typeof build>, slug: string): Promise<TenantContext> {
  const operator = { type: 'operator' as const, id: 'op_test' };
  const tenant = await services.tenants.create(operator, { slug: `${slug}-${randomBytes(3).toString('hex')}`, name: slug }, 'req');
  return { tenantId: asTenantId(tenant.id), principal: { type: 'api_key', id: 'key_owner', role: 'owner', scopes: ['*'] }, requestId: 'req', traceId: 'req', signal: new AbortController().signal };
}

describeEachDatabase('auth', [...tenancyMigrations, ...authMigrations], (getDb) => {
  describe('ApiKeyService', () => {
    it('authenticates a new key, stores only its hash, and audits its creation', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'keys');
      const { api_key, secret } = await services.apiKeys.create(ctx, { name: 'ci', role: 'developer', scopes: ['ledger:read'] });
      const who = await services.authenticator.authenticate(secret);
      expect(who).toEqual({ tenantId: ctx.tenantId, principal: { type: 'api_key', id: api_key.id, role: 'developer', scopes: ['ledger:read'] } });
      const stored = await getDb().withSystem((tx) => tx.$extendTables<{ api_keys: { id: string; secret_hash: string } }>().selectFrom('api_keys').select('secret_hash').where('id', '=', api_key.id).executeTakeFirstOrThrow());
      expect(secret).not.toContain(stored.secret_hash);
      expect(secret.split('_')[2]).not.toBe(stored.secret_hash);
      expect(services.audit.kinds(ctx.tenantId)).toContain('auth.key_created');
    });

    it('refuses a wrong secret for a real key id', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'wrong');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      const tampered = `${secret.slice(0, -4)}AAAA`;
      await expect(services.authenticator.authenticate(tampered)).rejects.toBeInstanceOf(CredentialsInvalidError);
    });

    it('refuses a revoked key at once, and revoking twice changes nothing', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'revoke');
      const { api_key, secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      await services.authenticator.authenticate(secret);
      const revoked = await services.apiKeys.revoke(ctx, api_key.id);
      await expect(services.authenticator.authenticate(secret)).rejects.toBeInstanceOf(ApiKeyRevokedError);
      const again = await services.apiKeys.revoke(ctx, api_key.id);
      expect(again.revoked_at).toBe(revoked.revoked_at);
      expect(revoked.revoked_at).not.toBeNull();
    });

    it('refuses an expired key', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'expiry');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer', expires_in_days: 1 });
      services.clock.advance(86_400_000 + 1);
      await expect(services.authenticator.authenticate(secret)).rejects.toBeInstanceOf(ApiKeyExpiredError);
    });

    it('refuses a key stronger than its creator, and keys past the quota', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'limits');
      const admin = { ...ctx, principal: { type: 'api_key' as const, id: 'key_admin', role: 'admin' as const, scopes: ['*'] } };
      await expect(services.apiKeys.create(admin, { name: 'x', role: 'owner' })).rejects.toBeInstanceOf(RoleEscalationError);
      for (let index = 0; index < quotas.max_api_keys; index += 1) await services.apiKeys.create(ctx, { name: `k${String(index)}`, role: 'viewer' });
      await expect(services.apiKeys.create(ctx, { name: 'over', role: 'viewer' })).rejects.toBeInstanceOf(QuotaExceededError);
      expect((await services.apiKeys.list(ctx, {})).items).toHaveLength(quotas.max_api_keys);
    });
  });

  describe('Authenticator.authenticate', () => {
    it('refuses the keys of a suspended tenant with TENANT_SUSPENDED until it is reactivated', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'suspend');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      const operatorCtx = { ...ctx, principal: { type: 'operator' as const, id: 'op' } };
      await services.tenants.update(operatorCtx, { status: 'suspended' });
      await expect(services.authenticator.authenticate(secret)).rejects.toBeInstanceOf(TenantSuspendedError);
      await services.tenants.update(operatorCtx, { status: 'active' });
      expect((await services.authenticator.authenticate(secret)).tenantId).toBe(ctx.tenantId);
    });
  });

  describe('Authenticator.authenticateNow', () => {
    it('answers from memory once the key and its tenant are cached', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'now');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      const first = services.authenticator.authenticateNow(secret);
      expect(first).toBeInstanceOf(Promise);
      const loaded = await first;
      const cached = services.authenticator.authenticateNow(secret);
      expect(cached).not.toBeInstanceOf(Promise);
      expect(cached).toEqual(loaded);
    });

    it('refuses a key revoked in this process at once, then synchronously from memory', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'now-revoke');
      const { api_key, secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      await services.authenticator.authenticate(secret);
      await services.apiKeys.revoke(ctx, api_key.id);
      await expect(Promise.resolve(services.authenticator.authenticateNow(secret))).rejects.toBeInstanceOf(ApiKeyRevokedError);
      expect(() => services.authenticator.authenticateNow(secret)).toThrow(ApiKeyRevokedError);
    });

    it('refuses the keys of a tenant suspended in this process, also from memory', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'now-suspend');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      await services.authenticator.authenticate(secret);
      await services.tenants.update({ ...ctx, principal: { type: 'operator', id: 'op' } }, { status: 'suspended' });
      await expect(Promise.resolve(services.authenticator.authenticateNow(secret))).rejects.toBeInstanceOf(TenantSuspendedError);
      expect(() => services.authenticator.authenticateNow(secret)).toThrow(TenantSuspendedError);
    });

    it('answers a key it has verified again without re-checking the secret, and only for that exact credential', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'now-verified');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      const first = await services.authenticator.authenticate(secret);
      expect(services.authenticator.authenticateNow(secret)).toBe(first);
      const tampered = `${secret.slice(0, -4)}${secret.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      expect(() => services.authenticator.authenticateNow(tampered)).toThrow(CredentialsInvalidError);
      expect(services.authenticator.authenticateNow(secret)).toBe(first);
    });

    it('checks the expiry of a verified key on every request', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'now-expiry');
      const { api_key, secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      await getDb().withSystem((tx) =>
        tx.$extendTables<{ api_keys: { id: string; expires_at: Date | null } }>().updateTable('api_keys').set({ expires_at: new Date(services.clock.nowMs() + 2_000) }).where('id', '=', api_key.id).execute(),
      );
      await services.authenticator.authenticate(secret);
      expect(services.authenticator.authenticateNow(secret)).toMatchObject({ tenantId: ctx.tenantId });
      services.clock.advance(2_000);
      expect(() => services.authenticator.authenticateNow(secret)).toThrow(ApiKeyExpiredError);
    });

    it('sees a revocation made by another process once the 5 s key cache expires (ADR 0003)', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'now-ttl');
      const { api_key, secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'viewer' });
      await services.authenticator.authenticate(secret);
      await getDb().withSystem((tx) =>
        tx.$extendTables<{ api_keys: { id: string; revoked_at: Date | null } }>().updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', api_key.id).execute(),
      );
      services.clock.advance(4_999);
      // The tenant record (2 s) is read again by now; the key record is still the cached one.
      expect(await services.authenticator.authenticateNow(secret)).toMatchObject({ tenantId: ctx.tenantId });
      services.clock.advance(1);
      await expect(Promise.resolve(services.authenticator.authenticateNow(secret))).rejects.toBeInstanceOf(ApiKeyRevokedError);
    });
  });

  describe('TokenService', () => {
    it('rotates refresh tokens and revokes the whole family when a spent one comes back', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'rotate');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'developer' });
      const first = await services.authenticator.exchange({ grant_type: 'api_key', api_key: secret });
      const second = await services.authenticator.exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(second.refresh_token).not.toBe(first.refresh_token);
      await expect(services.authenticator.exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).rejects.toBeInstanceOf(RefreshTokenReusedError);
      // The thief's replay also burned the legitimate holder's newer token.
      await expect(services.authenticator.exchange({ grant_type: 'refresh_token', refresh_token: second.refresh_token })).rejects.toBeInstanceOf(CredentialsInvalidError);
    });

    it('accepts an access token until it expires, then says so', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'access');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'developer' });
      const tokens = await services.authenticator.exchange({ grant_type: 'api_key', api_key: secret });
      expect((await services.authenticator.authenticate(tokens.access_token)).principal).toMatchObject({ type: 'api_key', role: 'developer' });
      services.clock.advance(901_000);
      await expect(services.authenticator.authenticate(tokens.access_token)).rejects.toBeInstanceOf(TokenExpiredError);
    });

    it('stops access and refresh tokens of a revoked key', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'revoked-tokens');
      const { api_key, secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'developer' });
      const tokens = await services.authenticator.exchange({ grant_type: 'api_key', api_key: secret });
      await services.apiKeys.revoke(ctx, api_key.id);
      await expect(services.authenticator.authenticate(tokens.access_token)).rejects.toBeInstanceOf(ApiKeyRevokedError);
      await expect(services.authenticator.exchange({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).rejects.toBeInstanceOf(CredentialsInvalidError);
    });

    it('signs users in by password and refuses a wrong password or a disabled user alike', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'users');
      const tenant = await services.tenants.get(ctx);
      const user = await services.users.create(ctx, { email: 'Ada@Example.com', display_name: 'Ada', role: 'admin', password: 'correct horse battery' });
      const tokens = await services.authenticator.exchange({ grant_type: 'password', tenant: tenant.slug, email: 'ada@example.com', password: 'correct horse battery' });
      expect((await services.authenticator.authenticate(tokens.access_token)).principal).toMatchObject({ type: 'user', id: user.id, role: 'admin' });
      await expect(services.authenticator.exchange({ grant_type: 'password', tenant: tenant.slug, email: 'ada@example.com', password: 'wrong password!!' })).rejects.toBeInstanceOf(CredentialsInvalidError);
      await services.users.update(ctx, user.id, { status: 'disabled' });
      await expect(services.authenticator.authenticate(tokens.access_token)).rejects.toBeInstanceOf(CredentialsInvalidError);
    });

    it('refuses a refresh token offered as an access credential', async () => {
      const services = build(getDb());
      const ctx = await newTenant(services, 'rt-bearer');
      const { secret } = await services.apiKeys.create(ctx, { name: 'x', role: 'developer' });
      const tokens = await services.authenticator.exchange({ grant_type: 'api_key', api_key: secret });
      await expect(services.authenticator.authenticate(tokens.refresh_token)).rejects.toThrow(/exchange it/);
    });
  });

  describe('OperatorKeyService', () => {
    it('authenticates the operator outside any tenant', async () => {
      const services = build(getDb());
      const { id, token } = await services.operatorKeys.create('ops');
      expect(await services.authenticator.authenticate(token)).toEqual({ principal: { type: 'operator', id }, tenantId: undefined });
      expect(await services.operatorKeys.exists()).toBe(true);
    });
  });
});
