import type { AuditEntryInput, AuditSink } from '../../infra/audit/index.js';
import { Deadline } from '../../shared/async/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import { errorMessage, isAppError } from '../../shared/errors/index.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import { costMicros, MODEL_TIERS, type ModelCatalog, type ModelEntry, type ModelPrices, type ModelTier } from './catalog.js';
import type { CircuitBreakers } from './circuit-breaker.js';
import { estimateComplexity, type ComplexityEstimate } from './complexity.js';
import {
  ModelCallFailedError,
  ProviderAbortedError,
  ProviderCircuitOpenError,
  ProviderError,
  ProviderRateLimitedError,
  ProviderTimeoutError,
  ProviderBadResponseError,
  RoutingDeniedError,
} from './errors.js';
import type { ChatMessage, ChatOptions, ChatResponse, ModelProvider, ProviderResolver, StreamChunk, ToolDefinition } from './provider-port.js';
import { responseCacheKey, type CachedResponse, type ResponseCacheStore } from './response-cache.js';
import { DEFAULT_RETRY_POLICY, realSleep, retryDelayMs, type RetryPolicy, type Sleeper } from './retry-policy.js';
import { noSuccessRates, type CallScope, type RouterBudget, type SuccessRateSource } from './router-ports.js';
import { applyRoutingTable, TIGHT_BUDGET_UTILISATION, type Delivery, type Latency } from './routing-table.js';

export interface ModelRequest {
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolDefinition[];
  /** Pin a model (`provider:model`); the router still prices, budgets, retries and falls back. */
  readonly model?: string;
  readonly maxOutputTokens?: number;
  readonly temperature?: number;
  readonly stopSequences?: readonly string[];
  readonly thinkingBudgetTokens?: number;
  readonly latency?: Latency;
  readonly scope?: CallScope;
  readonly signal?: AbortSignal;
}

export interface RoutedModel {
  readonly modelId: string;
  readonly provider: string;
  readonly model: string;
  readonly tier: ModelTier;
  /** The most this call can cost on this model (reserved before calling), micro-USD. */
  readonly maxCostMicros: number;
  /** The prices the decision was made with; the call is charged at these, whatever changes meanwhile. */
  readonly prices: ModelPrices;
}

/** Why the router chose what it chose; returned by `explain` and ledgered as `model.routed`. */
export interface RoutingDecision {
  readonly complexity: ComplexityEstimate;
  readonly budget: { readonly utilisation: number; readonly tight: boolean; readonly budgetId: string | undefined };
  readonly latency: Latency;
  readonly delivery: Delivery;
  readonly preferCache: boolean;
  readonly chain: readonly RoutedModel[];
  readonly denied: string | undefined;
  readonly reasons: readonly string[];
}

export interface ModelCallResult {
  readonly response: ChatResponse;
  readonly modelId: string;
  readonly costMicros: number;
  readonly cached: boolean;
  readonly attempts: number;
  readonly decision: RoutingDecision;
}

export interface ModelRouterDeps {
  readonly catalog: ModelCatalog;
  readonly providers: ProviderResolver;
  /** Names of the providers this deployment can call (models of others are never routed to). */
  readonly availableProviders: () => readonly string[];
  readonly budget: RouterBudget;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly breakers: CircuitBreakers;
  readonly cache?: ResponseCacheStore;
  readonly successRates?: SuccessRateSource;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: Sleeper;
  readonly random?: () => number;
  /** Per attempt; default 120 s. */
  readonly timeoutMs?: number;
  /** Most models tried per call (first choice plus fallbacks); default 4. */
  readonly maxChain?: number;
  /** Output tokens reserved for when neither the call nor the model sets a smaller cap; default 4,096. */
  readonly defaultMaxOutputTokens?: number;
}

const estimateTokens = (messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): number =>
  Math.ceil((messages.reduce((n, m) => n + m.content.length + (m.toolCalls?.reduce((k, c) => k + c.argumentsJson.length + c.name.length, 0) ?? 0), 0) + JSON.stringify(tools).length) / 4) + 4 * messages.length;

/**
 * The model router (spec §19): estimates complexity, reads budget pressure, applies the routing
 * table, then calls the chain of models in order. Each model's maximum cost is reserved before it
 * is called (BUDGET_EXHAUSTED before any provider is touched) and settled at the real cost after.
 * Retryable failures are retried with backoff and jitter (or the provider's retry-after), feed the
 * provider's circuit breaker, and then fall back to the next model. Every decision is audited.
 */
