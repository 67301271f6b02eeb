import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import type { Database } from '../../infra/database/index.js';
import { openTestDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, systemContext, type TenantContext } from '../../shared/context/index.js';
import { SequentialIdGenerator } from '../../shared/ids/index.js';
import { ManualClock, MemoryLogger, silentLogger } from '../../shared/ports/index.js';
import { BudgetExhaustedError, BudgetService, PgBudgetStore, RecordingBudgetEvents, RecordingTaskCanceller, budgetMigrations } from '../budget/index.js';
import { ModelCatalog, type ModelOverride } from './catalog.js';
import { CircuitBreakers } from './circuit-breaker.js';
import {
  ModelCallFailedError,
  ProviderAbortedError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  RoutingDeniedError,
} from './errors.js';
import { ModelRouter, type ModelRouterDeps } from './model-router.js';
import { collectStream, type ChatOptions, type ModelProvider, type StreamChunk } from './provider-port.js';
import { ResponseCache, type ResponseCacheStore } from './response-cache.js';

type Step = { text: string; inputTokens?: number; outputTokens?: number; breakAfterText?: () => Error } | { error: () => Error } | { hang: true };

/** A provider answering from a queue of steps; records the models it was asked for. */
class FakeProvider implements ModelProvider {
  readonly calls: string[] = [];
  /** The signal each call was given. */
  readonly signals: (AbortSignal | undefined)[] = [];
  readonly #steps: Step[];
  readonly #fallback: Step;
  constructor(readonly name: string, steps: Step[] = [], fallback: Step = { text: 'ok' }) {
    this.#steps = steps;
    this.#fallback = fallback;
  }
  chat(messages: Parameters<ModelProvider['chat']>[0], tools: Parameters<ModelProvider['chat']>[1], options: ChatOptions) {
    return collectStream(this.chatStream(messages, tools, options));
  }
  async *chatStream(_m: unknown, _t: unknown, options: ChatOptions): AsyncIterable<StreamChunk> {
    this.calls.push(options.model);
    this.signals.push(options.signal);
    const step = this.#steps.shift() ?? this.#fallback;
    if ('error' in step) throw step.error();
    if ('hang' in step) {
      await new Promise((_, reject) => {
        options.signal?.addEventListener('abort', () => {
          reject(new ProviderAbortedError(this.name));
        });
      });
      return;
    }
    yield { type: 'text_delta', text: step.text };
    if (step.breakAfterText) throw step.breakAfterText();
    yield { type: 'done', usage: { inputTokens: step.inputTokens ?? 1000, outputTokens: step.outputTokens ?? 500, cachedInputTokens: 0 }, stopReason: 'end' };
  }
}

/** The budgets once the service has handed its headroom leases back, so `reserved` shows only work still open. */
async function budgetsAfterClose(budget: BudgetService, ctx: TenantContext) {
  await budget.close();
  return budget.listBudgets(ctx);
}

const catalogOverrides: ModelOverride[] = [
  { id: 'alpha:small-1', tier: 'small', prices: { inputPerMillionUsd: 1, outputPerMillionUsd: 2 }, contextWindow: 100_000, maxOutputTokens: 1000 },
  { id: 'beta:small-2', tier: 'small', prices: { inputPerMillionUsd: 2, outputPerMillionUsd: 4 }, contextWindow: 100_000, maxOutputTokens: 1000 },
  { id: 'alpha:mid-1', tier: 'mid', prices: { inputPerMillionUsd: 5, outputPerMillionUsd: 10 }, contextWindow: 100_000, maxOutputTokens: 1000 },
  { id: 'beta:large-1', tier: 'large', prices: { inputPerMillionUsd: 20, outputPerMillionUsd: 40 }, contextWindow: 100_000, maxOutputTokens: 1000 },
];

