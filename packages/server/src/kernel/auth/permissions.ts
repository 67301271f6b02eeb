import type { Role } from '../../shared/context/index.js';

/**
 * Every permission a route may require, `resource:action`. Roles are cumulative:
 * Owner > Admin > Developer > Viewer. Adding a permission here is how a module declares a new
 * kind of access; the API refuses to start if a route names one that is not listed.
 */
export const PERMISSIONS = {
  'tenant:read': 'viewer',
  'tenant:update': 'owner',
  'users:read': 'viewer',
  'users:write': 'admin',
  'keys:read': 'viewer',
  'keys:write': 'admin',
  'secrets:read': 'developer',
  'secrets:write': 'admin',
  'ledger:read': 'viewer',
  'ledger:write': 'developer',
  'ledger:export': 'admin',
  'vms:read': 'viewer',
  'vms:write': 'developer',
  'exec:run': 'developer',
  'models:read': 'viewer',
  'models:write': 'admin',
  'budgets:read': 'viewer',
  'budgets:write': 'admin',
  'costs:read': 'viewer',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

const RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

/** `resource:*`, the scope that grants every action on a permission's resource. */
const RESOURCE_WILDCARD = Object.fromEntries(
  Object.keys(PERMISSIONS).map((permission) => [permission, `${permission.slice(0, permission.indexOf(':'))}:*`]),
) as Record<Permission, string>;

export function isPermission(name: string): name is Permission {
  return Object.hasOwn(PERMISSIONS, name);
}

/** True when `role` is at least `minimum` (Owner > Admin > Developer > Viewer). */
export function roleAtLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** Every permission a role holds. */
export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((permission) => roleAtLeast(role, PERMISSIONS[permission]));
}

/** True when a scope list allows a permission: `*`, `resource:*` or the exact name. */
export function scopesAllow(scopes: readonly string[], permission: Permission): boolean {
  // A loop over prepared strings: this runs on every request, and a closure and a joined string
  // per call showed in its profile.
  const wildcard = RESOURCE_WILDCARD[permission];
  for (const scope of scopes) if (scope === '*' || scope === permission || scope === wildcard) return true;
  return false;
}

/** Whether a tenant principal with this role and these scopes may use `permission`. */
export function can(role: Role, scopes: readonly string[], permission: Permission): boolean {
  return roleAtLeast(role, PERMISSIONS[permission]) && scopesAllow(scopes, permission);
}
