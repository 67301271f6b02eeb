/**
 * The categories every failure falls into. Only `api/` maps a kind to an HTTP status
 * (see `api/error-response.ts`), so a new kind without a status fails to compile there.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'limit_exceeded'
  | 'unavailable'
  | 'internal';

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

/** Base of every failure we mean to signal. `code` is stable and never reused for a new meaning. */
export abstract class AppError extends Error {
  abstract readonly code: Uppercase<string>;
  abstract readonly kind: ErrorKind;
  readonly details: ErrorDetails;

  constructor(message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
