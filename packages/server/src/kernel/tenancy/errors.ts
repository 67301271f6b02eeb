import { AppError } from '../../shared/errors/index.js';

/** Another tenant already uses this slug. */
export class TenantSlugTakenError extends AppError {
  readonly code = 'TENANT_SLUG_TAKEN';
  readonly kind = 'conflict';
  constructor(slug: string) {
    super(`A tenant with slug "${slug}" already exists`, { details: { slug } });
  }
}

/** Another user of the tenant already has this email. */
export class UserEmailTakenError extends AppError {
  readonly code = 'USER_EMAIL_TAKEN';
  readonly kind = 'conflict';
  constructor(email: string) {
    super(`A user with email ${email} already exists in this tenant`, { details: { email } });
  }
}

/** A change would leave the tenant with no active Owner. */
export class LastOwnerError extends AppError {
  readonly code = 'LAST_OWNER';
  readonly kind = 'conflict';
  constructor() {
    super('The tenant must keep at least one active owner');
  }
}

/** The secret does not exist in this tenant. */
export class SecretNotFoundError extends AppError {
  readonly code = 'SECRET_NOT_FOUND';
  readonly kind = 'not_found';
  constructor(name: string) {
    super(`Secret ${name} was not found`, { details: { name } });
  }
}
