import { describe, expect, it } from 'vitest';

import { KeyedBatcher } from './keyed-batcher.js';

/** Doubles each item; refuses any batch holding a negative one. */
function batcher(onBatchFailure: 'fail-all' | 'retry-each') {
  const batches: { key: string; items: number[] }[] = [];
  const keyed = new KeyedBatcher<number, number>({
    maxBatch: 3,
    onBatchFailure,
    write: (key, items) => {
      batches.push({ key, items: [...items] });
      if (items.some((item) => item < 0)) return Promise.reject(new Error(`refused ${items.join(',')}`));
      return Promise.resolve(items.map((item) => item * 2));
    },
  });
  return { keyed, batches };
}

describe('KeyedBatcher', () => {
  it('sends a lone item at once and what arrives meanwhile together, at most maxBatch at a time', async () => {
    const { keyed, batches } = batcher('fail-all');
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => keyed.submit('a', n)));
    expect(results).toEqual([2, 4, 6, 8, 10, 12]);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('keeps keys apart: one key never waits for another', async () => {
    const { keyed, batches } = batcher('fail-all');
    await Promise.all([keyed.submit('a', 1), keyed.submit('b', 2), keyed.submit('a', 3)]);
    expect(batches).toEqual([{ key: 'a', items: [1] }, { key: 'b', items: [2] }, { key: 'a', items: [3] }]);
  });

  it('fails a whole batch with its error when told to', async () => {
    const { keyed } = batcher('fail-all');
    const settled = await Promise.allSettled([keyed.submit('a', 1), keyed.submit('a', 2), keyed.submit('a', -1)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const { keyed, batches } = batcher('retry-each');
    const settled = await Promise.allSettled([keyed.submit('a', 1), keyed.submit('a', 2), keyed.submit('a', -1), keyed.submit('a', 4)]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'failed'))).toEqual([2, 4, 'failed', 8]);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, -1, 4], [2], [-1], [4]]);
  });

  it('rejects every item when a write returns too few results', async () => {
    const keyed = new KeyedBatcher<number, number>({ maxBatch: 10, onBatchFailure: 'fail-all', write: () => Promise.resolve([]) });
    await expect(keyed.submit('a', 1)).rejects.toThrow(/0 results for 1 items/);
  });
});
