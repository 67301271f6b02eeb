/** Branded tenant id (`tnt_…`), so a plain string is never taken for one by accident. */
export type TenantId = string & { readonly __brand: 'TenantId' };

export type Role = 'owner' | 'admin' | 'developer' | 'viewer';

/** Who is acting. The platform operator acts across tenants; everyone else inside one. */
export type Principal =
  | { readonly type: 'user'; readonly id: string; readonly role: Role; readonly scopes: readonly string[] }
  | { readonly type: 'api_key'; readonly id: string; readonly role: Role; readonly scopes: readonly string[] }
  | { readonly type: 'operator'; readonly id: string }
  | { readonly type: 'system'; readonly id: string };

/** Request-scoped data passed explicitly to every tenant-scoped operation. */
export interface TenantContext {
  readonly tenantId: TenantId;
  readonly principal: Principal;
  readonly requestId: string;
  readonly traceId: string;
  readonly signal: AbortSignal;
}

export function asTenantId(value: string): TenantId {
  return value as TenantId;
}

/** A context for work the platform does on its own behalf inside a tenant (schedulers, reapers). */
export function systemContext(tenantId: TenantId, component: string, signal?: AbortSignal): TenantContext {
  const requestId = `sys-${component}`;
  return {
    tenantId,
    principal: { type: 'system', id: component },
    requestId,
    traceId: requestId,
    signal: signal ?? new AbortController().signal,
  };
}
