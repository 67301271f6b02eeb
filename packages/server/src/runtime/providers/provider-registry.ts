import { createHash } from 'node:crypto';

import type { ModelProvider, ProviderResolver } from '../../kernel/model-router/index.js';
import { UnknownModelError } from '../../kernel/model-router/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import { AnthropicProvider } from './anthropic-provider.js';
import { GeminiProvider } from './gemini-provider.js';
import { LocalLlamaProvider } from './local-llama-provider.js';
import { OllamaProvider } from './ollama-provider.js';
import { OpenAiProvider } from './openai-provider.js';
import { ScriptedProvider } from './scripted-provider.js';

/** Deployment-wide provider settings (from `config.models`); keys here come from the environment. */
export interface ProviderSettings {
  readonly anthropic?: { readonly apiKey?: string | undefined; readonly baseUrl?: string | undefined } | undefined;
  readonly openai?: { readonly apiKey?: string | undefined; readonly baseUrl?: string | undefined } | undefined;
  readonly google?: { readonly apiKey?: string | undefined; readonly baseUrl?: string | undefined } | undefined;
  readonly ollama?: { readonly host?: string | undefined; readonly apiKey?: string | undefined } | undefined;
  /** OpenAI-compatible servers by name (`vllm`, `lmstudio`, `openrouter` ...). */
  readonly openaiCompatible?: Readonly<Record<string, { readonly baseUrl: string; readonly apiKey?: string | undefined }>>;
  readonly enableLocal?: boolean;
  readonly enableScripted?: boolean;
  readonly timeoutMs?: number;
  /** See `DEFAULT_WHOLE_RESPONSE_MAX_TOKENS`; applies to OpenAI and compatible servers, Anthropic and Gemini (Ollama always streams). */
  readonly wholeResponseMaxTokens?: number;
}

/**
 * Where a tenant's own provider keys live (its encrypted secrets). When it returns a key, that key
 * wins over the deployment's; keys are never logged, put in errors or audited.
 */
export interface ProviderKeySource {
  apiKey(ctx: TenantContext, provider: string): Promise<string | undefined>;
}

const keyFingerprint = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

/**
 * Builds providers on demand, per tenant key: a tenant with its own key gets its own SDK client;
 * tenants without one share the deployment's client.
 */
export class ProviderRegistry implements ProviderResolver {
  readonly #settings: ProviderSettings;
  readonly #keys: ProviderKeySource | undefined;
  readonly #cache = new Map<string, ModelProvider>();
  readonly #extra: ReadonlyMap<string, ModelProvider>;

  constructor(deps: { settings: ProviderSettings; keys?: ProviderKeySource; extra?: readonly ModelProvider[] }) {
    this.#settings = deps.settings;
    this.#keys = deps.keys;
    this.#extra = new Map((deps.extra ?? []).map((p) => [p.name, p]));
  }

  /** Names of providers that can be resolved (configured or always available). */
  names(): string[] {
    const s = this.#settings;
    const names = [...this.#extra.keys()];
    if (s.anthropic) names.push('anthropic');
    if (s.openai) names.push('openai');
    if (s.google) names.push('google');
    if (s.ollama) names.push('ollama');
    names.push(...Object.keys(s.openaiCompatible ?? {}));
    if (s.enableLocal) names.push('local');
    if (s.enableScripted) names.push('scripted');
    return [...new Set(names)];
  }

  /** @throws {UnknownModelError} when the provider is not configured. */
  async resolve(ctx: TenantContext, provider: string): Promise<ModelProvider> {
    const extra = this.#extra.get(provider);
    if (extra) return extra;
    const tenantKey = await this.#keys?.apiKey(ctx, provider);
    const cacheKey = `${provider}:${tenantKey === undefined ? '-' : keyFingerprint(tenantKey)}`;
    let built = this.#cache.get(cacheKey);
    if (!built) {
      built = this.#build(provider, tenantKey);
      this.#cache.set(cacheKey, built);
    }
    return built;
  }

  #build(provider: string, tenantKey: string | undefined): ModelProvider {
    const s = this.#settings;
    const timeout = s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs };
    const whole = s.wholeResponseMaxTokens === undefined ? {} : { wholeResponseMaxTokens: s.wholeResponseMaxTokens };
    const key = (configured: string | undefined): string => {
      const value = tenantKey ?? configured;
      if (value === undefined) throw new UnknownModelError(`${provider}:* (no API key configured)`);
      return value;
    };
    switch (provider) {
      case 'anthropic':
        if (s.anthropic) return new AnthropicProvider({ apiKey: key(s.anthropic.apiKey), ...withBase(s.anthropic.baseUrl), ...timeout, ...whole });
        break;
      case 'openai':
        if (s.openai) return new OpenAiProvider({ apiKey: key(s.openai.apiKey), ...withBase(s.openai.baseUrl), ...timeout, ...whole });
        break;
      case 'google':
        if (s.google) return new GeminiProvider({ apiKey: key(s.google.apiKey), ...withBase(s.google.baseUrl), ...timeout, ...whole });
        break;
      case 'ollama':
        if (s.ollama) {
          const apiKey = tenantKey ?? s.ollama.apiKey;
          return new OllamaProvider({ ...(s.ollama.host === undefined ? {} : { host: s.ollama.host }), ...(apiKey === undefined ? {} : { apiKey }) });
        }
        break;
      case 'local':
        if (s.enableLocal) return new LocalLlamaProvider();
        break;
      case 'scripted':
        if (s.enableScripted) return new ScriptedProvider();
        break;
      default: {
        const compatible = s.openaiCompatible?.[provider];
        // Local OpenAI-compatible servers often need no key; the SDK insists on a non-empty one.
        if (compatible) return new OpenAiProvider({ name: provider, apiKey: tenantKey ?? compatible.apiKey ?? 'none', baseUrl: compatible.baseUrl, ...timeout, ...whole });
      }
    }
    throw new UnknownModelError(`${provider}:*`);
  }
}

const withBase = (baseUrl: string | undefined): { baseUrl?: string } => (baseUrl === undefined ? {} : { baseUrl });
