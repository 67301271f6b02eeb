import { describe, expect, it } from 'vitest';

import { isPromise, thenMaybe } from './maybe-promise.js';

describe('thenMaybe', () => {
  it('continues synchronously on a plain value', () => {
    const result = thenMaybe(2, (value) => value * 3);
    expect(isPromise(result)).toBe(false);
    expect(result).toBe(6);
  });

  it('continues after a promise resolves', async () => {
    const result = thenMaybe(Promise.resolve(2), (value) => value * 3);
    expect(isPromise(result)).toBe(true);
    expect(await result).toBe(6);
  });

  it('throws synchronously from a plain value and rejects from a promise', async () => {
    const fail = (): number => {
      throw new Error('no');
    };
    expect(() => thenMaybe(1, fail)).toThrow('no');
    await expect(thenMaybe(Promise.resolve(1), fail)).rejects.toThrow('no');
  });
});
