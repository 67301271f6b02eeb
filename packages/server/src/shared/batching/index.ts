/**
 * @module shared/batching
 * Group commit: items of one key that arrive while its previous batch is being written go
 * together in the next one.
 */
export { KeyedBatcher, type KeyedBatcherOptions } from './keyed-batcher.js';