describe('ModelRouter', () => {
  let db: Database;
  let tenantCounter = 0;
  beforeAll(async () => {
    db = await openTestDatabase('pglite', budgetMigrations);
  });
  afterAll(async () => {
    await db.close();
  });

  function setup(options: { alpha?: FakeProvider; beta?: FakeProvider; deps?: Partial<ModelRouterDeps> } = {}) {
    const clock = new ManualClock(new Date('2030-01-10T12:00:00Z'));
    const audit = new InMemoryAuditSink();
    const ctx: TenantContext = systemContext(asTenantId(`tnt_router${String(++tenantCounter)}`), 'test');
    const budget = new BudgetService({
      store: new PgBudgetStore({ db }), audit, clock, ids: new SequentialIdGenerator(), logger: silentLogger,
      events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller(),
    });
    const alpha = options.alpha ?? new FakeProvider('alpha');
    const beta = options.beta ?? new FakeProvider('beta');
    const sleeps: number[] = [];
    const providers = new Map<string, ModelProvider>([['alpha', alpha], ['beta', beta]]);
    const router = new ModelRouter({
      catalog: new ModelCatalog({ defaults: [], deploymentOverrides: catalogOverrides }),
      providers: { resolve: (_ctx, name) => Promise.resolve(providers.get(name) as ModelProvider) },
      availableProviders: () => ['alpha', 'beta'],
      budget, audit, clock, logger: silentLogger,
      breakers: new CircuitBreakers({ clock }),
      cache: new ResponseCache({ clock }),
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      ...options.deps,
    });
    return { router, budget, audit, ctx, alpha, beta, sleeps, clock };
  }
  const ask = (content: string) => [{ role: 'user' as const, content }];
  const hard = 'Design the architecture of a distributed, formally verified payment system; prove the concurrency algorithm is free of deadlock and race condition, analyse the security trade-offs. ' .repeat(20);

  describe('ModelRouter.explain', () => {
    it('routes low complexity to the cheapest small model and explains why', async () => {
      const { router, ctx } = setup();
      const decision = await router.explain(ctx, { messages: ask('hi') });
      expect(decision.complexity.level).toBe('low');
      expect(decision.chain.map((m) => m.modelId)).toEqual(['alpha:small-1', 'beta:small-2', 'alpha:mid-1']);
      expect(decision.reasons.join(' ')).toMatch(/low complexity: small model/);
    });

    it('routes high complexity to the large tier', async () => {
      const { router, ctx } = setup();
      const decision = await router.explain(ctx, { messages: ask(hard) });
      expect(decision.complexity.level).toBe('high');
      expect(decision.chain[0]?.modelId).toBe('beta:large-1');
    });

    it('under a tight budget keeps low work on small models, denies high complexity and downgrades a pinned large model', async () => {
      const { router, budget, ctx } = setup();
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000 });
      const r = await budget.reserve(ctx, { amountMicros: 950_000, kind: 'tool', item: 'x' });
      await budget.settle(ctx, r.id, 950_000);
      const low = await router.explain(ctx, { messages: ask('hi') });
      expect(low.budget.tight).toBe(true);
      expect(new Set(low.chain.map((m) => m.tier))).toEqual(new Set(['small']));
      expect((await router.explain(ctx, { messages: ask(hard) })).denied).toMatch(/budget tight/);
      const pinned = await router.explain(ctx, { messages: ask('hi'), model: 'beta:large-1' });
      expect(pinned.chain.map((m) => m.modelId)).not.toContain('beta:large-1');
      expect(pinned.reasons.join(' ')).toMatch(/downgraded/);
    });

    it('streams medium work when latency is critical', async () => {
      const { router, ctx } = setup();
      const medium = 'Refactor this function to optimize it:\n```ts\nfunction add(a, b) { return a + b; }\nconst x = () => add(1, 2);\n```';
      const decision = await router.explain(ctx, { messages: ask(medium), latency: 'critical' });
      expect(decision.complexity.level).toBe('medium');
      expect(decision.delivery).toBe('stream');
      expect(decision.chain[0]?.tier).toBe('mid');
    });
  });

  describe('ModelRouter.call', () => {
    it('reserves, calls, settles the real cost and audits the decision and the charge', async () => {
      const { router, budget, audit, ctx, alpha } = setup();
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 10_000_000 });
      const result = await router.call(ctx, { messages: ask('hi'), scope: { taskId: 'task_1' } });
      expect(result.modelId).toBe('alpha:small-1');
      expect(alpha.calls).toEqual(['small-1']);
      // 1000 input at 1 USD/M + 500 output at 2 USD/M = 2000 micro-USD
      expect(result.costMicros).toBe(2000);
      expect((await budgetsAfterClose(budget, ctx))[0]).toMatchObject({ spentMicros: 2000, reservedMicros: 0 });
      expect(audit.kinds(ctx.tenantId)).toEqual(['budget.set', 'model.routed', 'budget.charged', 'llm.call']);
      const routed = audit.entries.find((e) => e.entry.kind === 'model.routed');
      expect(routed?.entry.payload['reasons']).toEqual(expect.arrayContaining([expect.stringMatching(/low complexity/)]));
      expect(routed?.entry.subject).toEqual({ task_id: 'task_1' });
    });

    it('refuses with BUDGET_EXHAUSTED before any provider is called', async () => {
      const { router, budget, ctx, alpha, beta, audit } = setup();
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 100 });
      await expect(router.call(ctx, { messages: ask('hi') })).rejects.toBeInstanceOf(BudgetExhaustedError);
      expect(alpha.calls).toEqual([]);
      expect(beta.calls).toEqual([]);
      expect(audit.kinds(ctx.tenantId)).toContain('budget.refused');
    });

    it('waits out a 429 retry-after and succeeds on the same model', async () => {
      const alpha = new FakeProvider('alpha', [{ error: () => new ProviderRateLimitedError('alpha', 2000) }]);
      const { router, ctx, sleeps } = setup({ alpha });
      const result = await router.call(ctx, { messages: ask('hi') });
      expect(result).toMatchObject({ modelId: 'alpha:small-1', attempts: 2 });
      expect(sleeps).toEqual([2000]);
    });

    it('retries a 5xx with jittered backoff, then falls back to the next model', async () => {
      const alpha = new FakeProvider('alpha', [], { error: () => new ProviderUnavailableError('alpha', 503) });
      const { router, ctx, sleeps, audit, budget } = setup({ alpha });
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 10_000_000 });
      const result = await router.call(ctx, { messages: ask('hi') });
      expect(result.modelId).toBe('beta:small-2');
      expect(alpha.calls).toHaveLength(3);
      expect(sleeps).toEqual([125, 250]);
      expect(audit.entries.find((e) => e.entry.kind === 'llm.call')?.entry.payload).toMatchObject({ model: 'beta:small-2', fallbacks: 1 });
      // The failed model's reservation was released: only the real charge remains.
      expect((await budgetsAfterClose(budget, ctx))[0]).toMatchObject({ reservedMicros: 0, spentMicros: result.costMicros });
    });

    it('does not retry a rejected request, and names every provider and attempt when all fail', async () => {
      const alpha = new FakeProvider('alpha', [], { error: () => new ProviderRejectedError('alpha', 400) });
      const beta = new FakeProvider('beta', [], { error: () => new ProviderUnavailableError('beta', 500) });
      const { router, ctx, audit } = setup({ alpha, beta });
      const error = (await router.call(ctx, { messages: ask('hi') }).catch((e: unknown) => e)) as ModelCallFailedError;
      expect(error).toBeInstanceOf(ModelCallFailedError);
      expect(error.code).toBe('MODEL_CALL_FAILED');
      expect(error.attempts).toEqual([
        { model: 'alpha:small-1', attempts: 1, error: 'PROVIDER_REJECTED' },
        { model: 'beta:small-2', attempts: 3, error: 'PROVIDER_UNAVAILABLE' },
        { model: 'alpha:mid-1', attempts: 1, error: 'PROVIDER_REJECTED' },
      ]);
      expect(error.message).toContain('beta:small-2 (3 attempts');
      expect(error.details).toMatchObject({ attempts: 5 });
      expect(audit.kinds(ctx.tenantId)).toContain('llm.failed');
    });

    it('turns a hung provider into PROVIDER_TIMEOUT and falls back', async () => {
      const alpha = new FakeProvider('alpha', [], { hang: true });
      const { router, ctx } = setup({ alpha, deps: { timeoutMs: 30, retry: { maxAttempts: 1 } } });
      const result = await router.call(ctx, { messages: ask('hi') });
      expect(result.modelId).toBe('beta:small-2');
    });

    it("ends each attempt's deadline with the call: no timer fires later and the caller's signal keeps no listener", async () => {
      const { router, ctx, alpha } = setup({ deps: { timeoutMs: 30 } });
      const caller = new AbortController();
      await router.call(ctx, { messages: ask('hi'), signal: caller.signal });
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      await sleep(60);
      expect(alpha.signals[0]?.aborted).toBe(false);
    });

    it('keeps a stream under its deadline while it is read, and ends the deadline with the stream', async () => {
      const { router, ctx, alpha } = setup({ deps: { timeoutMs: 30 } });
      const reading = router.stream(ctx, { messages: ask('hi') })[Symbol.asyncIterator]();
      await reading.next();
      await sleep(60);
      expect(alpha.signals[0]?.aborted).toBe(true);
      while (!(await reading.next()).done) {
        // the rest of the stream
      }

      const caller = new AbortController();
      const types: string[] = [];
      for await (const chunk of router.stream(ctx, { messages: ask('hi'), signal: caller.signal })) types.push(chunk.type);
      expect(types.at(-1)).toBe('done');
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      await sleep(60);
      expect(alpha.signals[1]?.aborted).toBe(false);
    });

    it('stops at once with PROVIDER_ABORTED when the caller aborts, releasing the reservation', async () => {
      const alpha = new FakeProvider('alpha', [], { hang: true });
      const { router, ctx, beta, budget } = setup({ alpha });
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 10_000_000 });
      const controller = new AbortController();
      setTimeout(() => {
      controller.abort();
    }, 20);
      await expect(router.call(ctx, { messages: ask('hi'), signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
      expect(beta.calls).toEqual([]);
      expect((await budgetsAfterClose(budget, ctx))[0]).toMatchObject({ reservedMicros: 0, spentMicros: 0 });
    });

    it('opens a provider circuit after 5 failures and skips it until the cooldown passes', async () => {
      const alpha = new FakeProvider('alpha', [], { error: () => new ProviderUnavailableError('alpha', 503) });
      const { router, ctx, clock } = setup({ alpha, deps: { retry: { maxAttempts: 5 } } });
      await router.call(ctx, { messages: ask('hi') });
      expect(alpha.calls).toHaveLength(5);
      await router.call(ctx, { messages: ask('hi') });
      expect(alpha.calls).toHaveLength(5);
      clock.advance(60_000);
      await router.call(ctx, { messages: ask('hi') });
      expect(alpha.calls).toHaveLength(6);
    });

    it('answers an identical deterministic request from the cache at no cost', async () => {
      const { router, ctx, alpha, audit } = setup();
      const first = await router.call(ctx, { messages: ask('hi'), temperature: 0 });
      const second = await router.call(ctx, { messages: ask('hi'), temperature: 0 });
      expect(second).toMatchObject({ cached: true, costMicros: 0, modelId: first.modelId });
      expect(second.response.text).toBe(first.response.text);
      expect(alpha.calls).toHaveLength(1);
      expect(audit.kinds(ctx.tenantId)).toContain('llm.cache_hit');
      await router.call(ctx, { messages: ask('hi'), temperature: 0.7 });
      expect(alpha.calls).toHaveLength(2);
    });

    it('treats a failing cache as a miss: the call still goes to the provider, and both failures are logged', async () => {
      const logger = new MemoryLogger();
      const broken: ResponseCacheStore = {
        get: () => Promise.reject(new Error('cache down')),
        set: () => Promise.reject(new Error('cache down')),
      };
      const { router, ctx, alpha } = setup({ deps: { cache: broken, logger } });
      const result = await router.call(ctx, { messages: ask('hi'), temperature: 0 });
      expect(result).toMatchObject({ cached: false, modelId: 'alpha:small-1' });
      expect(alpha.calls).toHaveLength(1);
      expect(logger.records.map((r) => r.event)).toEqual(expect.arrayContaining(['llm.cache-read-failed', 'llm.cache-write-failed']));
    });

    it('refuses high complexity on a tight budget with ROUTING_DENIED', async () => {
      const { router, budget, ctx, alpha } = setup();
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000 });
      const r = await budget.reserve(ctx, { amountMicros: 950_000, kind: 'tool', item: 'x' });
      await budget.settle(ctx, r.id, 950_000);
      await expect(router.call(ctx, { messages: ask(hard) })).rejects.toBeInstanceOf(RoutingDeniedError);
      expect(alpha.calls).toEqual([]);
    });
  });

  describe('ModelRouter.stream', () => {
    it('streams chunks and yields done only after the charge is settled and audited', async () => {
      const { router, budget, ctx, audit } = setup();
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 10_000_000 });
      const seen: string[] = [];
      for await (const chunk of router.stream(ctx, { messages: ask('hi') })) {
        seen.push(chunk.type);
        if (chunk.type === 'done') expect((await budgetsAfterClose(budget, ctx))[0]).toMatchObject({ spentMicros: 2000, reservedMicros: 0 });
      }
      expect(seen).toEqual(['text_delta', 'done']);
      expect(audit.entries.find((e) => e.entry.kind === 'llm.call')?.entry.payload).toMatchObject({ streamed: true, cost_micros: 2000 });
    });

    it('falls back before the first chunk, and after output has started fails closed at the reserved cost', async () => {
      const alpha = new FakeProvider('alpha', [{ error: () => new ProviderRejectedError('alpha', 400) }, { text: 'partial', breakAfterText: () => new ProviderUnavailableError('alpha', 502) }]);
      const { router, budget, ctx, beta } = setup({ alpha });
      await budget.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 10_000_000 });
      const first: string[] = [];
      for await (const chunk of router.stream(ctx, { messages: ask('hi') })) first.push(chunk.type);
      expect(first).toEqual(['text_delta', 'done']);
      expect(beta.calls).toEqual(['small-2']);

      const before = (await budget.listBudgets(ctx))[0]?.spentMicros ?? 0;
      const decision = await router.explain(ctx, { messages: ask('hi') });
      const texts: string[] = [];
      const run = (async () => {
        for await (const chunk of router.stream(ctx, { messages: ask('hi') })) if (chunk.type === 'text_delta') texts.push(chunk.text);
      })();
      await expect(run).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(texts).toEqual(['partial']);
      expect((await budgetsAfterClose(budget, ctx))[0]).toMatchObject({ spentMicros: before + (decision.chain[0]?.maxCostMicros ?? -1), reservedMicros: 0 });
    });
  });
});

