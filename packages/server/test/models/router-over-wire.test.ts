import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../src/infra/audit/index.js';
import { BudgetService, InMemoryBudgetStore, RecordingBudgetEvents, RecordingTaskCanceller } from '../../src/kernel/budget/index.js';
import { CircuitBreakers, ModelCallFailedError, ModelCatalog, ModelRouter, type ModelOverride } from '../../src/kernel/model-router/index.js';
import { AnthropicProvider, GeminiProvider, OllamaProvider, OpenAiProvider, ProviderRegistry } from '../../src/runtime/providers/index.js';
import { FakeVendorServer } from '../../src/runtime/providers/testing/fake-vendor-server.js';
import { anthropicAnswer, geminiAnswer, ollamaStream, openAiAnswer } from '../../src/runtime/providers/testing/vendor-wire.js';
import { asTenantId, systemContext } from '../../src/shared/context/index.js';
import { SequentialIdGenerator } from '../../src/shared/ids/index.js';
import { ManualClock, silentLogger } from '../../src/shared/ports/index.js';

// Every vendor SDK talks to its own local fake; the router, budget and audit are the real ones.
const vendors = ['openai', 'anthropic', 'google', 'ollama'] as const;
const servers = {} as Record<(typeof vendors)[number], FakeVendorServer>;

beforeAll(async () => {
  for (const vendor of vendors) servers[vendor] = await FakeVendorServer.start();
});
afterAll(async () => {
  for (const vendor of vendors) await servers[vendor].close();
});

function setup() {
  const clock = new ManualClock(new Date('2030-01-10T12:00:00Z'));
  const audit = new InMemoryAuditSink();
  const budget = new BudgetService({
    store: new InMemoryBudgetStore(), audit, clock, ids: new SequentialIdGenerator(), logger: silentLogger,
    events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller(),
  });
  const providers = new ProviderRegistry({
    settings: {},
    extra: [
      new OpenAiProvider({ apiKey: 'sk-o', baseUrl: `${servers.openai.url}/v1`, timeoutMs: 5_000 }),
      new AnthropicProvider({ apiKey: 'sk-a', baseUrl: servers.anthropic.url, timeoutMs: 5_000 }),
      new GeminiProvider({ apiKey: 'sk-g', baseUrl: servers.google.url, timeoutMs: 5_000 }),
      new OllamaProvider({ host: servers.ollama.url }),
    ],
  });
  const overrides: ModelOverride[] = [
    { id: 'openai:o-small', tier: 'small', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 2 } },
    { id: 'anthropic:a-small', tier: 'small', prices: { inputPerMillionUsd: 2, outputPerMillionUsd: 4 } },
    { id: 'google:g-mid', tier: 'mid', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 1 } },
    { id: 'ollama:l-mid', tier: 'mid', prices: { inputPerMillionUsd: 0, outputPerMillionUsd: 0 } },
  ];
  const sleeps: number[] = [];
  const router = new ModelRouter({
    catalog: new ModelCatalog({ defaults: [], deploymentOverrides: overrides }),
    providers, availableProviders: () => providers.names(), budget, audit, clock, logger: silentLogger,
    breakers: new CircuitBreakers({ clock }),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0,
  });
  const ctx = systemContext(asTenantId('tnt_wire'), 'test');
  return { router, budget, audit, ctx, sleeps };
}

const ask = [{ role: 'user' as const, content: 'hello' }];

describe('ModelRouter over the vendor wire formats', () => {
  it('runs a call on each vendor through its official SDK and charges each', async () => {
    const { router, budget, ctx } = setup();
    await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000 });
    servers.openai.enqueue(openAiAnswer({ text: 'from openai' }));
    servers.anthropic.enqueue(anthropicAnswer({ text: 'from anthropic' }));
    servers.google.enqueue(geminiAnswer({ text: 'from gemini' }));
    servers.ollama.enqueue(ollamaStream({ text: 'from ollama' }));
    const texts: string[] = [];
    for (const model of ['openai:o-small', 'anthropic:a-small', 'google:g-mid', 'ollama:l-mid']) {
      const result = await router.call(ctx, { messages: ask, model, maxOutputTokens: 100 });
      expect(result.modelId).toBe(model);
      texts.push(result.response.text);
    }
    expect(texts).toEqual(['from openai', 'from anthropic', 'from gemini', 'from ollama']);
    const costs = await budget.costs(ctx, 'model');
    expect(costs.map((c) => c.key)).toEqual(['anthropic:a-small', 'google:g-mid', 'ollama:l-mid', 'openai:o-small']);
  });

  it('waits out a real 429 retry-after, and falls back from a vendor streaming garbage to the next vendor', async () => {
    const { router, ctx, sleeps, audit } = setup();
    servers.openai.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down' } } }, openAiAnswer({ text: 'after the wait' }));
    const waited = await router.call(ctx, { messages: ask, model: 'openai:o-small' });
    expect(waited).toMatchObject({ modelId: 'openai:o-small', attempts: 2 });
    expect(sleeps).toEqual([1000]);

    const garbage = { kind: 'raw' as const, contentType: 'text/event-stream', body: 'data: {"choices": [ {"delta": \n\n' };
    servers.openai.enqueue(garbage, garbage, garbage);
    servers.anthropic.enqueue(anthropicAnswer({ text: 'anthropic saves the day' }));
    const fallback = await router.call(ctx, { messages: ask, model: 'openai:o-small' });
    expect(fallback.modelId).toBe('anthropic:a-small');
    expect(fallback.response.text).toBe('anthropic saves the day');
    expect(audit.entries.filter((e) => e.entry.kind === 'llm.call').at(-1)?.entry.payload).toMatchObject({ model: 'anthropic:a-small', fallbacks: 1 });
  });

  it('names every vendor and its attempts when all of them fail', async () => {
    const { router, ctx } = setup();
    servers.openai.enqueue(...Array.from({ length: 3 }, () => ({ kind: 'json' as const, status: 503, body: { error: { message: 'down' } } })));
    servers.anthropic.enqueue(...Array.from({ length: 3 }, () => ({ kind: 'json' as const, status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } })));
    servers.google.enqueue({ kind: 'json', status: 400, body: { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } } });
    servers.ollama.enqueue({ kind: 'json', status: 404, body: { error: 'model not found' } });
    const error = await router.call(ctx, { messages: ask, model: 'openai:o-small' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCallFailedError);
    expect((error as ModelCallFailedError).attempts).toEqual([
      { model: 'openai:o-small', attempts: 3, error: 'PROVIDER_UNAVAILABLE' },
      { model: 'anthropic:a-small', attempts: 3, error: 'PROVIDER_UNAVAILABLE' },
      // Within the mid tier the cheaper model (ollama, free) is tried first.
      { model: 'ollama:l-mid', attempts: 1, error: 'PROVIDER_REJECTED' },
      { model: 'google:g-mid', attempts: 1, error: 'PROVIDER_REJECTED' },
    ]);
  });
});
