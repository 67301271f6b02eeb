import { describe, expect, it } from 'vitest';

import { InMemoryTenantCatalogSource, ModelCatalog, costMicros } from './catalog.js';
import { UnknownModelError } from './errors.js';

describe('ModelCatalog', () => {
  it('ships defaults for the main vendors in every tier with prices', () => {
    const catalog = new ModelCatalog();
    const models = catalog.list('t');
    for (const provider of ['anthropic', 'openai', 'google']) {
      expect(new Set(models.filter((m) => m.provider === provider).map((m) => m.tier))).toEqual(new Set(['small', 'mid', 'large']));
    }
    expect(catalog.get('t', 'anthropic:claude-sonnet-4-5').prices.outputPerMillionUsd).toBe(15);
  });

  it('applies deployment then tenant overrides, and a tenant can disable a model', () => {
    const tenants = new InMemoryTenantCatalogSource();
    const catalog = new ModelCatalog({ deploymentOverrides: [{ id: 'openai:gpt-5', prices: { inputPerMillionUsd: 1 } }], tenants });
    tenants.set('t1', [{ id: 'openai:gpt-5', tier: 'mid' }, { id: 'google:gemini-2.5-pro', disabled: true }]);
    expect(catalog.get('t2', 'openai:gpt-5')).toMatchObject({ tier: 'large', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 10 } });
    expect(catalog.get('t1', 'openai:gpt-5')).toMatchObject({ tier: 'mid', prices: { inputPerMillionUsd: 1 } });
    expect(catalog.find('t1', 'google:gemini-2.5-pro')).toBeUndefined();
    expect(catalog.find('t2', 'google:gemini-2.5-pro')).toBeDefined();
  });

  it('prices any model of a wildcard provider and fails closed on an unknown model', () => {
    const catalog = new ModelCatalog();
    expect(catalog.get('t', 'ollama:llama3.2')).toMatchObject({ id: 'ollama:llama3.2', model: 'llama3.2', prices: { inputPerMillionUsd: 0 } });
    expect(() => catalog.get('t', 'acme:mystery')).toThrow(UnknownModelError);
  });

  it('refuses an override that adds a model without a tier and prices', () => {
    expect(() => new ModelCatalog({ deploymentOverrides: [{ id: 'acme:new' }] })).toThrow(/without tier/);
  });
});

describe('costMicros', () => {
  it('charges cached input at the cached price and rounds up to a whole micro-USD', () => {
    const prices = { inputPerMillionUsd: 3, outputPerMillionUsd: 15, cachedInputPerMillionUsd: 0.3 };
    expect(costMicros(prices, { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 400 })).toBe(600 * 3 + 400 * 0.3 + 100 * 15);
    expect(costMicros({ inputPerMillionUsd: 0.05, outputPerMillionUsd: 0, cachedInputPerMillionUsd: 0 }, { inputTokens: 1, outputTokens: 0, cachedInputTokens: 0 })).toBe(1);
  });
});
