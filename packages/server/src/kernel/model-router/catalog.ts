import { modelOverrideSchema, type ModelOverrideInput } from '@aether/protocol';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { errorMessage, ValidationError } from '../../shared/errors/index.js';
import { UnknownModelError } from './errors.js';

export type ModelTier = 'small' | 'mid' | 'large';
export const MODEL_TIERS: readonly ModelTier[] = ['small', 'mid', 'large'];

export interface ModelCapabilities {
  readonly tools: boolean;
  readonly vision: boolean;
  readonly audio: boolean;
  readonly thinking: boolean;
}

/** Prices in USD per million tokens. */
export interface ModelPrices {
  readonly inputPerMillionUsd: number;
  readonly outputPerMillionUsd: number;
  readonly cachedInputPerMillionUsd: number;
}

/**
 * One model the router may use. `id` is `provider:model`; `model: '*'` makes an entry match every
 * model of its provider (self-hosted engines whose compute the tenant does not pay per token).
 */
export interface ModelEntry {
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly tier: ModelTier;
  readonly contextWindow: number;
  readonly maxOutputTokens: number;
  readonly prices: ModelPrices;
  readonly capabilities: ModelCapabilities;
}

/** A partial entry that overrides or adds a model; `disabled` removes it from routing. */
export type ModelOverride = Partial<Omit<ModelEntry, 'id' | 'prices' | 'capabilities'>> & {
  readonly id: string;
  readonly prices?: Partial<ModelPrices>;
  readonly capabilities?: Partial<ModelCapabilities>;
  readonly disabled?: boolean;
};

const all = { tools: true, vision: true, audio: false, thinking: true };
const textTools = { tools: true, vision: false, audio: false, thinking: false };
const entry = (id: string, tier: ModelTier, spec: [contextWindow: number, maxOutputTokens: number, prices: [number, number, number], capabilities: ModelCapabilities]): ModelEntry => {
  const [contextWindow, maxOutputTokens, prices, capabilities] = spec;
  const [provider = '', model = ''] = id.split(/:(.*)/s);
  return {
    id, provider, model, tier, contextWindow, maxOutputTokens,
    prices: { inputPerMillionUsd: prices[0], outputPerMillionUsd: prices[1], cachedInputPerMillionUsd: prices[2] },
    capabilities,
  };
};

/**
 * Shipped defaults: list prices as published by each vendor (USD per million tokens: input,
 * output, cached input). Deployments override them (AETHER_MODELS_CATALOG_FILE) when vendors change
 * prices; tenants may override on top.
 */
export const DEFAULT_MODEL_CATALOG: readonly ModelEntry[] = [
  entry('anthropic:claude-opus-4-1', 'large', [200_000, 32_000, [15, 75, 1.5], all]),
  entry('anthropic:claude-sonnet-4-5', 'mid', [200_000, 64_000, [3, 15, 0.3], all]),
  entry('anthropic:claude-haiku-4-5', 'small', [200_000, 64_000, [1, 5, 0.1], all]),
  entry('openai:gpt-5', 'large', [400_000, 128_000, [1.25, 10, 0.125], all]),
  entry('openai:gpt-5-mini', 'mid', [400_000, 128_000, [0.25, 2, 0.025], all]),
  entry('openai:gpt-5-nano', 'small', [400_000, 128_000, [0.05, 0.4, 0.005], all]),
  entry('openai:gpt-4.1', 'mid', [1_047_576, 32_768, [2, 8, 0.5], { ...all, thinking: false }]),
  entry('google:gemini-2.5-pro', 'large', [1_048_576, 65_536, [1.25, 10, 0.125], { ...all, audio: true }]),
  entry('google:gemini-2.5-flash', 'mid', [1_048_576, 65_536, [0.3, 2.5, 0.03], { ...all, audio: true }]),
  entry('google:gemini-2.5-flash-lite', 'small', [1_048_576, 65_536, [0.1, 0.4, 0.01], { ...all, audio: true }]),
  entry('ollama:*', 'small', [8_192, 4_096, [0, 0, 0], textTools]),
  entry('local:*', 'small', [4_096, 2_048, [0, 0, 0], { ...textTools, tools: true }]),
  entry('scripted:*', 'mid', [1_000_000, 100_000, [0, 0, 0], { tools: true, vision: false, audio: false, thinking: true }]),
];

/** Why an override cannot apply to `base`, or undefined when it can. */
function overrideProblem(base: ReadonlyMap<string, ModelEntry>, o: ModelOverride): { field: string; issue: string } | undefined {
  if (o.disabled || base.has(o.id)) return undefined;
  // A new model needs a tier and both prices; without them it could never be priced (fail closed).
  if (o.tier === undefined) return { field: 'tier', issue: `${o.id} is not in the catalog, so adding it needs a tier` };
  if (o.prices?.inputPerMillionUsd === undefined) return { field: 'prices.input_per_million_usd', issue: `${o.id} is not in the catalog, so adding it needs an input price` };
  if (o.prices.outputPerMillionUsd === undefined) return { field: 'prices.output_per_million_usd', issue: `${o.id} is not in the catalog, so adding it needs an output price` };
  return undefined;
}

