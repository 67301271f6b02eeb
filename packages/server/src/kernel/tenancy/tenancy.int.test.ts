import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, type TenantContext } from '../../shared/context/index.js';
import { NotFoundError, QuotaExceededError } from '../../shared/errors/index.js';
import { UlidIdGenerator } from '../../shared/ids/index.js';
import { ManualClock } from '../../shared/ports/index.js';
import {
  LastOwnerError,
  SecretNotFoundError,
  SecretService,
  tenancyMigrations,
  TenantService,
  TenantSlugTakenError,
  UserEmailTakenError,
  UserService,
} from './index.js';

const quotas = {
  requests_per_minute: 100, max_users: 2, max_api_keys: 3, max_secrets: 2,
  max_vms: 1, max_vcpus: 1, max_memory_mb: 1, max_concurrent_tasks: 1,
};
const operator = { type: 'operator' as const, id: 'op_test' };

describeEachDatabase('tenancy', tenancyMigrations, (getDb) => {
  function build() {
    const db = getDb();
    const clock = new ManualClock(new Date());
    const ids = new UlidIdGenerator();
    const audit = new InMemoryAuditSink();
    return {
      db, audit,
      tenants: new TenantService({ db, clock, ids, audit, defaultQuotas: quotas }),
      users: new UserService({ db, clock, ids, audit }),
      secrets: new SecretService({ db, clock, audit, encryptionKey: randomBytes(32) }),
    };
  }
  async function tenantContext(services: ReturnType<typeof build>): Promise<TenantContext> {
    const tenant = await services.tenants.create(operator, { slug: `t-${randomBytes(4).toString('hex')}`, name: 'T' }, 'req');
    return { tenantId: asTenantId(tenant.id), principal: { type: 'api_key', id: 'key_x', role: 'owner', scopes: ['*'] }, requestId: 'r', traceId: 'r', signal: new AbortController().signal };
  }

  describe('TenantService', () => {
    it('creates a tenant with default quotas overridden field by field', async () => {
      const services = build();
      const tenant = await services.tenants.create(operator, { slug: `q-${randomBytes(4).toString('hex')}`, name: 'Q', quotas: { max_vms: 7, max_users: undefined } }, 'r');
      expect(tenant.quotas).toEqual({ ...quotas, max_vms: 7 });
      expect(services.audit.kinds(tenant.id)).toEqual(['tenant.created']);
    });

    it('refuses a duplicate slug', async () => {
      const services = build();
      const slug = `dup-${randomBytes(4).toString('hex')}`;
      await services.tenants.create(operator, { slug, name: 'A' }, 'r');
      await expect(services.tenants.create(operator, { slug, name: 'B' }, 'r')).rejects.toBeInstanceOf(TenantSlugTakenError);
    });

    it('sees only its own tenant inside a tenant scope', async () => {
      const services = build();
      const a = await tenantContext(services);
      const b = await tenantContext(services);
      expect((await services.tenants.get(a)).id).toBe(a.tenantId);
      await expect(services.tenants.get({ ...a, tenantId: asTenantId('tnt_missing') })).rejects.toBeInstanceOf(NotFoundError);
      expect((await services.tenants.update(b, { name: 'Renamed', quotas: { max_vms: 3 } })).quotas.max_vms).toBe(3);
      expect((await services.tenants.get(a)).name).toBe('T');
    });
  });

  describe('UserService', () => {
    it('keeps emails unique per tenant, case-insensitively, and enforces max_users', async () => {
      const services = build();
      const ctx = await tenantContext(services);
      await services.users.create(ctx, { email: 'a@x.io', display_name: 'A', role: 'owner', password: 'long enough pw' });
      await expect(services.users.create(ctx, { email: 'A@X.io', display_name: 'A2', role: 'viewer', password: 'long enough pw' })).rejects.toBeInstanceOf(UserEmailTakenError);
      await services.users.create(ctx, { email: 'b@x.io', display_name: 'B', role: 'viewer', password: 'long enough pw' });
      await expect(services.users.create(ctx, { email: 'c@x.io', display_name: 'C', role: 'viewer', password: 'long enough pw' })).rejects.toBeInstanceOf(QuotaExceededError);
      const other = await tenantContext(services);
      await services.users.create(other, { email: 'a@x.io', display_name: 'A elsewhere', role: 'owner', password: 'long enough pw' });
    });

    it('never demotes or disables the last active owner', async () => {
      const services = build();
      const ctx = await tenantContext(services);
      const owner = await services.users.create(ctx, { email: 'o@x.io', display_name: 'O', role: 'owner', password: 'long enough pw' });
      await expect(services.users.update(ctx, owner.id, { role: 'admin' })).rejects.toBeInstanceOf(LastOwnerError);
      await expect(services.users.update(ctx, owner.id, { status: 'disabled' })).rejects.toBeInstanceOf(LastOwnerError);
      expect((await services.users.get(ctx, owner.id)).role).toBe('owner');
    });

    it('does not find another tenant\'s user', async () => {
      const services = build();
      const a = await tenantContext(services);
      const b = await tenantContext(services);
      const user = await services.users.create(a, { email: 'u@x.io', display_name: 'U', role: 'viewer', password: 'long enough pw' });
      await expect(services.users.get(b, user.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(services.users.update(b, user.id, { display_name: 'hijacked' })).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('SecretService', () => {
    it('stores values sealed, returns only metadata, and reveals in-process by name', async () => {
      const services = build();
      const ctx = await tenantContext(services);
      const metadata = await services.secrets.put(ctx, { name: 'OPENAI_API_KEY', value: 'sk-live-123', description: 'prod' });
      expect(metadata).not.toHaveProperty('value');
      const raw = await services.db.withSystem((tx) => tx.$extendTables<{ secrets: { name: string; ciphertext: Buffer } }>().selectFrom('secrets').select('ciphertext').where('name', '=', 'OPENAI_API_KEY').execute());
      for (const row of raw) expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain('sk-live-123');
      expect(await services.secrets.reveal(ctx, 'OPENAI_API_KEY')).toBe('sk-live-123');
      await services.secrets.put(ctx, { name: 'OPENAI_API_KEY', value: 'sk-live-456' });
      expect(await services.secrets.reveal(ctx, 'OPENAI_API_KEY')).toBe('sk-live-456');
      expect(services.audit.kinds(ctx.tenantId)).toEqual(['tenant.created', 'secret.created', 'secret.replaced']);
      expect(JSON.stringify(services.audit.entries)).not.toContain('sk-live');
    });

    it('keeps secrets per tenant, enforces max_secrets, and deletes by name', async () => {
      const services = build();
      const a = await tenantContext(services);
      const b = await tenantContext(services);
      await services.secrets.put(a, { name: 'ONE', value: '1' });
      await services.secrets.put(a, { name: 'TWO', value: '2' });
      await expect(services.secrets.put(a, { name: 'THREE', value: '3' })).rejects.toBeInstanceOf(QuotaExceededError);
      expect(await services.secrets.reveal(b, 'ONE')).toBeUndefined();
      await expect(services.secrets.delete(b, 'ONE')).rejects.toBeInstanceOf(SecretNotFoundError);
      await services.secrets.delete(a, 'ONE');
      expect((await services.secrets.list(a)).map((secret) => secret.name)).toEqual(['TWO']);
    });
  });
});
