import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts per model, including the first (default 3). */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A provider's retry-after longer than this is not waited for: the router falls back instead. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 10_000 };

/**
 * Delay before retry number `attempt` (1-based): exponential backoff with full jitter (spec §42),
 * or the provider's retry-after when it sent one. `random` is injected so tests are exact.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, options: { retryAfterMs?: number | undefined; random?: (() => number) | undefined } = {}): number {
  const { retryAfterMs, random = Math.random } = options;
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

/** Waits `ms` unless `signal` aborts first. */
export type Sleeper = (ms: number, signal?: AbortSignal) => Promise<void>;
export const realSleep: Sleeper = async (ms, signal) => {
  if (ms <= 0) return;
  await sleep(ms, undefined, signal ? { signal } : {});
};
