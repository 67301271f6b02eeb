import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One HTTP route of the public API: the single source for server validation, the typed client
 * and the OpenAPI document. Paths use `{name}` parameters, as in OpenAPI.
 */
export interface RouteContract<
  TParams extends z.ZodType = z.ZodType,
  TQuery extends z.ZodType = z.ZodType,
  TBody extends z.ZodType = z.ZodType,
  TResponse extends z.ZodType = z.ZodType,
> {
  readonly method: HttpMethod;
  readonly path: `/${string}`;
  readonly summary: string;
  readonly tag: string;
  readonly params?: TParams;
  readonly query?: TQuery;
  readonly body?: TBody;
  readonly response: TResponse;
  /** Status of a successful answer; 200 unless said otherwise. */
  readonly successStatus?: 200 | 201 | 202 | 204;
  /** False for the few routes that take no credentials (token exchange, health). */
  readonly authenticated?: boolean;
  /** A valid example body, shown in /docs and used by the route-walking tests. */
  readonly exampleBody?: z.input<TBody>;
}

/** Declares a route contract, keeping its exact schema types for inference. */
export function defineRoute<
  TParams extends z.ZodType = z.ZodType,
  TQuery extends z.ZodType = z.ZodType,
  TBody extends z.ZodType = z.ZodType,
  TResponse extends z.ZodType = z.ZodType,
>(contract: RouteContract<TParams, TQuery, TBody, TResponse>): RouteContract<TParams, TQuery, TBody, TResponse> {
  return contract;
}

// A part the contract did not declare keeps the default `z.ZodType`: the caller passes nothing for it.
type IsDeclared<TSchema> = z.ZodType extends TSchema ? false : true;

/** What a client passes to call a route: only the parts the route has. */
export type RouteInput<TRoute> =
  TRoute extends RouteContract<infer TParams, infer TQuery, infer TBody>
    ? (IsDeclared<TParams> extends true ? { params: z.input<TParams> } : { params?: undefined }) &
        (IsDeclared<TQuery> extends true ? { query?: z.input<TQuery> } : { query?: undefined }) &
        (IsDeclared<TBody> extends true ? { body: z.input<TBody> } : { body?: undefined })
    : never;

/** What a route answers with, after parsing. */
export type RouteOutput<TRoute> = TRoute extends RouteContract<z.ZodType, z.ZodType, z.ZodType, infer TResponse>
  ? z.output<TResponse>
  : never;

/** Fills `{name}` parameters of a contract path. */
/** The text form of a path or query parameter value. */
export function parameterText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

export function buildPath(path: string, params: Readonly<Record<string, unknown>> | undefined): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new TypeError(`missing path parameter "${name}" for ${path}`);
    return encodeURIComponent(parameterText(value));
  });
}
