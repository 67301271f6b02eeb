/**
 * @module shared/async
 * Helpers for code on the request hot path that is synchronous when its data is in memory, and
 * deadlines that hold nothing once their work is done.
 */
export { Deadline } from './deadline.js';
export { isPromise, thenMaybe, type MaybePromise } from './maybe-promise.js';
