import type { MaybePromise } from '../async/index.js';
import type { Clock } from '../ports/index.js';

/**
 * A small TTL cache for credential lookups on the request hot path. Bounded: past `maxEntries`
 * the oldest entry is dropped. Revocation in this process deletes the entry at once; other
 * processes see it within `ttlMs`. `getOrLoad` is single-flight: when an entry expires under
 * load, concurrent callers share one load instead of stampeding the database.
 */
export class TtlCache<TValue> {
  readonly #entries = new Map<string, { value: TValue; expiresAtMs: number }>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #loading = new Map<string, Promise<TValue>>();

  constructor(options: { clock: Clock; ttlMs: number; maxEntries?: number }) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  get(key: string): TValue | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#clock.nowMs()) {
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
    this.#entries.set(key, { value, expiresAtMs: this.#clock.nowMs() + this.#ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
    // A load that started before the deletion must not put the old value back.
    this.#loading.delete(key);
  }

  /** Forgets every entry (and any load in progress). */
  clear(): void {
    this.#entries.clear();
    this.#loading.clear();
  }

  /**
   * The cached value, or the result of `load` (shared with concurrent callers for the same key).
   * A hit is returned as a plain value, not a promise, so a request served from memory never
   * waits on a microtask. `load` gets the key, so hot callers can pass one function made once
   * instead of a new closure per call.
   */
  getOrLoad(key: string, load: (key: string) => Promise<TValue>): MaybePromise<TValue> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    return this.#loading.get(key) ?? this.#load(key, load);
  }

  async #load(key: string, load: (key: string) => Promise<TValue>): Promise<TValue> {
    const loading = load(key);
    this.#loading.set(key, loading);
    try {
      const value = await loading;
      if (this.#loading.get(key) === loading) this.set(key, value);
      return value;
    } finally {
      if (this.#loading.get(key) === loading) this.#loading.delete(key);
    }
  }
}
