import { getEventListeners } from 'node:events';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Deadline } from './deadline.js';

describe('Deadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts with a TimeoutError once its time has passed', () => {
    const deadline = new Deadline(1_000);
    vi.advanceTimersByTime(999);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it("aborts with the caller's reason when the caller's signal aborts, and says it did not time out", () => {
    const caller = new AbortController();
    const deadline = new Deadline(1_000, caller.signal);
    caller.abort(new Error('user cancelled'));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut).toBe(false);
    expect((deadline.signal.reason as Error).message).toBe('user cancelled');
  });

  it("starts aborted when the caller's signal already is", () => {
    const deadline = new Deadline(1_000, AbortSignal.abort('gone'));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe('gone');
  });

  it('holds nothing once disposed: no timer fires and the caller signal loses its listener', () => {
    const caller = new AbortController();
    const deadline = new Deadline(1_000, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);

    deadline[Symbol.dispose]();

    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    caller.abort();
    expect(deadline.signal.aborted).toBe(false);
  });
});
