import { isAppError, type AppError, type ErrorDetails, type ErrorKind } from '../shared/errors/index.js';
import {
  InternalError,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../shared/errors/index.js';

/** The one table from error kind to HTTP status; a new kind without a status fails to compile. */
export const STATUS_BY_KIND = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  limit_exceeded: 429,
  unavailable: 503,
  internal: 500,
} as const satisfies Record<ErrorKind, number>;

export interface ErrorResponse {
  readonly status: number;
  readonly error: AppError;
  readonly body: { error: { code: string; message: string; details: ErrorDetails; request_id: string } };
}

// Fastify's own errors for body parsing, mapped to our stable codes.
function fromFastifyError(error: { code?: unknown; message?: unknown }): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MalformedJsonError('The request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('The request body is empty; this route expects a JSON object', { field: 'body' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError('The request body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError('Send the request body as application/json');
    default:
      // Fastify reports JSON syntax errors from its parser as plain SyntaxErrors with status 400.
      if (error instanceof SyntaxError) return new MalformedJsonError('The request body is not valid JSON');
      return undefined;
  }
}

/** Maps any thrown value to the error envelope. Non-AppErrors become 500 INTERNAL, showing nothing internal. */
export function toErrorResponse(thrown: unknown, requestId: string): ErrorResponse {
  const error =
    (isAppError(thrown) ? thrown : undefined) ??
    (typeof thrown === 'object' && thrown !== null ? fromFastifyError(thrown) : undefined) ??
    new InternalError('An internal error occurred; quote the request id when reporting it');
  return {
    status: STATUS_BY_KIND[error.kind],
    error,
    body: { error: { code: error.code, message: error.message, details: error.details, request_id: requestId } },
  };
}
