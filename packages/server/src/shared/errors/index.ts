/**
 * @module shared/errors
 * Typed failures with stable codes. Every code is listed in docs/errors.md.
 */
export { AppError, isAppError, type ErrorDetails, type ErrorKind } from './app-error.js';
export { errorMessage } from './error-message.js';
export {
  ConflictError,
  ForbiddenError,
  InternalError,
  MalformedJsonError,
  NotFoundError,
  PayloadTooLargeError,
  QuotaExceededError,
  RateLimitedError,
  RouteNotFoundError,
  ServiceUnavailableError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './common-errors.js';
