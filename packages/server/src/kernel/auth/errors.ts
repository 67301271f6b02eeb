import { AppError } from '../../shared/errors/index.js';

/** No credentials were sent. */
export class CredentialsMissingError extends AppError {
  readonly code = 'CREDENTIALS_MISSING';
  readonly kind = 'unauthenticated';
  constructor() {
    super('This route needs credentials: send "Authorization: Bearer <api key or access token>"');
  }
}

/** The credentials are malformed, unknown or do not match. */
export class CredentialsInvalidError extends AppError {
  readonly code = 'CREDENTIALS_INVALID';
  readonly kind = 'unauthenticated';
}

/** The access token has expired; get a new one with the refresh token. */
export class TokenExpiredError extends AppError {
  readonly code = 'TOKEN_EXPIRED';
  readonly kind = 'unauthenticated';
  constructor() {
    super('The access token has expired; exchange the refresh token for a new one');
  }
}

/** The API key was revoked. */
export class ApiKeyRevokedError extends AppError {
  readonly code = 'API_KEY_REVOKED';
  readonly kind = 'unauthenticated';
  constructor(keyId: string) {
    super(`API key ${keyId} has been revoked`, { details: { key_id: keyId } });
  }
}

/** The API key is past its expiry. */
export class ApiKeyExpiredError extends AppError {
  readonly code = 'API_KEY_EXPIRED';
  readonly kind = 'unauthenticated';
  constructor(keyId: string) {
    super(`API key ${keyId} has expired`, { details: { key_id: keyId } });
  }
}

/** A refresh token was presented a second time: its whole family is revoked as a precaution. */
export class RefreshTokenReusedError extends AppError {
  readonly code = 'REFRESH_TOKEN_REUSED';
  readonly kind = 'unauthenticated';
  constructor() {
    super('This refresh token was already used; every token issued from it has been revoked. Sign in again.');
  }
}

/** The principal is known, but its role or scopes lack the permission. */
export class PermissionDeniedError extends AppError {
  readonly code = 'PERMISSION_DENIED';
  readonly kind = 'forbidden';
  constructor(permission: string, role: string | null) {
    super(`This action needs the "${permission}" permission${role ? `, which role ${role} (with these scopes) does not have` : ''}`, {
      details: { permission, role },
    });
  }
}

/** Only the platform operator may do this. */
export class OperatorOnlyError extends AppError {
  readonly code = 'OPERATOR_ONLY';
  readonly kind = 'forbidden';
  constructor() {
    super('Only the platform operator may do this');
  }
}

/** A principal tried to grant a role above its own. */
export class RoleEscalationError extends AppError {
  readonly code = 'ROLE_ESCALATION';
  readonly kind = 'forbidden';
  constructor(requested: string, own: string) {
    super(`Cannot grant role ${requested}, which is above your own role ${own}`, { details: { requested, own } });
  }
}

/** The tenant is suspended; its principals cannot act. */
export class TenantSuspendedError extends AppError {
  readonly code = 'TENANT_SUSPENDED';
  readonly kind = 'forbidden';
  constructor(tenantId: string) {
    super(`Tenant ${tenantId} is suspended; its keys and tokens cannot act until the operator reactivates it`, { details: { tenant_id: tenantId } });
  }
}
