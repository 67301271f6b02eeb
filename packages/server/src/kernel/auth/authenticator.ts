import type { Role } from '@aether/protocol';

import { thenMaybe, type MaybePromise } from '../../shared/async/index.js';
import type { Principal, TenantId } from '../../shared/context/index.js';
import { assertTenantActive, type ApiKeyService, type TenantStatus } from './api-key-service.js';
import { parseCredential } from './credential-format.js';
import { CredentialsInvalidError } from './errors.js';
import type { OperatorKeyService } from './operator-key-service.js';
import type { IssuedTokens, TokenService, TokenSubject } from './token-service.js';

/** What the tenancy module tells auth about users (a port, so auth does not own users). */
export interface UserDirectory {
  /** The active user with this email and password in the tenant (id or slug), else undefined. */
  authenticate(tenant: string, email: string, password: string): Promise<{ id: string; role: Role; tenantId: TenantId } | undefined>;
  /** The user's current role and status, undefined when gone. */
  status(tenantId: TenantId, userId: string): Promise<{ role: Role; status: 'active' | 'disabled' } | undefined>;
  tenantStatus(tenantId: TenantId): MaybePromise<TenantStatus | undefined>;
}

export interface Authenticated {
  readonly principal: Principal;
  /** The tenant the principal acts in; undefined for the operator. */
  readonly tenantId: TenantId | undefined;
}

export type TokenGrant =
  | { grant_type: 'api_key'; api_key: string }
  | { grant_type: 'refresh_token'; refresh_token: string }
  | { grant_type: 'password'; tenant: string; email: string; password: string };

export interface AuthenticatorDeps {
  readonly apiKeys: ApiKeyService;
  readonly operatorKeys: OperatorKeyService;
  readonly tokens: TokenService;
  readonly users: UserDirectory;
}

/** Turns a bearer credential (API key, operator key or access token) into a principal. */
export class Authenticator {
  readonly #apiKeys: ApiKeyService;
  readonly #operatorKeys: OperatorKeyService;
  readonly #tokens: TokenService;
  readonly #users: UserDirectory;

  constructor(deps: AuthenticatorDeps) {
    this.#apiKeys = deps.apiKeys;
    this.#operatorKeys = deps.operatorKeys;
    this.#tokens = deps.tokens;
    this.#users = deps.users;
  }

  /**
   * @throws {CredentialsInvalidError} / {TokenExpiredError} / {ApiKeyRevokedError} /
   *   {ApiKeyExpiredError} / {TenantSuspendedError} when the credential does not authenticate.
   */
  async authenticate(bearer: string): Promise<Authenticated> {
    return this.authenticateNow(bearer);
  }

  /**
   * `authenticate` for the request hot path: for an API or operator key whose records are cached
   * it answers at once, with a plain value or a synchronous throw of the same errors; otherwise
   * it returns a promise. Callers must handle both (see `shared/async`).
   */
  authenticateNow(bearer: string): MaybePromise<Authenticated> {
    const verified = this.#apiKeys.authenticateVerified(bearer);
    if (verified !== undefined) return verified;
    const credential = parseCredential(bearer);
    if (credential?.kind === 'api_key') return this.#apiKeys.authenticate(credential);
    if (credential?.kind === 'operator_key') {
      return thenMaybe(this.#operatorKeys.authenticate(credential), (principal) => ({ principal, tenantId: undefined }));
    }
    if (credential?.kind === 'refresh_token') {
      throw new CredentialsInvalidError('A refresh token is not an access credential; exchange it at POST /v1/tokens');
    }
    return this.#authenticateToken(bearer);
  }

  async #authenticateToken(bearer: string): Promise<Authenticated> {
    const { tenantId, subject } = await this.#tokens.verify(bearer);
    assertTenantActive(tenantId, await this.#users.tenantStatus(tenantId));
    // Role and scopes are re-read, so a demotion or revocation applies before the token expires.
    const current = await this.#currentSubject({ tenantId, type: subject.type, id: subject.id });
    return { principal: current, tenantId };
  }

  /**
   * Exchanges an API key, a password or a refresh token for tokens.
   * @throws {CredentialsInvalidError} (and the key errors) when the grant does not authenticate.
   * @throws {RefreshTokenReusedError} for a spent refresh token.
   */
  async exchange(grant: TokenGrant): Promise<IssuedTokens> {
    switch (grant.grant_type) {
      case 'api_key': {
        const credential = parseCredential(grant.api_key);
        if (credential?.kind !== 'api_key') throw new CredentialsInvalidError('Not a tenant API key (ak_…)');
        const { principal, tenantId } = await this.#apiKeys.authenticate(credential);
        return this.#tokens.issue(tenantId, principal as TokenSubject);
      }
      case 'password': {
        const user = await this.#users.authenticate(grant.tenant, grant.email, grant.password);
        if (!user) throw new CredentialsInvalidError('Wrong tenant, email or password');
        return this.#tokens.issue(user.tenantId, { type: 'user', id: user.id, role: user.role, scopes: ['*'] });
      }
      case 'refresh_token':
        return this.#tokens.refresh(grant.refresh_token, (row) => this.#currentSubject(row));
    }
  }

  async #currentSubject(row: { tenantId: TenantId; type: 'user' | 'api_key'; id: string }): Promise<TokenSubject> {
    if (row.type === 'api_key') {
      const key = await this.#apiKeys.assertActive(row.id);
      return { type: 'api_key', id: row.id, role: key.role, scopes: key.scopes };
    }
    const user = await this.#users.status(row.tenantId, row.id);
    if (user?.status !== 'active') throw new CredentialsInvalidError('The user is disabled or gone');
    return { type: 'user', id: row.id, role: user.role, scopes: ['*'] };
  }
}