export class ModelRouter {
  readonly #d: ModelRouterDeps;
  readonly #retry: RetryPolicy;
  readonly #sleep: Sleeper;
  readonly #log: Logger;

  constructor(deps: ModelRouterDeps) {
    this.#d = deps;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
    this.#sleep = deps.sleep ?? realSleep;
    this.#log = deps.logger.child({ module: 'model-router' });
  }

  /** Decides without calling anything. @throws {UnknownModelError} for a pinned model with no price. */
  async explain(ctx: TenantContext, request: ModelRequest): Promise<RoutingDecision> {
    const tools = request.tools ?? [];
    const complexity = estimateComplexity(request.messages, tools);
    const pressure = await this.#d.budget.pressure(ctx, request.scope);
    const tight = pressure.utilisation >= TIGHT_BUDGET_UTILISATION;
    const latency = request.latency ?? 'normal';
    const table = applyRoutingTable(complexity.level, tight, latency);
    const reasons = [
      `complexity ${complexity.level} (score ${String(complexity.score)})`,
      `budget utilisation ${(pressure.utilisation * 100).toFixed(1)} %${tight ? ' (tight)' : ''}`,
      table.reason,
    ];
    const base = { complexity, budget: { utilisation: pressure.utilisation, tight, budgetId: pressure.budgetId }, latency, delivery: table.delivery, preferCache: table.preferCache };
    if (table.denied !== undefined) return { ...base, chain: [], denied: table.denied, reasons };

    const inputTokens = estimateTokens(request.messages, tools);
    const available = new Set(this.#d.availableProviders());
    const entries = await this.#d.catalog.list(ctx.tenantId);
    const fits = (e: ModelEntry): boolean =>
      available.has(e.provider) && (tools.length === 0 || e.capabilities.tools) && e.contextWindow >= inputTokens + this.#outputCap(request, e);
    const chain: ModelEntry[] = [];
    if (request.model !== undefined) {
      const pinned = await this.#d.catalog.get(ctx.tenantId, request.model);
      if (tight && MODEL_TIERS.indexOf(pinned.tier) > MODEL_TIERS.indexOf(table.tiers.at(-1) ?? 'small')) {
        reasons.push(`pinned ${pinned.id} (${pinned.tier}) downgraded: budget tight`);
      } else {
        chain.push(pinned);
        reasons.push(`pinned model ${pinned.id}`);
      }
    }
    const rates = this.#d.successRates ?? noSuccessRates;
    for (const tier of table.tiers) {
      const peers = entries
        .filter((e) => e.tier === tier && e.model !== '*' && fits(e) && !chain.some((c) => c.id === e.id))
        .sort((a, b) => (rates.successRate(ctx.tenantId, b.id) ?? 0.5) - (rates.successRate(ctx.tenantId, a.id) ?? 0.5) || price(a) - price(b) || a.id.localeCompare(b.id));
      chain.push(...peers);
    }
    const routed = chain.slice(0, this.#d.maxChain ?? 4).map((e) => ({
      modelId: e.id,
      provider: e.provider,
      model: e.model,
      tier: e.tier,
      maxCostMicros: costMicros(e.prices, { inputTokens, outputTokens: this.#outputCap(request, e), cachedInputTokens: 0 }),
      prices: e.prices,
    }));
    if (routed.length === 0) reasons.push('no catalog model of the chosen tiers is available with the needed capabilities');
    else reasons.push(`chain: ${routed.map((r) => r.modelId).join(' -> ')}`);
    return { ...base, chain: routed, denied: undefined, reasons };
  }

  /**
   * Routes and runs one call.
   * @throws {RoutingDeniedError} when the table denies it (tight budget, high complexity).
   * @throws {BudgetExhaustedError} (from the budget engine) before any provider is called.
   * @throws {ModelCallFailedError} when every model in the chain failed; names each and its attempts.
   * @throws {ProviderAbortedError} when the caller's signal aborted.
   */
  async call(ctx: TenantContext, request: ModelRequest): Promise<ModelCallResult> {
    const { decision, routed } = await this.#routeOrDeny(ctx, request);
    const tools = request.tools ?? [];
    const deterministic = request.temperature === 0 && this.#d.cache !== undefined;
    const cacheKey = deterministic
      ? responseCacheKey(ctx.tenantId, { m: request.messages, t: tools, model: request.model ?? null, chain: decision.chain.map((c) => c.modelId), o: request.maxOutputTokens ?? null, s: request.stopSequences ?? null })
      : undefined;
    if (cacheKey !== undefined) {
      const hit = await this.#cached(ctx, cacheKey);
      if (hit) {
        await this.#d.audit.append(ctx, routed);
        await this.#d.audit.append(ctx, { kind: 'llm.cache_hit', subject: scopeSubject(request.scope), payload: { model: hit.modelId, cost_micros: 0 } });
        return { response: hit.response, modelId: hit.modelId, costMicros: 0, cached: true, attempts: 0, decision };
      }
    }

    const failures: CallFailure[] = [];
    let lastError: unknown;
    for (const candidate of decision.chain) {
      if (!this.#d.breakers.tryAcquire(candidate.provider)) {
        const open = new ProviderCircuitOpenError(candidate.provider);
        failures.push({ model: candidate.modelId, attempts: 0, error: open.code });
        lastError = open;
        continue;
      }
      // Throws BUDGET_EXHAUSTED before this provider is called.
      const reservation = await this.#d.budget.reserve(ctx, { amountMicros: candidate.maxCostMicros, kind: 'llm', item: candidate.modelId, ...(request.scope ? { scope: request.scope } : {}) });
      const outcome = await this.#attempt(ctx, { candidate, userSignal: request.signal }, async (provider, signal) => {
        const response = await provider.chat(request.messages, tools, this.#chatOptions(candidate, request, signal));
        this.#d.breakers.onSuccess(candidate.provider);
        return response;
      });
      if (outcome.ok) {
        const response = outcome.value;
        const cost = costMicros(candidate.prices, response.usage);
        // The decision, the charge and the call's record commit together: one durable write.
        await this.#d.budget.settleRecording(ctx, {
          reservationId: reservation.id,
          chargedMicros: cost,
          before: [routed],
          after: [{
            kind: 'llm.call',
            subject: scopeSubject(request.scope),
            payload: {
              model: candidate.modelId,
              attempts: outcome.attempts,
              fallbacks: failures.length,
              input_tokens: response.usage.inputTokens,
              output_tokens: response.usage.outputTokens,
              cached_tokens: response.usage.cachedInputTokens,
              cost_micros: cost,
              reserved_micros: candidate.maxCostMicros,
              stop_reason: response.stopReason,
              latency_ms: outcome.latencyMs,
            },
          }],
        });
        if (cacheKey !== undefined) await this.#remember(ctx, cacheKey, { response, modelId: candidate.modelId });
        return { response, modelId: candidate.modelId, costMicros: cost, cached: false, attempts: outcome.attempts, decision };
      }
      await this.#d.budget.release(ctx, reservation.id);
      lastError = outcome.error;
      failures.push({ model: candidate.modelId, attempts: outcome.attempts, error: isAppError(outcome.error) ? outcome.error.code : 'UNKNOWN' });
      if (outcome.error instanceof ProviderAbortedError) {
        await this.#auditFailure(ctx, { request, routed, failures });
        throw outcome.error;
      }
    }
    await this.#auditFailure(ctx, { request, routed, failures });
    throw new ModelCallFailedError(failures, lastError);
  }

  /**
   * Routes one call and streams its chunks. Retries and fallbacks happen only before the first
   * chunk: once output has reached the caller, a failure ends the stream with the error, and the
   * reservation is charged in full because the vendor's real usage is unknown (fail closed).
   * The `done` chunk is yielded after the charge is settled and audited.
   * @throws the same errors as `call`.
   */
  async *stream(ctx: TenantContext, request: ModelRequest): AsyncGenerator<StreamChunk, void, undefined> {
    const { decision, routed } = await this.#routeOrDeny(ctx, request);
    const tools = request.tools ?? [];
    const failures: CallFailure[] = [];
    let lastError: unknown;
    for (const candidate of decision.chain) {
      if (!this.#d.breakers.tryAcquire(candidate.provider)) {
        failures.push({ model: candidate.modelId, attempts: 0, error: 'PROVIDER_CIRCUIT_OPEN' });
        lastError = new ProviderCircuitOpenError(candidate.provider);
        continue;
      }
      const reservation = await this.#d.budget.reserve(ctx, { amountMicros: candidate.maxCostMicros, kind: 'llm', item: candidate.modelId, ...(request.scope ? { scope: request.scope } : {}) });
      const opened = await this.#attempt(ctx, { candidate, userSignal: request.signal, holdDeadline: true }, async (provider, signal) => {
        const iterator = provider.chatStream(request.messages, tools, this.#chatOptions(candidate, request, signal))[Symbol.asyncIterator]();
        const first = await iterator.next();
        return { iterator, first };
      });
      if (!opened.ok) {
        await this.#d.budget.release(ctx, reservation.id);
        lastError = opened.error;
        failures.push({ model: candidate.modelId, attempts: opened.attempts, error: isAppError(opened.error) ? opened.error.code : 'UNKNOWN' });
        if (opened.error instanceof ProviderAbortedError) break;
        continue;
      }
      let next = opened.value.first;
      try {
        while (!next.done) {
          const chunk = next.value;
          if (chunk.type === 'done') {
            this.#d.breakers.onSuccess(candidate.provider);
            const cost = costMicros(candidate.prices, chunk.usage);
            await this.#d.budget.settleRecording(ctx, {
              reservationId: reservation.id,
              chargedMicros: cost,
              before: [routed],
              after: [{
                kind: 'llm.call',
                subject: scopeSubject(request.scope),
                payload: { model: candidate.modelId, attempts: opened.attempts, fallbacks: failures.length, streamed: true, input_tokens: chunk.usage.inputTokens, output_tokens: chunk.usage.outputTokens, cached_tokens: chunk.usage.cachedInputTokens, cost_micros: cost, reserved_micros: candidate.maxCostMicros, stop_reason: chunk.stopReason },
              }],
            });
            yield chunk;
            return;
          }
          yield chunk;
          next = await opened.value.iterator.next();
        }
        throw new ProviderBadResponseError(candidate.provider, 'stream ended without a done chunk');
      } catch (error) {
        if (error instanceof ProviderError && error.retryable) this.#d.breakers.onFailure(candidate.provider);
        failures.push({ model: candidate.modelId, attempts: opened.attempts, error: isAppError(error) ? error.code : 'UNKNOWN' });
        await this.#d.budget.settleRecording(ctx, { reservationId: reservation.id, chargedMicros: candidate.maxCostMicros, before: [routed], after: [failureEntry(request, failures)] });
        throw error;
      } finally {
        // The stream read under the opening attempt's deadline; it ends here, also when the consumer stops early.
        opened.deadline?.[Symbol.dispose]();
      }
    }
    await this.#auditFailure(ctx, { request, routed, failures });
    if (lastError instanceof ProviderAbortedError) throw lastError;
    throw new ModelCallFailedError(failures, lastError);
  }

  #chatOptions(candidate: RoutedModel, request: ModelRequest, signal: AbortSignal): ChatOptions {
    return {
      model: candidate.model,
      signal,
      ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.stopSequences === undefined ? {} : { stopSequences: request.stopSequences }),
      ...(request.thinkingBudgetTokens === undefined ? {} : { thinkingBudgetTokens: request.thinkingBudgetTokens }),
    };
  }

  /**
   * Explains and returns the decision with its audit entry, which the caller commits with the
   * call's charge (or its failure); a denial or an empty chain is audited here and thrown.
   */
  async #routeOrDeny(ctx: TenantContext, request: ModelRequest): Promise<{ decision: RoutingDecision; routed: AuditEntryInput }> {
    const decision = await this.explain(ctx, request);
    const routed: AuditEntryInput = {
      kind: 'model.routed',
      subject: scopeSubject(request.scope),
      payload: {
        chain: decision.chain.map((m) => m.modelId),
        complexity_score: decision.complexity.score,
        complexity_level: decision.complexity.level,
        budget_utilisation: decision.budget.utilisation,
        latency: decision.latency,
        delivery: decision.delivery,
        denied: decision.denied ?? null,
        reasons: [...decision.reasons, ...decision.complexity.reasons],
      },
    };
    if (decision.denied !== undefined || decision.chain.length === 0) {
      await this.#d.audit.append(ctx, routed);
      if (decision.denied !== undefined) throw new RoutingDeniedError(decision.denied);
      throw new ModelCallFailedError([]);
    }
    return { decision, routed };
  }

  /**
   * Runs `run` against the candidate's provider with retries: retryable failures feed the circuit
   * breaker and wait (backoff with jitter, or the provider's retry-after) before the next attempt.
   * Each attempt runs under its own deadline (`timeoutMs`, or the caller's signal). It ends with
   * the attempt, unless `holdDeadline` asks for the successful attempt's deadline to be handed
   * back: a stream read after `run` returns stays under it until the caller disposes it.
   */
  async #attempt<TResult>(
    ctx: TenantContext,
    target: { readonly candidate: RoutedModel; readonly userSignal: AbortSignal | undefined; readonly holdDeadline?: boolean },
    run: (provider: ModelProvider, signal: AbortSignal) => Promise<TResult>,
  ): Promise<{ ok: true; value: TResult; attempts: number; latencyMs: number; deadline: Deadline | undefined } | { ok: false; error: unknown; attempts: number }> {
    const timeoutMs = this.#d.timeoutMs ?? 120_000;
    const { candidate, userSignal } = target;
    let attempts = 0;
    for (;;) {
      attempts++;
      const started = performance.now();
      const deadline = new Deadline(timeoutMs, userSignal);
      let held = false;
      try {
        const provider = await this.#d.providers.resolve(ctx, candidate.provider);
        const value = await run(provider, deadline.signal);
        held = target.holdDeadline === true;
        return { ok: true, value, attempts, latencyMs: performance.now() - started, deadline: held ? deadline : undefined };
      } catch (caught) {
        let error = caught;
        if (deadline.timedOut && !userSignal?.aborted) error = new ProviderTimeoutError(candidate.provider, timeoutMs, caught);
        const retryable = error instanceof ProviderError && error.retryable;
        if (retryable) this.#d.breakers.onFailure(candidate.provider);
        this.#log.warn('llm.attempt-failed', { tenantId: ctx.tenantId, model: candidate.modelId, attempt: attempts, code: isAppError(error) ? error.code : 'UNKNOWN' });
        if (!retryable || attempts >= this.#retry.maxAttempts) return { ok: false, error, attempts };
        const retryAfter = error instanceof ProviderRateLimitedError ? error.retryAfterMs : undefined;
        if (retryAfter !== undefined && retryAfter > this.#retry.maxRetryAfterMs) return { ok: false, error, attempts };
        if (!this.#d.breakers.tryAcquire(candidate.provider)) return { ok: false, error: new ProviderCircuitOpenError(candidate.provider), attempts };
        try {
          await this.#sleep(retryDelayMs(this.#retry, attempts, { retryAfterMs: retryAfter, random: this.#d.random }), userSignal);
        } catch (sleepError) {
          return { ok: false, error: new ProviderAbortedError(candidate.provider, sleepError), attempts };
        }
      } finally {
        if (!held) deadline[Symbol.dispose]();
      }
    }
  }

  /** The cached answer for `key`; a cache that fails is logged and counts as a miss. */
  async #cached(ctx: TenantContext, key: string): Promise<CachedResponse | undefined> {
    try {
      return await this.#d.cache?.get(key);
    } catch (error) {
      this.#log.warn('llm.cache-read-failed', { tenantId: ctx.tenantId, error: errorMessage(error) });
      return undefined;
    }
  }

  /** Caches an answer; a cache that fails is logged, and the call it answered still succeeds. */
  async #remember(ctx: TenantContext, key: string, entry: CachedResponse): Promise<void> {
    try {
      await this.#d.cache?.set(key, entry);
    } catch (error) {
      this.#log.warn('llm.cache-write-failed', { tenantId: ctx.tenantId, error: errorMessage(error) });
    }
  }

  async #auditFailure(ctx: TenantContext, failed: { request: ModelRequest; routed: AuditEntryInput; failures: readonly CallFailure[] }): Promise<void> {
    await this.#d.audit.append(ctx, failed.routed);
    await this.#d.audit.append(ctx, failureEntry(failed.request, failed.failures));
  }

  #outputCap(request: ModelRequest, entry: ModelEntry): number {
    return Math.min(request.maxOutputTokens ?? this.#d.defaultMaxOutputTokens ?? 4_096, entry.maxOutputTokens);
  }
}

const price = (e: ModelEntry): number => e.prices.inputPerMillionUsd + e.prices.outputPerMillionUsd;

interface CallFailure {
  readonly model: string;
  readonly attempts: number;
  readonly error: string;
}

function failureEntry(request: ModelRequest, failures: readonly CallFailure[]): AuditEntryInput {
  return {
    kind: 'llm.failed',
    subject: scopeSubject(request.scope),
    payload: { tried: failures.map((f) => `${f.model}:${String(f.attempts)}:${f.error}`), attempts: failures.reduce((n, f) => n + f.attempts, 0) },
  };
}

function scopeSubject(scope: CallScope | undefined): Record<string, string> {
  return {
    ...(scope?.agentId === undefined ? {} : { agent_id: scope.agentId }),
    ...(scope?.taskId === undefined ? {} : { task_id: scope.taskId }),
    ...(scope?.subAgentId === undefined ? {} : { subagent_id: scope.subAgentId }),
  };
}

