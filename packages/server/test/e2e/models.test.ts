import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AetherApiError } from '@aether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { asTenantId, systemContext } from '../../src/shared/context/index.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

let platform: TestPlatform;
let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aether-models-e2e-'));
  script = join(dir, 'model.yaml');
  await writeFile(script, 'turns:\n  - reply:\n      text: "scripted answer"\n      usage: { input_tokens: 1000, output_tokens: 500 }\n');
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `models:\n  - id: "scripted:${script}"\n    tier: small\n    max_output_tokens: 1000\n    prices: { input_per_million_usd: 2, output_per_million_usd: 4 }\n`);
  platform = await startTestPlatform({ env: { AETHER_MODELS_SCRIPTED: 'true', AETHER_MODELS_CATALOG_FILE: catalog } });
});
afterAll(async () => {
  await platform.close();
  await rm(dir, { recursive: true, force: true });
});

describe('models, router, budgets and costs end to end', () => {
  it('lists the catalog with prices and which providers are configured', async () => {
    const { items } = await platform.client().listModels({});
    expect(items.find((m) => m.id === 'anthropic:claude-sonnet-4-5')).toMatchObject({ tier: 'mid', available: false, prices: { output_per_million_usd: 15 } });
    expect(items.find((m) => m.id === `scripted:${script}`)).toMatchObject({ tier: 'small', available: true });
  });

  it('sets and shows a budget, explains a routing decision, and reports the cost of a routed call', async () => {
    const client = platform.client();
    const set = await client.setBudget({ body: { scope: 'tenant', period: 'month', limit_usd: 1 } });
    expect(set).toMatchObject({ scope: 'tenant', scope_id: platform.tenantId, limit_usd: 1, spent_usd: 0 });

    const decision = await client.explainRoute({ body: { messages: [{ role: 'user', content: 'hello' }] } });
    expect(decision.complexity.level).toBe('low');
    expect(decision.chain[0]?.model).toBe(`scripted:${script}`);
    expect(decision.reasons.join(' ')).toMatch(/low complexity/);

    const ctx = systemContext(asTenantId(platform.tenantId), 'e2e');
    const result = await platform.app.modelRouter.call(ctx, { messages: [{ role: 'user', content: 'hello' }], scope: { agentId: 'agt_e2e' } });
    expect(result.response.text).toBe('scripted answer');
    // 1000 input at 2 USD/M + 500 output at 4 USD/M
    expect(result.costMicros).toBe(4000);

    // Nothing is in flight: all that stays reserved is the headroom this process leased, until shutdown.
    const budgets = await client.listBudgets({});
    expect(budgets.items[0]).toMatchObject({ spent_usd: 0.004 });
    expect(budgets.items[0]?.reserved_usd).toBe(budgets.items[0]?.leased_usd);
    await platform.app.budget.close();
    expect((await client.listBudgets({})).items[0]).toMatchObject({ spent_usd: 0.004, reserved_usd: 0, leased_usd: 0 });
    const byAgent = await client.getCosts({ query: { by: 'agent' } });
    expect(byAgent).toMatchObject({ by: 'agent', total_usd: 0.004, items: [{ key: 'agt_e2e', cost_usd: 0.004, count: 1 }] });
    const byModel = await client.getCosts({ query: { by: 'model' } });
    expect(byModel.items).toEqual([{ key: `scripted:${script}`, cost_usd: 0.004, count: 1 }]);
  });

  it('lets a tenant change its own catalog: the router charges the new price, the change is ledgered and stays in the tenant', async () => {
    const client = platform.client();
    const id = `scripted:${script}`;
    const set = await client.setModelOverride({ body: { id, prices: { input_per_million_usd: 10, output_per_million_usd: 20 } } });
    expect(set).toEqual({ id, prices: { input_per_million_usd: 10, output_per_million_usd: 20 } });
    expect((await client.listModelOverrides({})).items).toEqual([set]);
    expect((await client.listModels({})).items.find((m) => m.id === id)).toMatchObject({ tier: 'small', prices: { input_per_million_usd: 10, output_per_million_usd: 20 } });

    const ctx = systemContext(asTenantId(platform.tenantId), 'e2e');
    const result = await platform.app.modelRouter.call(ctx, { messages: [{ role: 'user', content: 'hello' }] });
    // 1000 input at 10 USD/M + 500 output at 20 USD/M
    expect(result.costMicros).toBe(20_000);
    const entries = await client.listLedgerEntries({ query: { kind: 'model.override_set' } });
    expect(entries.items.map((e) => e.subject)).toEqual([{ model_id: id }]);

    const other = await platform.client(platform.operatorKey).createTenant({ body: { slug: 'models-other', name: 'Other' } });
    expect((await platform.app.catalog.get(other.id, id)).prices).toMatchObject({ inputPerMillionUsd: 2, outputPerMillionUsd: 4 });

    await client.removeModelOverride({ params: { modelId: id } });
    expect((await client.listModels({})).items.find((m) => m.id === id)).toMatchObject({ prices: { input_per_million_usd: 2, output_per_million_usd: 4 } });
    const again = await client.removeModelOverride({ params: { modelId: id } }).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 404, code: 'MODEL_OVERRIDE_NOT_FOUND' });
  });

  it('adds a model whose id holds a slash, and refuses one it could not price, naming the field', async () => {
    const client = platform.client();
    const id = 'ollama:library/qwen3';
    await client.setModelOverride({ body: { id, tier: 'mid', prices: { input_per_million_usd: 0, output_per_million_usd: 0 } } });
    expect((await client.listModels({})).items.find((m) => m.id === id)).toMatchObject({ tier: 'mid', model: 'library/qwen3' });
    await client.removeModelOverride({ params: { modelId: id } });
    expect((await client.listModelOverrides({})).items).toEqual([]);

    const unpriced = await client.setModelOverride({ body: { id: 'acme:new', tier: 'small', prices: { input_per_million_usd: 1 } } }).catch((e: unknown) => e);
    expect(unpriced).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: { field: 'body.prices.output_per_million_usd' } });
    const negative = await client.setModelOverride({ body: { id: 'openai:gpt-5', prices: { input_per_million_usd: -1 } } }).catch((e: unknown) => e);
    expect(negative).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: { field: 'body.prices.input_per_million_usd' } });
    const unknownField = await client.setModelOverride({ body: { id: 'openai:gpt-5', price: 1 } as never }).catch((e: unknown) => e);
    expect(unknownField).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await client.listModelOverrides({})).items).toEqual([]);
  });

  it('refuses a budget below the tenant without a scope id, and unknown fields', async () => {
    const missing = await platform.client().setBudget({ body: { scope: 'agent', period: 'day', limit_usd: 1 } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AetherApiError);
    expect((missing as AetherApiError).code).toBe('VALIDATION_FAILED');
    const unknown = await platform.client().setBudget({ body: { scope: 'tenant', period: 'day', limit_usd: 1, extra: true } as never }).catch((e: unknown) => e);
    expect((unknown as AetherApiError).status).toBe(400);
  });
});