/** `base` with `overrides` applied in order; an override that cannot apply is passed to `onInvalid` and skipped. */
function applyOverrides(base: readonly ModelEntry[], overrides: readonly ModelOverride[], onInvalid: (override: ModelOverride, issue: string) => void): ModelEntry[] {
  const byId = new Map(base.map((e) => [e.id, e]));
  for (const o of overrides) {
    if (o.disabled) {
      byId.delete(o.id);
      continue;
    }
    const problem = overrideProblem(byId, o);
    if (problem) {
      onInvalid(o, problem.issue);
      continue;
    }
    const current = byId.get(o.id);
    const [provider = '', model = ''] = o.id.split(/:(.*)/s);
    const merged: ModelEntry = {
      id: o.id,
      provider,
      model,
      tier: o.tier ?? current?.tier ?? 'mid',
      contextWindow: o.contextWindow ?? current?.contextWindow ?? 8_192,
      maxOutputTokens: o.maxOutputTokens ?? current?.maxOutputTokens ?? 4_096,
      prices: {
        inputPerMillionUsd: o.prices?.inputPerMillionUsd ?? current?.prices.inputPerMillionUsd ?? 0,
        outputPerMillionUsd: o.prices?.outputPerMillionUsd ?? current?.prices.outputPerMillionUsd ?? 0,
        cachedInputPerMillionUsd: o.prices?.cachedInputPerMillionUsd ?? current?.prices.cachedInputPerMillionUsd ?? o.prices?.inputPerMillionUsd ?? current?.prices.inputPerMillionUsd ?? 0,
      },
      capabilities: { ...(current?.capabilities ?? textTools), ...o.capabilities },
    };
    byId.set(o.id, merged);
  }
  return [...byId.values()];
}

/** Where a tenant's own catalog overrides live. */
export interface TenantCatalogSource {
  overrides(tenantId: string): Promise<readonly ModelOverride[]>;
}

/** Keeps tenant overrides in this process's memory (tests, benchmarks, single-process tools). */
export class InMemoryTenantCatalogSource implements TenantCatalogSource {
  readonly #byTenant = new Map<string, readonly ModelOverride[]>();
  set(tenantId: string, overrides: readonly ModelOverride[]): void {
    this.#byTenant.set(tenantId, overrides);
  }
  overrides(tenantId: string): Promise<readonly ModelOverride[]> {
    return Promise.resolve(this.#byTenant.get(tenantId) ?? []);
  }
}

/** The model catalog: shipped defaults, then deployment overrides, then the tenant's. */
export class ModelCatalog {
  readonly #deployment: readonly ModelEntry[];
  readonly #deploymentById: ReadonlyMap<string, ModelEntry>;
  readonly #tenants: TenantCatalogSource | undefined;
  readonly #onSkipped: (tenantId: string, override: ModelOverride, issue: string) => void;
  /** Skipped overrides already reported (every call reads the catalog; one report each is enough). */
  readonly #reported = new Set<string>();
  /** The catalog each override list gives; sources hand out the same list until it changes. */
  readonly #applied = new WeakMap<readonly ModelOverride[], readonly ModelEntry[]>();

