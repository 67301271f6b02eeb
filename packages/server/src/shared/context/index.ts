/**
 * @module shared/context
 * TenantContext, the explicit request scope, and the principal and role types it carries.
 */
export {
  asTenantId,
  systemContext,
  type Principal,
  type Role,
  type TenantContext,
  type TenantId,
} from './tenant-context.js';
