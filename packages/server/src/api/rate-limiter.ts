import type { RedisClient } from '../infra/redis/index.js';
import type { MaybePromise } from '../shared/async/index.js';
import type { Clock } from '../shared/ports/index.js';

export interface RateDecision {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly retryAfterSeconds: number;
}

/**
 * Counts requests per key in fixed windows. A limiter that keeps its windows in this process
 * answers with a plain value, so the request guard need not wait on it.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): MaybePromise<RateDecision>;
}

function decide({ count, limit, windowEndMs, nowMs }: { count: number; limit: number; windowEndMs: number; nowMs: number }): RateDecision {
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    retryAfterSeconds: Math.max(1, Math.ceil((windowEndMs - nowMs) / 1000)),
  };
}

/** Fixed windows in this process; for a single-process deployment. */
export class InMemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { startMs: number; count: number }>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  hit(key: string, limit: number, windowMs: number): RateDecision {
    const nowMs = this.#clock.nowMs();
    const startMs = nowMs - (nowMs % windowMs);
    let window = this.#windows.get(key);
    if (window?.startMs !== startMs) {
      window = { startMs, count: 0 };
      this.#windows.set(key, window);
      if (this.#windows.size > 100_000) this.#sweep(startMs);
    }
    window.count += 1;
    return decide({ count: window.count, limit, windowEndMs: startMs + windowMs, nowMs });
  }

  #sweep(currentStartMs: number): void {
    for (const [key, window] of this.#windows) if (window.startMs !== currentStartMs) this.#windows.delete(key);
  }
}

/** Fixed windows in Redis, shared by every process of a scaled-out deployment. */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RedisClient;
  readonly #clock: Clock;

  constructor(deps: { redis: RedisClient; clock: Clock }) {
    this.#redis = deps.redis;
    this.#clock = deps.clock;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const nowMs = this.#clock.nowMs();
    const startMs = nowMs - (nowMs % windowMs);
    const redisKey = `ratelimit:${key}:${String(startMs)}`;
    const results = await this.#redis.multi().incr(redisKey).pexpire(redisKey, windowMs + 1000).exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    return decide({ count, limit, windowEndMs: startMs + windowMs, nowMs });
  }
}
