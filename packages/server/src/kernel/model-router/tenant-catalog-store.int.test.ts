import { expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { ManualClock } from '../../shared/ports/index.js';
import { ModelOverrideNotFoundError } from './errors.js';
import { modelRouterMigrations } from './migrations.js';
import { TenantCatalogStore } from './tenant-catalog-store.js';

const tenantA = systemContext(asTenantId('tnt_cat_a'), 'test');
const tenantB = systemContext(asTenantId('tnt_cat_b'), 'test');

describeEachDatabase('TenantCatalogStore', modelRouterMigrations, (getDb) => {
  it('keeps one override per model and tenant, replaces it on a second set, and ledgers each change', async () => {
    const audit = new InMemoryAuditSink();
    const store = new TenantCatalogStore({ db: getDb(), audit, clock: new ManualClock() });
    await store.set(tenantA, { id: 'openai:gpt-5', tier: 'mid' });
    await store.set(tenantA, { id: 'openai:gpt-5', prices: { inputPerMillionUsd: 1 } });
    await store.set(tenantA, { id: 'google:gemini-2.5-pro', disabled: true });
    expect(await store.list(tenantA)).toEqual([{ id: 'google:gemini-2.5-pro', disabled: true }, { id: 'openai:gpt-5', prices: { input_per_million_usd: 1 } }]);
    expect(await store.list(tenantB)).toEqual([]);
    await store.remove(tenantA, 'google:gemini-2.5-pro');
    await expect(store.remove(tenantA, 'google:gemini-2.5-pro')).rejects.toBeInstanceOf(ModelOverrideNotFoundError);
    // Another tenant cannot remove (or see) tenant A's override: row-level security scopes the delete.
    await expect(store.remove(tenantB, 'openai:gpt-5')).rejects.toBeInstanceOf(ModelOverrideNotFoundError);
    expect(await store.overrides(tenantA.tenantId)).toEqual([{ id: 'openai:gpt-5', prices: { inputPerMillionUsd: 1 } }]);
    expect(audit.entries.map((e) => [e.entry.kind, e.entry.subject])).toEqual([
      ['model.override_set', { model_id: 'openai:gpt-5' }],
      ['model.override_set', { model_id: 'openai:gpt-5' }],
      ['model.override_set', { model_id: 'google:gemini-2.5-pro' }],
      ['model.override_removed', { model_id: 'google:gemini-2.5-pro' }],
    ]);
  });

  it('applies a change at once in its own process and within the cache lifetime in another', async () => {
    const clock = new ManualClock();
    const here = new TenantCatalogStore({ db: getDb(), audit: new InMemoryAuditSink(), clock, cacheTtlMs: 5_000 });
    const elsewhere = new TenantCatalogStore({ db: getDb(), audit: new InMemoryAuditSink(), clock, cacheTtlMs: 5_000 });
    const ctx = systemContext(asTenantId('tnt_cat_cache'), 'test');
    expect(await here.overrides(ctx.tenantId)).toEqual([]);
    expect(await elsewhere.overrides(ctx.tenantId)).toEqual([]);
    await here.set(ctx, { id: 'openai:gpt-5', tier: 'small' });
    expect(await here.overrides(ctx.tenantId)).toEqual([{ id: 'openai:gpt-5', tier: 'small' }]);
    expect(await elsewhere.overrides(ctx.tenantId)).toEqual([]);
    clock.advance(5_001);
    expect(await elsewhere.overrides(ctx.tenantId)).toEqual([{ id: 'openai:gpt-5', tier: 'small' }]);
  });

  it('writes nothing when the ledger refuses the change', async () => {
    const refusing = new InMemoryAuditSink();
    refusing.append = () => Promise.reject(new Error('ledger down'));
    const store = new TenantCatalogStore({ db: getDb(), audit: refusing, clock: new ManualClock() });
    const ctx = systemContext(asTenantId('tnt_cat_refused'), 'test');
    await expect(store.set(ctx, { id: 'openai:gpt-5', tier: 'small' })).rejects.toThrow('ledger down');
    expect(await store.list(ctx)).toEqual([]);
  });
});
