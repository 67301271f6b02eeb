import { setImmediate as nextEventLoopTurn } from 'node:timers/promises';

interface Pending<TItem, TResult> {
  readonly item: TItem;
  resolve(result: TResult): void;
  reject(error: unknown): void;
}

export interface KeyedBatcherOptions<TItem, TResult> {
  /** Writes one batch of one key; returns a result per item, in order. */
  readonly write: (key: string, items: readonly TItem[]) => Promise<readonly TResult[]>;
  /** The most items one batch takes. */
  readonly maxBatch: number;
  /**
   * What a failed batch of several items does: fail them all, or write each again alone, so only
   * the items that fail on their own fail (when one bad item must not fail its neighbours).
   */
  readonly onBatchFailure: 'fail-all' | 'retry-each';
}

/**
 * Group commit: items of one key (a tenant) that arrive in the same turn of the event loop, or
 * while that key's batch is being written, go together in one batch, so a burst pays one write
 * per batch instead of one per item. A lone item waits one turn (`setImmediate`), a few
 * microseconds. Each submitter's promise settles with its own item's result, only after the
 * batch holding it was written. Keys never wait for each other.
 *
 * Waiting a turn before each write is what makes batching work on an in-process engine
 * (PGlite): its writes finish in microtasks, without I/O, so without the wait no item ever
 * arrived "meanwhile" and every batch held one item.
 */
export class KeyedBatcher<TItem, TResult> {
  readonly #options: KeyedBatcherOptions<TItem, TResult>;
  readonly #queues = new Map<string, Pending<TItem, TResult>[]>();

  constructor(options: KeyedBatcherOptions<TItem, TResult>) {
    this.#options = options;
  }

  submit(key: string, item: TItem): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      const pending = { item, resolve, reject };
      const queue = this.#queues.get(key);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.#queues.set(key, [pending]);
      void this.#drain(key);
    });
  }

  async #drain(key: string): Promise<void> {
    for (;;) {
      // Callbacks of this turn (other responses read from the network) submit before the write.
      await nextEventLoopTurn();
      const queue = this.#queues.get(key) ?? [];
      if (queue.length === 0) {
        this.#queues.delete(key);
        return;
      }
      const batch = queue.splice(0, this.#options.maxBatch);
      try {
        this.#settle(batch, await this.#options.write(key, batch.map((pending) => pending.item)));
      } catch (error) {
        if (batch.length === 1 || this.#options.onBatchFailure === 'fail-all') {
          for (const pending of batch) pending.reject(error);
          continue;
        }
        for (const pending of batch) {
          try {
            this.#settle([pending], await this.#options.write(key, [pending.item]));
          } catch (alone) {
            pending.reject(alone);
          }
        }
      }
    }
  }

  #settle(batch: readonly Pending<TItem, TResult>[], results: readonly TResult[]): void {
    batch.forEach((pending, index) => {
      if (index < results.length) pending.resolve(results[index] as TResult);
      else pending.reject(new Error(`a batch write returned ${String(results.length)} results for ${String(batch.length)} items`));
    });
  }
}
