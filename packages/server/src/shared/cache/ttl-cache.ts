import type { Clock } from '../ports/index.js';

/**
 * A small TTL cache for credential lookups on the request hot path. Bounded: past `maxEntries`
 * the oldest entry is dropped. Revocation in this process deletes the entry at once; other
 * processes see it within `ttlMs`.
 */
export class TtlCache<TValue> {
  readonly #entries = new Map<string, { value: TValue; expiresAtMs: number }>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: { clock: Clock; ttlMs: number; maxEntries?: number }) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  get(key: string): TValue | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#clock.now().getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: TValue): void {
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAtMs: this.#clock.now().getTime() + this.#ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
