import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../shared/ports/index.js';
import { CircuitBreakers } from './circuit-breaker.js';

describe('CircuitBreakers', () => {
  it('opens after 5 consecutive failures, half-opens after 60 s with 3 trial calls, and closes when all succeed', () => {
    const clock = new ManualClock();
    const breakers = new CircuitBreakers({ clock });
    for (let i = 0; i < 4; i++) breakers.onFailure('p');
    expect(breakers.state('p')).toBe('closed');
    breakers.onFailure('p');
    expect(breakers.state('p')).toBe('open');
    expect(breakers.tryAcquire('p')).toBe(false);
    clock.advance(59_999);
    expect(breakers.tryAcquire('p')).toBe(false);
    clock.advance(1);
    expect(breakers.state('p')).toBe('half_open');
    expect([breakers.tryAcquire('p'), breakers.tryAcquire('p'), breakers.tryAcquire('p'), breakers.tryAcquire('p')]).toEqual([true, true, true, false]);
    breakers.onSuccess('p');
    breakers.onSuccess('p');
    expect(breakers.state('p')).toBe('half_open');
    breakers.onSuccess('p');
    expect(breakers.state('p')).toBe('closed');
  });

  it('reopens on a half-open failure and resets the count on a success while closed', () => {
    const clock = new ManualClock();
    const breakers = new CircuitBreakers({ clock });
    for (let i = 0; i < 4; i++) breakers.onFailure('p');
    breakers.onSuccess('p');
    breakers.onFailure('p');
    expect(breakers.state('p')).toBe('closed');
    for (let i = 0; i < 5; i++) breakers.onFailure('q');
    clock.advance(60_000);
    expect(breakers.tryAcquire('q')).toBe(true);
    breakers.onFailure('q');
    expect(breakers.state('q')).toBe('open');
    expect(breakers.state('p')).toBe('closed');
  });
});
