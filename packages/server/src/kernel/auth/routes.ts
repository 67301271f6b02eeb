import { tenancyRoutes as contracts } from '@aether/protocol';

import { defineHandler, requireTenant, type RouteDefinition } from '../../shared/http/index.js';
import type { ApiKeyService } from './api-key-service.js';
import type { Authenticator } from './authenticator.js';
import { permissionsOf, scopesAllow } from './permissions.js';
import type { TokenService } from './token-service.js';

export interface AuthRoutesDeps {
  readonly authenticator: Authenticator;
  readonly tokens: TokenService;
  readonly apiKeys: ApiKeyService;
}

/** Token exchange, identity and API key routes. */
export function authRoutes(deps: AuthRoutesDeps): RouteDefinition[] {
  return [
    defineHandler(contracts.createToken, { kind: 'public' }, async ({ body }) => deps.authenticator.exchange(body)),
    defineHandler(contracts.revokeToken, { kind: 'public' }, async ({ body }) => {
      await deps.tokens.revoke(body.refresh_token);
      return {};
    }),
    defineHandler(contracts.getMe, { kind: 'authenticated' }, async ({ principal, ctx }) => {
      if (!principal || principal.type === 'system') throw new TypeError('authenticated route without a principal');
      if (principal.type === 'operator') {
        return { type: 'operator' as const, id: principal.id, tenant_id: null, role: null, scopes: ['*'], permissions: [] };
      }
      return {
        type: principal.type,
        id: principal.id,
        tenant_id: ctx?.tenantId ?? null,
        role: principal.role,
        scopes: [...principal.scopes],
        permissions: permissionsOf(principal.role).filter((permission) => scopesAllow(principal.scopes, permission)),
      };
    }),
    defineHandler(contracts.listApiKeys, { kind: 'tenant', permission: 'keys:read' }, async (request) =>
      deps.apiKeys.list(requireTenant(request), request.query),
    ),
    defineHandler(contracts.createApiKey, { kind: 'tenant', permission: 'keys:write' }, async (request) =>
      deps.apiKeys.create(requireTenant(request), request.body),
    ),
    defineHandler(contracts.revokeApiKey, { kind: 'tenant', permission: 'keys:write' }, async (request) =>
      deps.apiKeys.revoke(requireTenant(request), request.params.keyId),
    ),
  ];
}
