import { AppError, type ErrorDetails } from './app-error.js';

/** Input that does not match its schema; `details.field` names the offending field path. */
export class ValidationError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  readonly kind = 'invalid';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { details });
  }
}

/** A request body that is not valid JSON. */
export class MalformedJsonError extends AppError {
  readonly code = 'MALFORMED_JSON';
  readonly kind = 'invalid';
}

/** A request body over the configured size limit. */
export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly kind = 'too_large';
}

/** A request with a content type the route does not accept. */
export class UnsupportedMediaTypeError extends AppError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly kind = 'invalid';
}

/** The thing asked for does not exist, or exists in a tenant the caller cannot see. */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  readonly kind = 'not_found';
  constructor(resource: string, id: string) {
    super(`${resource} ${id} was not found`, { details: { resource, id } });
  }
}

/** No route answers this method and path. */
export class RouteNotFoundError extends AppError {
  readonly code = 'ROUTE_NOT_FOUND';
  readonly kind = 'not_found';
  constructor(method: string, path: string) {
    super(`No route ${method} ${path}`, { details: { method, path } });
  }
}

/** The request carries no credentials, or credentials that are invalid, expired or revoked. */
export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  readonly kind = 'unauthenticated';
}

/** The caller is known but its role or scopes do not allow the action. */
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  readonly kind = 'forbidden';
}

/** The action conflicts with the current state (a duplicate name, a stale version). */
export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
  readonly kind = 'conflict';
}

/** Too many requests in the current window. */
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  readonly kind = 'limit_exceeded';
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(`Rate limit exceeded; retry after ${retryAfterSeconds} s`, {
      details: { retry_after_seconds: retryAfterSeconds },
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A tenant quota (count, size or rate) would be exceeded. */
export class QuotaExceededError extends AppError {
  readonly code = 'QUOTA_EXCEEDED';
  readonly kind = 'limit_exceeded';
}

/** A dependency (database, Redis, NATS, sandbox, provider) cannot be reached. */
export class ServiceUnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
  readonly kind = 'unavailable';
}

/** A bug or an unexpected state; the client sees only the code. */
export class InternalError extends AppError {
  readonly code = 'INTERNAL';
  readonly kind = 'internal';
}
