import { describe, expect, it } from 'vitest';

import { ManualClock, SystemClock } from './clock.js';

describe('ManualClock', () => {
  it('reports the same instant as a Date and as epoch milliseconds, and moves only when told', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    expect(clock.nowMs()).toBe(Date.UTC(2030, 0, 1));
    expect(clock.now().getTime()).toBe(clock.nowMs());
    clock.advance(1500);
    expect(clock.nowMs()).toBe(Date.UTC(2030, 0, 1) + 1500);
    clock.set(new Date('2031-06-01T12:00:00Z'));
    expect(clock.now().toISOString()).toBe('2031-06-01T12:00:00.000Z');
    expect(clock.nowMs()).toBe(Date.UTC(2031, 5, 1, 12));
  });
});

describe('SystemClock', () => {
  it('reads the system time in both forms', () => {
    const clock = new SystemClock();
    const before = Date.now();
    const ms = clock.nowMs();
    const date = clock.now();
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(date.getTime()).toBeGreaterThanOrEqual(ms);
  });
});
