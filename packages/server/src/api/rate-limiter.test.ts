import { describe, expect, it } from 'vitest';

import { ManualClock } from '../shared/ports/index.js';
import { InMemoryRateLimiter } from './rate-limiter.js';

describe('InMemoryRateLimiter.hit', () => {
  it('answers with a plain value, so the request guard need not wait', () => {
    expect(new InMemoryRateLimiter(new ManualClock()).hit('k', 1, 60_000)).not.toBeInstanceOf(Promise);
  });

  it('allows up to the limit in a window, then says when to retry', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:10Z'));
    const limiter = new InMemoryRateLimiter(clock);
    const decisions = [];
    for (let index = 0; index < 4; index += 1) decisions.push(limiter.hit('tenant:a', 3, 60_000));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]?.retryAfterSeconds).toBe(50);
  });

  it('starts afresh in the next window and counts keys apart', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const limiter = new InMemoryRateLimiter(clock);
    limiter.hit('a', 1, 60_000);
    expect(limiter.hit('a', 1, 60_000).allowed).toBe(false);
    expect(limiter.hit('b', 1, 60_000).allowed).toBe(true);
    clock.advance(60_000);
    expect(limiter.hit('a', 1, 60_000).allowed).toBe(true);
  });
});
