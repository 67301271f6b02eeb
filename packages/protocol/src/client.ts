import { buildPath, parameterText, type RouteContract, type RouteInput, type RouteOutput } from './contract.js';
import { errorEnvelopeSchema } from './common.js';
import { apiRoutes, type ApiRoutes } from './routes.js';

export interface AetherClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:7070`. */
  readonly url: string;
  /** An API key (`ak_…`), an operator key (`aop_…`) or an access token. */
  readonly apiKey?: string | undefined;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** An error answer from the server, carrying its stable `code`. */
export class AetherApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly requestId: string | undefined;

  constructor(init: { status: number; code: string; message: string; details?: Record<string, unknown>; requestId?: string }) {
    super(init.message);
    this.name = 'AetherApiError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.requestId = init.requestId;
  }
}

export type AetherClient = {
  readonly [TName in keyof ApiRoutes]: (
    input: RouteInput<ApiRoutes[TName]>,
    options?: { signal?: AbortSignal },
  ) => Promise<RouteOutput<ApiRoutes[TName]>>;
} & {
  /** Calls any route contract, including ones this client version was not built with. */
  call<TRoute extends RouteContract>(
    route: TRoute,
    input: RouteInput<TRoute>,
    options?: { signal?: AbortSignal },
  ): Promise<RouteOutput<TRoute>>;
};

function queryString(query: Readonly<Record<string, unknown>> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) search.set(key, parameterText(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A typed client with one method per API route; answers are validated against the contract. */
export function createAetherClient(options: AetherClientOptions): AetherClient {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call<TRoute extends RouteContract>(
    route: TRoute,
    input: RouteInput<TRoute>,
    callOptions: { signal?: AbortSignal } = {},
  ): Promise<RouteOutput<TRoute>> {
    const parts = input as unknown as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
    const url = `${base}${buildPath(route.path, parts.params)}${queryString(parts.query)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
    if (parts.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await doFetch(url, {
      method: route.method,
      headers,
      body: parts.body === undefined ? null : JSON.stringify(parts.body),
      signal: callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout,
    });
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : {};
    if (!response.ok) {
      const envelope = errorEnvelopeSchema.safeParse(json);
      if (envelope.success) {
        const { code, message, details, request_id } = envelope.data.error;
        throw new AetherApiError({ status: response.status, code, message, details: details ?? {}, requestId: request_id });
      }
      throw new AetherApiError({ status: response.status, code: 'HTTP_ERROR', message: `HTTP ${String(response.status)}: ${text.slice(0, 200)}` });
    }
    return route.response.parse(json) as RouteOutput<TRoute>;
  }

  const methods: Record<string, unknown> = { call };
  for (const [name, route] of Object.entries(apiRoutes)) {
    methods[name] = (input: never, callOptions?: { signal?: AbortSignal }) => call(route, input, callOptions);
  }
  return methods as AetherClient;
}
