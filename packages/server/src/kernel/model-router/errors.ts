import { AppError, type ErrorDetails } from '../../shared/errors/index.js';

/**
 * Base of every failure of one provider call. `retryable` says whether the same request may
 * succeed when tried again (rate limits, 5xx, overload, timeouts, broken streams).
 */
export abstract class ProviderError extends AppError {
  abstract readonly retryable: boolean;
  readonly provider: string;
  constructor(provider: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(`${provider}: ${message}`, { cause: options.cause, details: { provider, ...options.details } });
    this.provider = provider;
  }
}

/** The vendor answered 429; `retryAfterMs` comes from its retry-after header when it sent one. */
export class ProviderRateLimitedError extends ProviderError {
  readonly code = 'PROVIDER_RATE_LIMITED';
  readonly kind = 'limit_exceeded';
  readonly retryable = true;
  readonly retryAfterMs: number | undefined;
  constructor(provider: string, retryAfterMs: number | undefined, cause?: unknown) {
    super(provider, `rate limited${retryAfterMs === undefined ? '' : `, retry after ${String(retryAfterMs)} ms`}`, {
      cause,
      details: { retry_after_ms: retryAfterMs ?? null },
    });
    this.retryAfterMs = retryAfterMs;
  }
}

/** The vendor is down, overloaded (5xx, 529) or unreachable. */
export class ProviderUnavailableError extends ProviderError {
  readonly code = 'PROVIDER_UNAVAILABLE';
  readonly kind = 'unavailable';
  readonly retryable = true;
  constructor(provider: string, status: number | null, cause?: unknown) {
    super(provider, status === null ? 'unreachable' : `unavailable (HTTP ${String(status)})`, {
      cause,
      details: { status },
    });
  }
}

/** The call took longer than its timeout. */
export class ProviderTimeoutError extends ProviderError {
  readonly code = 'PROVIDER_TIMEOUT';
  readonly kind = 'unavailable';
  readonly retryable = true;
  constructor(provider: string, timeoutMs: number, cause?: unknown) {
    super(provider, `timed out after ${String(timeoutMs)} ms`, { cause, details: { timeout_ms: timeoutMs } });
  }
}

/** The vendor's answer could not be understood (a malformed or truncated stream). */
export class ProviderBadResponseError extends ProviderError {
  readonly code = 'PROVIDER_BAD_RESPONSE';
  readonly kind = 'unavailable';
  readonly retryable = true;
}

/** The vendor refused the request itself (4xx other than 429): retrying cannot help. */
export class ProviderRejectedError extends ProviderError {
  readonly code = 'PROVIDER_REJECTED';
  readonly kind = 'invalid';
  readonly retryable = false;
  constructor(provider: string, status: number, cause?: unknown) {
    super(provider, `rejected the request (HTTP ${String(status)})`, { cause, details: { status } });
  }
}

/** The caller aborted the call through its AbortSignal. */
export class ProviderAbortedError extends ProviderError {
  readonly code = 'PROVIDER_ABORTED';
  readonly kind = 'unavailable';
  readonly retryable = false;
  constructor(provider: string, cause?: unknown) {
    super(provider, 'call aborted', { cause });
  }
}

/** An optional package a provider needs (node-llama-cpp) is not installed. */
export class ProviderPackageMissingError extends ProviderError {
  readonly code = 'PROVIDER_PACKAGE_MISSING';
  readonly kind = 'unavailable';
  readonly retryable = false;
  constructor(provider: string, packageName: string, cause?: unknown) {
    super(provider, `needs the optional package ${packageName}; install it with: npm install ${packageName}`, {
      cause,
      details: { package: packageName },
    });
  }
}

/** The provider's circuit breaker is open after repeated failures. */
export class ProviderCircuitOpenError extends ProviderError {
  readonly code = 'PROVIDER_CIRCUIT_OPEN';
  readonly kind = 'unavailable';
  readonly retryable = false;
  constructor(provider: string) {
    super(provider, 'circuit open after repeated failures; not called');
  }
}

/** A model reference (`provider:model`) names no configured provider or catalog entry. */
export class UnknownModelError extends AppError {
  readonly code = 'MODEL_UNKNOWN';
  readonly kind = 'invalid';
  constructor(model: string) {
    super(`Unknown model ${model}`, { details: { model } });
  }
}

/** The tenant has no override of that model in its catalog. */
export class ModelOverrideNotFoundError extends AppError {
  readonly code = 'MODEL_OVERRIDE_NOT_FOUND';
  readonly kind = 'not_found';
  constructor(model: string) {
    super(`The tenant has no override of model ${model}`, { details: { model } });
  }
}

/** Every model in the fallback chain failed; names each provider tried and the attempts made. */
export class ModelCallFailedError extends AppError {
  readonly code = 'MODEL_CALL_FAILED';
  readonly kind = 'unavailable';
  readonly attempts: readonly { readonly model: string; readonly attempts: number; readonly error: string }[];
  constructor(attempts: readonly { readonly model: string; readonly attempts: number; readonly error: string }[], cause?: unknown) {
    const summary = attempts.map((a) => `${a.model} (${String(a.attempts)} attempt${a.attempts === 1 ? '' : 's'}: ${a.error})`).join('; ');
    const last = attempts.at(-1);
    super(`Model call failed on every route: ${summary}`, {
      cause,
      details: {
        models: attempts.map((a) => a.model).join(','),
        provider: last ? (last.model.split(':')[0] ?? last.model) : null,
        attempts: attempts.reduce((sum, a) => sum + a.attempts, 0),
      },
    });
    this.attempts = attempts;
  }
}

/** The router's policy refuses the request (budget tight and complexity high, spec §19). */
export class RoutingDeniedError extends AppError {
  readonly code = 'ROUTING_DENIED';
  readonly kind = 'limit_exceeded';
  constructor(reason: string) {
    super(`Routing denied: ${reason}`, { details: { reason } });
  }
}