describe('aether models | budget | cost (CLI against the running server)', () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const { runCli } = await import('../../src/cli/index.js');
    const out: string[] = [];
    const err: string[] = [];
    const unused = (): never => {
      throw new Error('the launcher is not used by these commands');
    };
    const code = await runCli(
      {
        io: {
          out: (text: string) => {
            out.push(text);
          },
          err: (text: string) => {
            err.push(text);
          },
        },
        settings: { home: dir, defaultUrl: platform.url, url: platform.url, apiKey: platform.ownerKey, profile: 'default' },
        launcher: { init: unused, serve: unused, doctor: unused },
        fetch: undefined,
      },
      'test',
      argv,
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('lists models, sets and shows a budget, and reports costs as JSON', async () => {
    const models = await cli('--format', 'json', 'models');
    expect(models.code).toBe(0);
    expect(JSON.parse(models.out)).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'openai:gpt-5', tier: 'large' })]));

    const set = await cli('--format', 'json', 'budget', 'set', '25', '--scope', 'agent', '--id', 'agt_cli', '--period', 'day');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ scope: 'agent', scope_id: 'agt_cli', limit_usd: 25 });
    const show = await cli('budget', 'show');
    expect(show.out).toMatch(/agt_cli/);

    const cost = await cli('--format', 'json', 'cost', '--by', 'model');
    expect(cost.code).toBe(0);
    expect((JSON.parse(cost.out) as { key: string }[]).at(-1)).toMatchObject({ key: 'TOTAL' });
  });

  it('sets, lists and unsets a change to the catalog', async () => {
    const set = await cli('--format', 'json', 'models', 'set', 'vllm:qwen2.5-72b', '--tier', 'mid', '--input', '0.2', '--output', '0.6', '--context', '32768');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out)).toEqual({ id: 'vllm:qwen2.5-72b', tier: 'mid', context_window: 32768, prices: { input_per_million_usd: 0.2, output_per_million_usd: 0.6 } });
    const listed = await cli('--format', 'json', 'models', 'overrides');
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ id: 'vllm:qwen2.5-72b' })]);
    expect((await cli('models', 'unset', 'vllm:qwen2.5-72b')).code).toBe(0);
    const gone = await cli('models', 'unset', 'vllm:qwen2.5-72b');
    expect(gone).toMatchObject({ code: 1, err: expect.stringMatching(/MODEL_OVERRIDE_NOT_FOUND/) as unknown });
  });

  it('refuses bad options with exit code 2 before calling the server', async () => {
    expect((await cli('models', 'set', 'openai:gpt-5', '--input', '-1')).code).toBe(2);
    expect((await cli('models', 'set', 'openai:gpt-5', '--tier', 'huge')).code).toBe(2);
    expect((await cli('models', 'set', 'openai:gpt-5', '--context', '1.5')).code).toBe(2);
    expect((await cli('budget', 'set', 'ten')).code).toBe(2);
    expect((await cli('budget', 'set', '5', '--scope', 'agent')).code).toBe(2);
    expect((await cli('cost', '--by', 'week')).code).toBe(2);
  });
});
