import { createHash } from 'node:crypto';

import { canonicalJson } from '../../shared/canonical-json/index.js';
import type { Clock } from '../../shared/ports/index.js';
import type { ChatResponse } from './provider-port.js';

/**
 * Caches answers to identical deterministic requests (temperature 0), per tenant, in memory with
 * a TTL and an entry cap (oldest evicted first). A hit costs nothing and calls no provider.
 */
export class ResponseCache {
  readonly #entries = new Map<string, { response: ChatResponse; modelId: string; expiresAt: number }>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(deps: { clock: Clock; ttlMs?: number; maxEntries?: number }) {
    this.#clock = deps.clock;
    this.#ttlMs = deps.ttlMs ?? 10 * 60_000;
    this.#maxEntries = deps.maxEntries ?? 1_000;
  }

  static key(tenantId: string, request: unknown): string {
    return createHash('sha256').update(tenantId).update('\0').update(canonicalJson(request)).digest('hex');
  }

  get(key: string): { response: ChatResponse; modelId: string } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#clock.now().getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return { response: entry.response, modelId: entry.modelId };
  }

  set(key: string, modelId: string, response: ChatResponse): void {
    this.#entries.delete(key);
    this.#entries.set(key, { response, modelId, expiresAt: this.#clock.now().getTime() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
