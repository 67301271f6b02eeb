import type { RedisClient } from '../../infra/redis/index.js';
import type { CachedResponse, ResponseCacheStore } from './response-cache.js';

/** Answers larger than this are not cached: a cache entry should never strain Redis. */
const MAX_ENTRY_BYTES = 1024 * 1024;

function isCachedResponse(value: unknown): value is CachedResponse {
  if (typeof value !== 'object' || value === null) return false;
  const { response, modelId } = value as Record<string, unknown>;
  if (typeof modelId !== 'string' || typeof response !== 'object' || response === null) return false;
  const r = response as Record<string, unknown>;
  return typeof r['text'] === 'string' && Array.isArray(r['toolCalls']) && typeof r['usage'] === 'object' && typeof r['stopReason'] === 'string';
}

/**
 * The response cache in Redis, shared by every process of a scaled-out deployment. Keys are
 * `llm-cache:<tenant>:<sha256>` (under the client's key prefix) and expire with the TTL. An entry
 * that does not read back as an answer counts as a miss.
 */
export class RedisResponseCache implements ResponseCacheStore {
  readonly #redis: RedisClient;
  readonly #ttlMs: number;

  constructor(deps: { redis: RedisClient; ttlMs: number }) {
    this.#redis = deps.redis;
    this.#ttlMs = deps.ttlMs;
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const stored = await this.#redis.get(`llm-cache:${key}`);
    if (stored === null) return undefined;
    try {
      const parsed: unknown = JSON.parse(stored);
      return isCachedResponse(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, entry: CachedResponse): Promise<void> {
    if (this.#ttlMs <= 0) return;
    const value = JSON.stringify(entry);
    if (Buffer.byteLength(value) > MAX_ENTRY_BYTES) return;
    await this.#redis.set(`llm-cache:${key}`, value, 'PX', this.#ttlMs);
  }
}