  /**
   * @throws {TypeError} when a deployment override adds a model without tier and prices.
   * A stored tenant override that no longer applies (the deployment dropped the model it
   * changed) is skipped and reported once to `onSkippedOverride`, so it cannot break the tenant's calls.
   */
  constructor(deps: {
    defaults?: readonly ModelEntry[];
    deploymentOverrides?: readonly ModelOverride[];
    tenants?: TenantCatalogSource;
    onSkippedOverride?: (tenantId: string, override: ModelOverride, issue: string) => void;
  } = {}) {
    this.#deployment = applyOverrides(deps.defaults ?? DEFAULT_MODEL_CATALOG, deps.deploymentOverrides ?? [], (o, issue) => {
      throw new TypeError(`catalog override ${o.id}: ${issue}`);
    });
    this.#deploymentById = new Map(this.#deployment.map((e) => [e.id, e]));
    this.#tenants = deps.tenants;
    this.#onSkipped = deps.onSkippedOverride ?? (() => undefined);
  }

  /** Every model available to the tenant. */
  async list(tenantId: string): Promise<readonly ModelEntry[]> {
    const overrides = (await this.#tenants?.overrides(tenantId)) ?? [];
    if (overrides.length === 0) return this.#deployment;
    const known = this.#applied.get(overrides);
    if (known) return known;
    const entries = applyOverrides(this.#deployment, overrides, (o, issue) => {
      const key = `${tenantId} ${o.id} ${issue}`;
      if (this.#reported.has(key)) return;
      if (this.#reported.size >= 10_000) this.#reported.clear();
      this.#reported.add(key);
      this.#onSkipped(tenantId, o, issue);
    });
    this.#applied.set(overrides, entries);
    return entries;
  }

  /** The entry pricing `provider:model` (exact, else the provider's `*`). */
  async find(tenantId: string, id: string): Promise<ModelEntry | undefined> {
    const entries = await this.list(tenantId);
    const exact = entries.find((e) => e.id === id);
    if (exact) return exact;
    const provider = id.split(':')[0] ?? '';
    const wildcard = entries.find((e) => e.provider === provider && e.model === '*');
    if (!wildcard) return undefined;
    return { ...wildcard, id, model: id.slice(provider.length + 1) };
  }

  /** @throws {UnknownModelError} when the model is not in the tenant's catalog (unknown price). */
  async get(tenantId: string, id: string): Promise<ModelEntry> {
    const found = await this.find(tenantId, id);
    if (!found) throw new UnknownModelError(id);
    return found;
  }

  /**
   * Checks that a tenant override applies on top of this deployment's catalog.
   * @throws {ValidationError} naming the missing field when it adds a model without tier and prices.
   */
  assertTenantOverride(override: ModelOverride): void {
    const problem = overrideProblem(this.#deploymentById, override);
    if (problem) throw new ValidationError(`Invalid body: ${problem.field}: ${problem.issue}`, { field: `body.${problem.field}`, issue: problem.issue, issue_count: 1 });
  }
}

/** Cost in micro-USD (integers, so sums never drift) of a usage on a model. */
export function costMicros(prices: ModelPrices, usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number }): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const fresh = usage.inputTokens - cached;
  // price per million tokens in USD == price per token in micro-USD
  return Math.ceil(fresh * prices.inputPerMillionUsd + cached * prices.cachedInputPerMillionUsd + usage.outputTokens * prices.outputPerMillionUsd);
}

/**
 * Parses a deployment catalog file (YAML or JSON): `models: [{ id, tier, context_window,
 * max_output_tokens, prices: { input_per_million_usd, ... }, capabilities, disabled }]`.
 * @throws {ValidationError} naming the offending field.
 */
export function parseCatalogOverrides(text: string, source: string): ModelOverride[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ValidationError(`${source} is not valid YAML or JSON: ${errorMessage(error)}`, { field: source });
  }
  const parsed = z.strictObject({ models: z.array(modelOverrideSchema) }).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`${source}: ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') ?? source });
  }
  return parsed.data.models.map(toModelOverride);
}

/** An override as the API and the catalog file write it (snake_case) to the catalog's own shape. */
export function toModelOverride(m: ModelOverrideInput): ModelOverride {
  return {
    id: m.id,
    ...(m.tier === undefined ? {} : { tier: m.tier }),
    ...(m.context_window === undefined ? {} : { contextWindow: m.context_window }),
    ...(m.max_output_tokens === undefined ? {} : { maxOutputTokens: m.max_output_tokens }),
    ...(m.prices === undefined
      ? {}
      : {
          prices: {
            ...(m.prices.input_per_million_usd === undefined ? {} : { inputPerMillionUsd: m.prices.input_per_million_usd }),
            ...(m.prices.output_per_million_usd === undefined ? {} : { outputPerMillionUsd: m.prices.output_per_million_usd }),
            ...(m.prices.cached_input_per_million_usd === undefined ? {} : { cachedInputPerMillionUsd: m.prices.cached_input_per_million_usd }),
          },
        }),
    ...(m.capabilities === undefined ? {} : { capabilities: Object.fromEntries(Object.entries(m.capabilities).filter(([, v]) => v !== undefined)) }),
    ...(m.disabled === undefined ? {} : { disabled: m.disabled }),
  };
}

/** The inverse of `toModelOverride`, for API answers and storage. */
export function toWireOverride(o: ModelOverride): ModelOverrideInput {
  return {
    id: o.id,
    ...(o.tier === undefined ? {} : { tier: o.tier }),
    ...(o.contextWindow === undefined ? {} : { context_window: o.contextWindow }),
    ...(o.maxOutputTokens === undefined ? {} : { max_output_tokens: o.maxOutputTokens }),
    ...(o.prices === undefined
      ? {}
      : {
          prices: {
            ...(o.prices.inputPerMillionUsd === undefined ? {} : { input_per_million_usd: o.prices.inputPerMillionUsd }),
            ...(o.prices.outputPerMillionUsd === undefined ? {} : { output_per_million_usd: o.prices.outputPerMillionUsd }),
            ...(o.prices.cachedInputPerMillionUsd === undefined ? {} : { cached_input_per_million_usd: o.prices.cachedInputPerMillionUsd }),
          },
        }),
    ...(o.capabilities === undefined ? {} : { capabilities: { ...o.capabilities } }),
    ...(o.disabled === undefined ? {} : { disabled: o.disabled }),
  };
}
