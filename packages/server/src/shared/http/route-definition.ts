import type { RouteContract, RouteOutput } from '@aether/protocol';
import type { z } from 'zod';

import type { MaybePromise } from '../async/index.js';
import type { Principal, TenantContext } from '../context/index.js';

/**
 * Who may call a route.
 * - `public`: no credentials (token exchange).
 * - `authenticated`: any valid principal, operator or tenant.
 * - `operator`: the platform operator only.
 * - `tenant`: a principal of a tenant holding `permission` (a name from the permission table of
 *   `kernel/auth`). With `tenantParam`, the path's tenant must be the caller's own, else 404;
 *   `allowOperator` also lets the operator in, scoped to the path's tenant.
 */
export type RouteAccess =
  | { readonly kind: 'public' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'operator' }
  | {
      readonly kind: 'tenant';
      readonly permission: string;
      readonly tenantParam?: string;
      readonly allowOperator?: boolean;
    };

// A contract part that was not declared keeps the default `z.ZodType`, so it reads as `undefined`.
type Declared<TSchema> = z.ZodType extends TSchema ? undefined : TSchema extends z.ZodType ? z.output<TSchema> : undefined;
type ParamsOf<TContract> = TContract extends RouteContract<infer TParams> ? Declared<TParams> : never;
type QueryOf<TContract> = TContract extends RouteContract<z.ZodType, infer TQuery> ? Declared<TQuery> : never;
type BodyOf<TContract> = TContract extends RouteContract<z.ZodType, z.ZodType, infer TBody> ? Declared<TBody> : never;

export interface RouteRequest<TContract extends RouteContract> {
  readonly params: ParamsOf<TContract>;
  readonly query: QueryOf<TContract>;
  readonly body: BodyOf<TContract>;
  readonly principal: Principal | undefined;
  /** Present on `tenant` routes: the tenant scope every store call takes. */
  readonly ctx: TenantContext | undefined;
  readonly requestId: string;
  readonly ip: string;
}

/** Answer of a handler: the response body, validated against the contract in tests. */
export type RouteResult<TContract extends RouteContract> = RouteOutput<TContract> | z.input<TContract['response']>;

/** A module's route: its contract, who may call it, and the handler. Mounted by `api/`. */
export interface RouteDefinition<TContract extends RouteContract = RouteContract> {
  readonly contract: TContract;
  readonly access: RouteAccess;
  /** A plain value lets a request served from memory finish without a microtask. */
  handle(request: RouteRequest<TContract>): MaybePromise<RouteResult<TContract>>;
}

/** Declares a module route, inferring request and response types from the contract. */
export function defineHandler<TContract extends RouteContract>(
  contract: TContract,
  access: RouteAccess,
  handle: (request: RouteRequest<TContract>) => MaybePromise<RouteResult<TContract>>,
): RouteDefinition {
  return { contract, access, handle };
}

/** The tenant context of a `tenant` route; throws if a route was declared with another access kind. */
export function requireTenant(request: { readonly ctx: TenantContext | undefined }): TenantContext {
  if (!request.ctx) throw new TypeError('route handler needs a tenant context but its access is not "tenant"');
  return request.ctx;
}
