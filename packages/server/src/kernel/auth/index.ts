/**
 * @module kernel/auth
 * Authentication and authorization: tenant API keys (hashed, scoped, expiring, revocable),
 * operator keys, JWT access tokens with rotating refresh tokens, and the role/permission table.
 * Owns tables: api_keys, operator_keys, refresh_tokens. Depends on: shared, infra.
 */
export { ApiKeyService, type ApiKeyServiceDeps, type CreateApiKeyInput, type KeyQuotaEnforcer, type TenantStatus } from './api-key-service.js';
export { Authenticator, type Authenticated, type AuthenticatorDeps, type TokenGrant, type UserDirectory } from './authenticator.js';
export { authMigrations } from './migrations.js';
export { OperatorKeyService, type OperatorKeyServiceDeps } from './operator-key-service.js';
export {
  PERMISSIONS,
  can,
  isPermission,
  permissionsOf,
  roleAtLeast,
  scopesAllow,
  type Permission,
} from './permissions.js';
export { authRoutes, type AuthRoutesDeps } from './routes.js';
export { TokenService, type IssuedTokens, type TokenServiceDeps, type TokenSubject } from './token-service.js';
export {
  ApiKeyExpiredError,
  ApiKeyRevokedError,
  CredentialsInvalidError,
  CredentialsMissingError,
  OperatorOnlyError,
  PermissionDeniedError,
  RefreshTokenReusedError,
  RoleEscalationError,
  TenantSuspendedError,
  TokenExpiredError,
} from './errors.js';
