/**
 * @module shared/async
 * Helpers for code on the request hot path that is synchronous when its data is in memory.
 */
export { isPromise, thenMaybe, type MaybePromise } from './maybe-promise.js';
