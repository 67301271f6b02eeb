import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../shared/errors/index.js';
import { InMemoryTenantCatalogSource, ModelCatalog, costMicros, parseCatalogOverrides, toModelOverride, toWireOverride } from './catalog.js';
import { UnknownModelError } from './errors.js';

describe('ModelCatalog', () => {
  it('ships defaults for the main vendors in every tier with prices', async () => {
    const catalog = new ModelCatalog();
    const models = await catalog.list('t');
    for (const provider of ['anthropic', 'openai', 'google']) {
      expect(new Set(models.filter((m) => m.provider === provider).map((m) => m.tier))).toEqual(new Set(['small', 'mid', 'large']));
    }
    expect((await catalog.get('t', 'anthropic:claude-sonnet-4-5')).prices.outputPerMillionUsd).toBe(15);
  });

  it('applies deployment then tenant overrides, and a tenant can disable a model', async () => {
    const tenants = new InMemoryTenantCatalogSource();
    const catalog = new ModelCatalog({ deploymentOverrides: [{ id: 'openai:gpt-5', prices: { inputPerMillionUsd: 1 } }], tenants });
    tenants.set('t1', [{ id: 'openai:gpt-5', tier: 'mid' }, { id: 'google:gemini-2.5-pro', disabled: true }]);
    expect(await catalog.get('t2', 'openai:gpt-5')).toMatchObject({ tier: 'large', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 10 } });
    expect(await catalog.get('t1', 'openai:gpt-5')).toMatchObject({ tier: 'mid', prices: { inputPerMillionUsd: 1 } });
    expect(await catalog.find('t1', 'google:gemini-2.5-pro')).toBeUndefined();
    expect(await catalog.find('t2', 'google:gemini-2.5-pro')).toBeDefined();
  });

  it('prices any model of a wildcard provider and fails closed on an unknown model', async () => {
    const catalog = new ModelCatalog();
    expect(await catalog.get('t', 'ollama:llama3.2')).toMatchObject({ id: 'ollama:llama3.2', model: 'llama3.2', prices: { inputPerMillionUsd: 0 } });
    await expect(catalog.get('t', 'acme:mystery')).rejects.toThrow(UnknownModelError);
  });

  it('refuses a deployment override that adds a model without a tier and prices', () => {
    expect(() => new ModelCatalog({ deploymentOverrides: [{ id: 'acme:new' }] })).toThrow(/acme:new is not in the catalog, so adding it needs a tier/);
    expect(() => new ModelCatalog({ deploymentOverrides: [{ id: 'acme:new', tier: 'small', prices: { inputPerMillionUsd: 1 } }] })).toThrow(/needs an output price/);
  });

  it('checks a tenant override against the deployment catalog, naming the missing field', () => {
    const catalog = new ModelCatalog({ deploymentOverrides: [{ id: 'acme:house', tier: 'small', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 2 } }] });
    expect(() => {
      catalog.assertTenantOverride({ id: 'acme:house', prices: { inputPerMillionUsd: 0.5 } });
      catalog.assertTenantOverride({ id: 'acme:other', disabled: true });
      catalog.assertTenantOverride({ id: 'acme:other', tier: 'mid', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 2 } });
    }).not.toThrow();
    let refused: unknown;
    try {
      catalog.assertTenantOverride({ id: 'acme:other', tier: 'mid', prices: { inputPerMillionUsd: 1 } });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).details).toMatchObject({ field: 'body.prices.output_per_million_usd' });
  });

  it('skips a stored tenant override that no longer applies and reports it, keeping the rest', async () => {
    const tenants = new InMemoryTenantCatalogSource();
    const skipped: string[] = [];
    const catalog = new ModelCatalog({ tenants, onSkippedOverride: (tenantId, override, issue) => skipped.push(`${tenantId} ${override.id}: ${issue}`) });
    // Added when the deployment still listed acme:gone; the deployment has since dropped it.
    tenants.set('t', [{ id: 'acme:gone', prices: { inputPerMillionUsd: 1 } }, { id: 'openai:gpt-5', tier: 'small' }]);
    expect(await catalog.find('t', 'acme:gone')).toBeUndefined();
    expect(await catalog.get('t', 'openai:gpt-5')).toMatchObject({ tier: 'small' });
    expect(skipped).toEqual(['t acme:gone: acme:gone is not in the catalog, so adding it needs a tier']);
  });

  it('reads the same override shape from a deployment file and the API, and writes it back unchanged', () => {
    const wire = { id: 'openai:gpt-5', tier: 'mid' as const, context_window: 1000, prices: { input_per_million_usd: 1, cached_input_per_million_usd: 0.1 }, capabilities: { vision: false }, disabled: false };
    expect(toWireOverride(toModelOverride(wire))).toEqual(wire);
    expect(parseCatalogOverrides(JSON.stringify({ models: [wire] }), 'catalog.json')).toEqual([toModelOverride(wire)]);
    expect(() => parseCatalogOverrides('models: [{ id: "openai:gpt-5", price: 1 }]', 'catalog.yaml')).toThrow(ValidationError);
  });
});

describe('costMicros', () => {
  it('charges cached input at the cached price and rounds up to a whole micro-USD', () => {
    const prices = { inputPerMillionUsd: 3, outputPerMillionUsd: 15, cachedInputPerMillionUsd: 0.3 };
    expect(costMicros(prices, { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 400 })).toBe(600 * 3 + 400 * 0.3 + 100 * 15);
    expect(costMicros({ inputPerMillionUsd: 0.05, outputPerMillionUsd: 0, cachedInputPerMillionUsd: 0 }, { inputTokens: 1, outputTokens: 0, cachedInputTokens: 0 })).toBe(1);
  });
});
