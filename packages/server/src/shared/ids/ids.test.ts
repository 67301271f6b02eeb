import { describe, expect, it } from 'vitest';

import { SequentialIdGenerator, UlidIdGenerator } from './ids.js';

describe('UlidIdGenerator.next', () => {
  it('makes prefixed ids that sort in creation order', () => {
    const ids = new UlidIdGenerator();
    const made = Array.from({ length: 200 }, () => ids.next('task'));
    expect(made.every((id) => /^task_[0-9a-z]{26}$/.test(id))).toBe(true);
    expect([...made].sort()).toEqual(made);
  });

  it('refuses a malformed prefix', () => {
    expect(() => new UlidIdGenerator().next('Task')).toThrow(/prefix/);
    expect(() => new SequentialIdGenerator().next('a_b')).toThrow(/prefix/);
  });
});
