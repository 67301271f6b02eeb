/**
 * A value now, or a promise of it later. Hot-path steps return this so that, when everything
 * they need is cached in memory, the request runs without a single `await` (each one costs a
 * microtask, a promise allocation and garbage; see docs/adr/0006).
 */
export type MaybePromise<TValue> = TValue | Promise<TValue>;

export function isPromise<TValue>(value: MaybePromise<TValue>): value is Promise<TValue> {
  return value instanceof Promise;
}

/**
 * Runs `next` on the value at once when it is plain, or once it resolves when it is a promise.
 * A synchronous throw in `next` stays synchronous, so callers see errors exactly where an
 * `await` version would have rejected.
 */
export function thenMaybe<TValue, TResult>(value: MaybePromise<TValue>, next: (value: TValue) => MaybePromise<TResult>): MaybePromise<TResult> {
  return isPromise(value) ? value.then(next) : next(value);
}
