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

/** A promise the test settles by hand, to hold a write in flight. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('KeyedBatcher', () => {
  it('writes what is submitted in one turn together, at most maxBatch at a time', async () => {
    const { keyed, batches } = batcher('fail-all');
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => keyed.submit('a', n)));
    expect(results).toEqual([2, 4, 6, 8, 10, 12]);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('batches items from separate callbacks of one event-loop turn, even when writes finish without I/O', async () => {
    // An in-process engine (PGlite) answers in microtasks: each response callback must still find
    // the batch open. Immediates queued together run in the same turn, like I/O callbacks do.
    const { keyed, batches } = batcher('fail-all');
    const results = await Promise.all(
      [1, 2, 3].map((n) => new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          keyed.submit('a', n).then(resolve, reject);
        });
      })),
    );
    expect(results).toEqual([2, 4, 6]);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
  });

  it('writes what arrives while a batch is in flight in the next batch', async () => {
    const gate = deferred();
    const batches: number[][] = [];
    const keyed = new KeyedBatcher<number, number>({
      maxBatch: 10,
      onBatchFailure: 'fail-all',
      write: async (_key, items) => {
        batches.push([...items]);
        if (batches.length === 1) await gate.promise;
        return items.map((item) => item * 2);
      },
    });
    const first = keyed.submit('a', 1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    const later = [keyed.submit('a', 2), keyed.submit('a', 3)];
    gate.resolve();
    expect(await Promise.all([first, ...later])).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('keeps keys apart: one key never waits for another', async () => {
    const gate = deferred();
    const keyed = new KeyedBatcher<string, string>({
      maxBatch: 10,
      onBatchFailure: 'fail-all',
      write: async (key, items) => {
        if (key === 'slow') await gate.promise;
        return items.map((item) => `${key}:${item}`);
      },
    });
    const slow = keyed.submit('slow', 'x');
    expect(await keyed.submit('fast', 'y')).toBe('fast:y');
    gate.resolve();
    expect(await slow).toBe('slow:x');
  });

  it('fails a whole batch with its error when told to', async () => {
    const { keyed } = batcher('fail-all');
    expect(await keyed.submit('a', 1)).toBe(2);
    const settled = await Promise.allSettled([keyed.submit('a', 2), keyed.submit('a', -1)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const { keyed, batches } = batcher('retry-each');
    const settled = await Promise.allSettled([keyed.submit('a', 1), keyed.submit('a', 2), keyed.submit('a', -1), keyed.submit('a', 4)]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'failed'))).toEqual([2, 4, 'failed', 8]);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, -1], [1], [2], [-1], [4]]);
  });

  it('rejects every item when a write returns too few results', async () => {
    const keyed = new KeyedBatcher<number, number>({ maxBatch: 10, onBatchFailure: 'fail-all', write: () => Promise.resolve([]) });
    await expect(keyed.submit('a', 1)).rejects.toThrow(/0 results for 1 items/);
  });
});
