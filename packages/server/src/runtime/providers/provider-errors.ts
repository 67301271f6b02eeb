import {
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from '../../kernel/model-router/index.js';

/** Parses `retry-after` (seconds or HTTP date) or `retry-after-ms` into milliseconds. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Maps an HTTP status from a vendor to our typed error. */
export function errorForStatus(
  provider: string,
  response: { status: number; headers: { get(name: string): string | null } | undefined },
  cause: unknown,
): ProviderError {
  const { status, headers } = response;
  if (status === 429) return new ProviderRateLimitedError(provider, retryAfterMs(headers), cause);
  if (status === 408) return new ProviderTimeoutError(provider, 0, cause);
  if (status >= 500) return new ProviderUnavailableError(provider, status, cause);
  return new ProviderRejectedError(provider, status, cause);
}

/**
 * Turns whatever an SDK threw into a ProviderError. `status`/`headers` are read off the SDK's own
 * error class by the caller; an abort from the caller's signal wins over everything else.
 */
export function toProviderError(
  provider: string,
  error: unknown,
  context: { signal?: AbortSignal | undefined; status?: number | undefined; headers?: { get(name: string): string | null } | undefined },
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (context.signal?.aborted) return new ProviderAbortedError(provider, error);
  if (context.status !== undefined) return errorForStatus(provider, { status: context.status, headers: context.headers }, error);
  const name = error instanceof Error ? error.name : '';
  if (/timeout/i.test(name)) return new ProviderTimeoutError(provider, 0, error);
  if (error instanceof SyntaxError) return new ProviderBadResponseError(provider, 'malformed response stream', { cause: error });
  if (/abort/i.test(name)) return new ProviderAbortedError(provider, error);
  if (/connection|fetch failed|ECONNREFUSED|ECONNRESET|socket/i.test(`${name} ${error instanceof Error ? error.message : ''}`)) {
    return new ProviderUnavailableError(provider, null, error);
  }
  return new ProviderBadResponseError(provider, 'unexpected failure while reading the response', { cause: error });
}

/** Parses tool-call arguments, refusing garbage so a broken stream is caught here, not in a tool. */
export function assertJsonArguments(provider: string, text: string): void {
  if (text.trim() === '') return;
  try {
    JSON.parse(text);
  } catch (error) {
    throw new ProviderBadResponseError(provider, 'tool call arguments are not valid JSON', { cause: error });
  }
}
