import { createHash } from 'node:crypto';

import { canonicalJson } from '../../shared/canonical-json/index.js';
import type { Clock } from '../../shared/ports/index.js';
import type { ChatResponse } from './provider-port.js';

/** One cached answer and the model that gave it. */
export interface CachedResponse {
  readonly response: ChatResponse;
  readonly modelId: string;
}

/**
 * Where answers to identical deterministic requests (temperature 0) are kept, per tenant, for a
 * TTL. The router treats a failing cache as a miss: it is never a reason for a call to fail.
 */
export interface ResponseCacheStore {
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, entry: CachedResponse): Promise<void>;
}

/** The cache key of a request: the tenant, then a SHA-256 of the request's canonical JSON. */
export function responseCacheKey(tenantId: string, request: unknown): string {
  return `${tenantId}:${createHash('sha256').update(canonicalJson(request)).digest('hex')}`;
}

/**
 * The cache in this process's memory, with a TTL and an entry cap (oldest evicted first): the
 * embedded default. With Redis configured, `RedisResponseCache` shares it between processes.
 */
export class ResponseCache implements ResponseCacheStore {
  readonly #entries = new Map<string, CachedResponse & { expiresAt: number }>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(deps: { clock: Clock; ttlMs?: number; maxEntries?: number }) {
    this.#clock = deps.clock;
    this.#ttlMs = deps.ttlMs ?? 10 * 60_000;
    this.#maxEntries = deps.maxEntries ?? 1_000;
  }

  get(key: string): Promise<CachedResponse | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return Promise.resolve(undefined);
    if (entry.expiresAt <= this.#clock.nowMs()) {
      this.#entries.delete(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({ response: entry.response, modelId: entry.modelId });
  }

  set(key: string, entry: CachedResponse): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { ...entry, expiresAt: this.#clock.nowMs() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return Promise.resolve();
  }

  get size(): number {
    return this.#entries.size;
  }
}
