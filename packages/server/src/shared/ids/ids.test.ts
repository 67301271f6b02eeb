import { describe, expect, it } from 'vitest';

import { pooledCryptoPrng, SequentialIdGenerator, UlidIdGenerator } from './ids.js';

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

describe('pooledCryptoPrng', () => {
  it('yields fractions in [0, 1) and keeps yielding fresh bytes after its pool is spent', () => {
    const prng = pooledCryptoPrng(4);
    const values = Array.from({ length: 64 }, () => prng());
    expect(values.every((value) => value >= 0 && value < 1 && Number.isInteger(value * 256))).toBe(true);
    // Sixteen pools' worth: a pool that was never refilled would repeat its four bytes.
    const pools = Array.from({ length: 16 }, (_, index) => values.slice(index * 4, index * 4 + 4).join());
    expect(new Set(pools).size).toBeGreaterThan(1);
  });

  it('gives two generators different random parts in the same millisecond', () => {
    const first = new UlidIdGenerator().next('task');
    const second = new UlidIdGenerator().next('task');
    expect(first.slice(-16)).not.toBe(second.slice(-16));
  });
});
