import { tenancyRoutes as contracts } from '@aether/protocol';

import { defineHandler, requireTenant, type RouteDefinition } from '../../shared/http/index.js';
import { OperatorOnlyError, RoleEscalationError, roleAtLeast } from '../auth/index.js';
import type { SecretService } from './secret-service.js';
import type { TenantService } from './tenant-service.js';
import type { UserService } from './user-service.js';

export interface TenancyRoutesDeps {
  readonly tenants: TenantService;
  readonly users: UserService;
  readonly secrets: SecretService;
}

/** Tenant, user and secret routes. */
export function tenancyRoutes(deps: TenancyRoutesDeps): RouteDefinition[] {
  return [
    defineHandler(contracts.listTenants, { kind: 'authenticated' }, async ({ principal, ctx, query }) => {
      if (principal?.type === 'operator') return deps.tenants.listAll(query);
      if (!ctx) throw new TypeError('tenant principal without a tenant context');
      return { items: [await deps.tenants.get(ctx)], next_cursor: null };
    }),
    defineHandler(contracts.createTenant, { kind: 'operator' }, async ({ principal, body, requestId }) => {
      if (!principal) throw new TypeError('operator route without a principal');
      return deps.tenants.create(principal, body, requestId);
    }),
    defineHandler(
      contracts.getTenant,
      { kind: 'tenant', permission: 'tenant:read', tenantParam: 'tenantId', allowOperator: true },
      // Not async: a cached tenant is answered without a microtask (the hottest read of the API).
      (request) => deps.tenants.get(requireTenant(request)),
    ),
    defineHandler(
      contracts.updateTenant,
      { kind: 'tenant', permission: 'tenant:update', tenantParam: 'tenantId', allowOperator: true },
      async (request) => {
        const ctx = requireTenant(request);
        const { status, quotas } = request.body;
        if ((status !== undefined || quotas !== undefined) && ctx.principal.type !== 'operator') throw new OperatorOnlyError();
        return deps.tenants.update(ctx, request.body);
      },
    ),
    defineHandler(contracts.listUsers, { kind: 'tenant', permission: 'users:read' }, async (request) =>
      deps.users.list(requireTenant(request), request.query),
    ),
    defineHandler(contracts.createUser, { kind: 'tenant', permission: 'users:write' }, async (request) => {
      const ctx = requireTenant(request);
      assertCanGrant(ctx.principal, request.body.role);
      return deps.users.create(ctx, request.body);
    }),
    defineHandler(contracts.getUser, { kind: 'tenant', permission: 'users:read' }, async (request) =>
      deps.users.get(requireTenant(request), request.params.userId),
    ),
    defineHandler(contracts.updateUser, { kind: 'tenant', permission: 'users:write' }, async (request) => {
      const ctx = requireTenant(request);
      if (request.body.role !== undefined) assertCanGrant(ctx.principal, request.body.role);
      return deps.users.update(ctx, request.params.userId, request.body);
    }),
    defineHandler(contracts.listSecrets, { kind: 'tenant', permission: 'secrets:read' }, async (request) => ({
      items: await deps.secrets.list(requireTenant(request)),
    })),
    defineHandler(contracts.putSecret, { kind: 'tenant', permission: 'secrets:write' }, async (request) =>
      deps.secrets.put(requireTenant(request), request.body),
    ),
    defineHandler(contracts.deleteSecret, { kind: 'tenant', permission: 'secrets:write' }, async (request) => {
      await deps.secrets.delete(requireTenant(request), request.params.name);
      return {};
    }),
  ];
}

function assertCanGrant(principal: { type: string; role?: string }, role: 'owner' | 'admin' | 'developer' | 'viewer'): void {
  if (principal.type === 'operator') return;
  const own = principal.role as 'owner' | 'admin' | 'developer' | 'viewer' | undefined;
  if (!own || !roleAtLeast(own, role)) throw new RoleEscalationError(role, own ?? 'none');
}
