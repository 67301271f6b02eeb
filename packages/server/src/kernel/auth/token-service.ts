import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

import type { Database } from '../../infra/database/index.js';
import { asTenantId, type Principal, type TenantId } from '../../shared/context/index.js';
import { safeEqual } from '../../shared/crypto/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { mintCredential, parseCredential } from './credential-format.js';
import { CredentialsInvalidError, RefreshTokenReusedError, TokenExpiredError } from './errors.js';
import type { AuthTables, RefreshTokenRow } from './tables.js';

export interface TokenServiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** HS256 key for access tokens, derived from the master key. */
  readonly signingKey: Buffer;
  readonly accessTtlSeconds: number;
  readonly refreshTtlSeconds: number;
}

export type TokenSubject = Extract<Principal, { type: 'user' | 'api_key' }>;

export interface IssuedTokens {
  token_type: 'Bearer';
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  tenant_id: string;
}

const ISSUER = 'aether';
const AUDIENCE = 'aether-api';

/**
 * Short-lived JWT access tokens and rotating refresh tokens. Each refresh returns a new refresh
 * token and spends the old one; presenting a spent one revokes its whole family (theft detection).
 */
export class TokenService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #key: Uint8Array;
  readonly #accessTtlSeconds: number;
  readonly #refreshTtlSeconds: number;

  constructor(deps: TokenServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#key = new Uint8Array(deps.signingKey);
    this.#accessTtlSeconds = deps.accessTtlSeconds;
    this.#refreshTtlSeconds = deps.refreshTtlSeconds;
  }

  /** Issues an access token and a refresh token that starts a new family. */
  async issue(tenantId: TenantId, subject: TokenSubject): Promise<IssuedTokens> {
    return this.#issueInFamily(tenantId, subject, this.#ids.next('rtf'));
  }

  /**
   * Spends a refresh token and returns a fresh pair. `currentSubject` re-reads the principal so
   * a disabled user or revoked key cannot refresh.
   * @throws {CredentialsInvalidError} for an unknown, expired or revoked token.
   * @throws {RefreshTokenReusedError} for a token already spent (its family is revoked).
   */
  async refresh(
    token: string,
    currentSubject: (row: { tenantId: TenantId; type: 'user' | 'api_key'; id: string }) => Promise<TokenSubject>,
  ): Promise<IssuedTokens> {
    const parsed = parseCredential(token);
    if (parsed?.kind !== 'refresh_token') throw new CredentialsInvalidError('Not a refresh token');
    const now = this.#clock.now();
    const outcome = await this.#db.withSystem(async (tx) => {
      const tables = tx.$extendTables<AuthTables>();
      const row = await tables.selectFrom('refresh_tokens').selectAll().where('id', '=', parsed.id).forUpdate().executeTakeFirst();
      if (!row || !safeEqual(row.secret_hash, parsed.secretHash)) return { kind: 'invalid' as const, reason: 'Unknown refresh token' };
      if (row.revoked_at) return { kind: 'invalid' as const, reason: 'This refresh token has been revoked' };
      if (row.used_at) {
        await tables.updateTable('refresh_tokens').set({ revoked_at: now }).where('family_id', '=', row.family_id).where('revoked_at', 'is', null).execute();
        return { kind: 'reused' as const };
      }
      if (row.expires_at.getTime() <= now.getTime()) return { kind: 'invalid' as const, reason: 'This refresh token has expired' };
      await tables.updateTable('refresh_tokens').set({ used_at: now }).where('id', '=', row.id).execute();
      return { kind: 'ok' as const, row };
    });
    if (outcome.kind === 'reused') throw new RefreshTokenReusedError();
    if (outcome.kind === 'invalid') throw new CredentialsInvalidError(outcome.reason);
    const { row } = outcome;
    const tenantId = asTenantId(row.tenant_id);
    const subject = await currentSubject({ tenantId, type: row.principal_type, id: row.principal_id });
    return this.#issueInFamily(tenantId, subject, row.family_id);
  }

  /** Revokes the family of a refresh token (log out). Unknown tokens are ignored. */
  async revoke(token: string): Promise<void> {
    const parsed = parseCredential(token);
    if (parsed?.kind !== 'refresh_token') throw new CredentialsInvalidError('Not a refresh token');
    await this.#db.withSystem(async (tx) => {
      const tables = tx.$extendTables<AuthTables>();
      const row = await tables.selectFrom('refresh_tokens').select(['family_id', 'secret_hash']).where('id', '=', parsed.id).executeTakeFirst();
      if (!row || !safeEqual(row.secret_hash, parsed.secretHash)) return;
      await tables.updateTable('refresh_tokens').set({ revoked_at: this.#clock.now() }).where('family_id', '=', row.family_id).where('revoked_at', 'is', null).execute();
    });
  }

  /**
   * Verifies an access token's signature, issuer, audience and expiry.
   * @throws {TokenExpiredError} past its expiry; {CredentialsInvalidError} otherwise.
   */
  async verify(accessToken: string): Promise<{ tenantId: TenantId; subject: TokenSubject }> {
    try {
      const { payload } = await jwtVerify(accessToken, this.#key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: this.#clock.now(),
      });
      const { sub, tid, ptyp, role, scp } = payload as Record<string, unknown>;
      if (typeof sub !== 'string' || typeof tid !== 'string' || (ptyp !== 'user' && ptyp !== 'api_key') || typeof role !== 'string' || !Array.isArray(scp)) {
        throw new CredentialsInvalidError('Access token is missing claims');
      }
      const subject = { type: ptyp, id: sub, role, scopes: scp.map(String) } as TokenSubject;
      return { tenantId: asTenantId(tid), subject };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new TokenExpiredError();
      if (error instanceof CredentialsInvalidError) throw error;
      throw new CredentialsInvalidError('Invalid access token', { cause: error });
    }
  }

  async #issueInFamily(tenantId: TenantId, subject: TokenSubject, familyId: string): Promise<IssuedTokens> {
    const now = this.#clock.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const accessToken = await new SignJWT({ tid: tenantId, ptyp: subject.type, role: subject.role, scp: [...subject.scopes] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + this.#accessTtlSeconds)
      .setJti(this.#ids.next('jti'))
      .sign(this.#key);
    const id = this.#ids.next('rt');
    const { token, secretHash } = mintCredential('refresh_token', id);
    const row: RefreshTokenRow = {
      id,
      tenant_id: tenantId,
      family_id: familyId,
      principal_type: subject.type,
      principal_id: subject.id,
      secret_hash: secretHash,
      issued_at: now,
      expires_at: new Date(now.getTime() + this.#refreshTtlSeconds * 1000),
      used_at: null,
      revoked_at: null,
    };
    await this.#db.withTenant(tenantId, (tx) => tx.$extendTables<AuthTables>().insertInto('refresh_tokens').values(row).execute());
    return {
      token_type: 'Bearer',
      access_token: accessToken,
      expires_in: this.#accessTtlSeconds,
      refresh_token: token,
      refresh_expires_in: this.#refreshTtlSeconds,
      tenant_id: tenantId,
    };
  }
}
