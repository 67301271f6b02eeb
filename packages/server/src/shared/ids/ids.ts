import { randomFillSync } from 'node:crypto';

import { monotonicFactory } from 'ulid';

/** Prefixed, lexicographically sortable id: `task_01J9Z3...`. */
export type PrefixedId<TPrefix extends string = string> = `${TPrefix}_${string}`;

/** Produces prefixed sortable ids. Injected so tests can make ids deterministic. */
export interface IdGenerator {
  next<TPrefix extends string>(prefix: TPrefix): PrefixedId<TPrefix>;
}

const PREFIX_PATTERN = /^[a-z][a-z0-9]{1,11}$/;

function assertPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(`id prefix must match ${String(PREFIX_PATTERN)}, got "${prefix}"`);
  }
}

const RANDOM_POOL_BYTES = 4096;

/**
 * A PRNG for `ulid` that hands out bytes of one cryptographically random pool, refilled when
 * spent. The library's own asks `crypto.getRandomValues` for one byte per character: sixteen
 * calls into the native layer for each id, which made ids a visible share of a model call.
 */
export function pooledCryptoPrng(poolBytes = RANDOM_POOL_BYTES): () => number {
  const pool = new Uint8Array(poolBytes);
  let next = poolBytes;
  return () => {
    if (next === poolBytes) {
      randomFillSync(pool);
      next = 0;
    }
    const byte = pool[next] ?? 0;
    next += 1;
    return byte / 256;
  };
}

/** ULID-based ids; monotonic within one millisecond so ids sort in creation order. */
export class UlidIdGenerator implements IdGenerator {
  readonly #ulid = monotonicFactory(pooledCryptoPrng());

  next<TPrefix extends string>(prefix: TPrefix): PrefixedId<TPrefix> {
    assertPrefix(prefix);
    return `${prefix}_${this.#ulid().toLowerCase()}`;
  }
}

/** Deterministic ids for tests: `task_000001`, `task_000002`, ... per prefix. */
export class SequentialIdGenerator implements IdGenerator {
  readonly #counters = new Map<string, number>();

  next<TPrefix extends string>(prefix: TPrefix): PrefixedId<TPrefix> {
    assertPrefix(prefix);
    const value = (this.#counters.get(prefix) ?? 0) + 1;
    this.#counters.set(prefix, value);
    return `${prefix}_${String(value).padStart(6, '0')}`;
  }
}

/** True when `value` looks like an id with the given prefix. */
export function hasIdPrefix(value: string, prefix: string): boolean {
  return value.startsWith(`${prefix}_`) && value.length > prefix.length + 1;
}
