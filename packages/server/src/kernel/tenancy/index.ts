/**
 * @module kernel/tenancy
 * Tenants with their quotas, the users of each tenant, and tenant secrets sealed at rest.
 * Owns tables: tenants, users, secrets. Depends on: shared, infra, kernel/auth (permissions).
 */
export { LastOwnerError, SecretNotFoundError, TenantSlugTakenError, UserEmailTakenError } from './errors.js';
export { tenancyMigrations } from './migrations.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { enforceQuota, type CountQuota, type QuotaCheck } from './quota-enforcer.js';
export { tenancyRoutes, type TenancyRoutesDeps } from './routes.js';
export { SecretService, type SecretMetadata, type SecretServiceDeps } from './secret-service.js';
export { TenantService, mergeQuotas, tenantToWire, type QuotaOverrides, type CreateTenantInput, type TenantServiceDeps, type UpdateTenantInput } from './tenant-service.js';
export { UserService, type CreateUserInput, type UpdateUserInput, type UserServiceDeps } from './user-service.js';
