import { Agent, request, type Dispatcher } from 'undici';

/** The `fetch` the vendor SDKs accept as an option (all four take the global fetch's shape). */
export type ProviderFetch = typeof fetch;

/**
 * A `fetch` for the vendor SDKs built on undici's `request()` instead of its WHATWG `fetch()`.
 *
 * Every model call crosses this once. The global fetch runs the whole Fetch standard per call
 * (request and response objects, header guards, body extraction into a web stream, a second
 * socket write for the body), which measured ~2-3x the CPU of `request()` for the same exchange:
 * ~175 µs of a routed call on our machines (`npm run bench -- models`). The SDKs still get a real
 * `Response` whose body streams as it arrives, so their SSE and NDJSON parsing is unchanged.
 *
 * It handles what the SDKs send for model calls: a string or byte body (or none). Anything else
 * (form data for file uploads, a stream body) goes to the global fetch, which handles every case.
 * An aborted signal rejects with an `AbortError`, as fetch does, so the SDKs tell an abort from a
 * network failure. Redirects are not followed: vendor APIs answer in place, and a redirect is
 * returned to the SDK as the response it is.
 */
export function createProviderFetch(options: { readonly dispatcher?: Dispatcher } = {}): ProviderFetch {
  // A keep-alive connection pool of its own unless given one (`defaultProviderFetch` is shared).
  const dispatcher = options.dispatcher ?? new Agent();
  const providerFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))) {
      return fetch(input, init);
    }
    const url = typeof input === 'string' ? input : input.href;
    const answer = await request(url, {
      method: (init?.method ?? 'GET').toUpperCase(),
      headers: headerRecord(init?.headers),
      body: body ?? null,
      signal: init?.signal ?? null,
      dispatcher,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.append(name, value);
    }
    const status = answer.statusCode;
    if (NULL_BODY_STATUSES.has(status) || init?.method?.toUpperCase() === 'HEAD') {
      answer.body.resume();
      return new Response(null, { status, headers });
    }
    // Node's Response takes an async iterable body and reads it as the SDK pulls, chunk by chunk.
    return new Response(answer.body, { status, headers });
  };
  return providerFetch;
}

// Statuses whose responses have no body; `new Response(body, …)` refuses one for them.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The request's headers as the record undici takes (Headers normalises every form fetch accepts). */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  (headers instanceof Headers ? headers : new Headers(headers)).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

let shared: ProviderFetch | undefined;

/** The process-wide provider fetch, with one keep-alive pool for every provider, like the global fetch's; what providers use by default. */
export function defaultProviderFetch(): ProviderFetch {
  shared ??= createProviderFetch();
  return shared;
}
