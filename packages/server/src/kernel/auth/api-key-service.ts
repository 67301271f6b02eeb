import type { ApiKey, Role } from '@aether/protocol';

import type { AuditSink } from '../../infra/audit/index.js';
import { isPromise, type MaybePromise } from '../../shared/async/index.js';
import type { Database, DbTransaction } from '../../infra/database/index.js';
import { asTenantId, type Principal, type TenantContext, type TenantId } from '../../shared/context/index.js';
import { safeEqual } from '../../shared/crypto/index.js';
import { NotFoundError } from '../../shared/errors/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import { displayPrefix, mintCredential, type ParsedCredential } from './credential-format.js';
import { ApiKeyExpiredError, ApiKeyRevokedError, CredentialsInvalidError, RoleEscalationError, TenantSuspendedError } from './errors.js';
import { roleAtLeast } from './permissions.js';
import type { ApiKeyRow, AuthTables } from './tables.js';
import { TtlCache } from '../../shared/cache/index.js';

export interface ApiKeyServiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly audit: AuditSink;
  readonly logger: Logger;
  /** Refuses a key past the tenant's `max_api_keys` quota; from the tenancy module. */
  readonly enforceKeyQuota: KeyQuotaEnforcer;
  /**
   * The tenant's status (undefined when it does not exist); from the tenancy module. A plain
   * value when the tenant record is cached, so authentication from memory stays synchronous.
   */
  readonly tenantStatus: (tenantId: TenantId) => MaybePromise<TenantStatus | undefined>;
}

export interface CreateApiKeyInput {
  readonly name: string;
  readonly role: Role;
  readonly scopes?: readonly string[] | undefined;
  readonly expires_in_days?: number | undefined;
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;
/** Bound on credentials remembered as verified (see `ApiKeyService.authenticateVerified`). */
const MAX_VERIFIED_CREDENTIALS = 10_000;

/** A credential this process checked against a key row that is still the cached one. */
interface VerifiedCredential {
  readonly row: ApiKeyRow;
  readonly tenantId: TenantId;
  readonly authenticated: { readonly principal: Principal; readonly tenantId: TenantId };
}

function keyToWire(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    role: row.role,
    scopes: row.scopes,
    prefix: displayPrefix('api_key', row.id),
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

export type TenantStatus = 'active' | 'suspended';

/** Checks, inside the creating transaction, that one more active key fits the tenant's quota. */
export type KeyQuotaEnforcer = (tx: DbTransaction, check: { tenantId: TenantId; current: () => Promise<number> }) => Promise<void>;

/** @throws {TenantSuspendedError} or {CredentialsInvalidError} unless the tenant is active. */
export function assertTenantActive(tenantId: TenantId, status: TenantStatus | undefined): void {
  if (status === 'suspended') throw new TenantSuspendedError(tenantId);
  if (status === undefined) throw new CredentialsInvalidError('The credential\'s tenant no longer exists');
}

function principalRole(principal: Principal): Role | 'operator' | undefined {
  if (principal.type === 'operator') return 'operator';
  if (principal.type === 'user' || principal.type === 'api_key') return principal.role;
  return undefined;
}

/** Tenant API keys: shown once, stored as a hash, scoped, expiring and revocable. */
export class ApiKeyService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditSink;
  readonly #log: Logger;
  readonly #tenantStatus: (tenantId: TenantId) => MaybePromise<TenantStatus | undefined>;
  readonly #enforceKeyQuota: KeyQuotaEnforcer;
  readonly #cache: TtlCache<ApiKeyRow | null>;
  readonly #lastUsedWrites = new Map<string, number>();
  /** Full credential → the row it was checked against; in insertion order, oldest first. */
  readonly #verified = new Map<string, VerifiedCredential>();

  constructor(deps: ApiKeyServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#audit = deps.audit;
    this.#log = deps.logger.child({ module: 'auth' });
    this.#tenantStatus = deps.tenantStatus;
    this.#enforceKeyQuota = deps.enforceKeyQuota;
    this.#cache = new TtlCache({ clock: deps.clock, ttlMs: 5_000 });
  }

  /**
   * Creates a key no stronger than its creator, within the tenant's `max_api_keys` quota.
   * @throws {RoleEscalationError} when the role is above the creator's.
   * @throws {QuotaExceededError} at the quota (from the quota enforcer).
   */
  async create(ctx: TenantContext, input: CreateApiKeyInput): Promise<{ api_key: ApiKey; secret: string }> {
    const own = principalRole(ctx.principal);
    if (own !== 'operator' && own !== undefined && !roleAtLeast(own, input.role)) throw new RoleEscalationError(input.role, own);
    const now = this.#clock.now();
    const id = this.#ids.next('key');
    const { token, secretHash } = mintCredential('api_key', id);
    const row: ApiKeyRow = {
      id,
      tenant_id: ctx.tenantId,
      name: input.name,
      role: input.role,
      scopes: [...(input.scopes ?? ['*'])],
      secret_hash: secretHash,
      created_by: `${ctx.principal.type}:${ctx.principal.id}`,
      created_at: now,
      expires_at: input.expires_in_days === undefined ? null : new Date(now.getTime() + input.expires_in_days * DAY_MS),
      last_used_at: null,
      revoked_at: null,
    };
    await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tables = tx.$extendTables<AuthTables>();
      await this.#enforceKeyQuota(tx, {
        tenantId: ctx.tenantId,
        current: async () =>
          (await tables.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('count')).where('revoked_at', 'is', null).executeTakeFirstOrThrow()).count,
      });
      await tables.insertInto('api_keys').values({ ...row, scopes: JSON.stringify(row.scopes) as never }).execute();
      await this.#audit.append(ctx, { kind: 'auth.key_created', subject: { key_id: id }, payload: { name: row.name, role: row.role, scopes: row.scopes, expires_at: row.expires_at?.toISOString() ?? null } }, { tx });
    });
    return { api_key: keyToWire(row), secret: token };
  }

  async list(ctx: TenantContext, page: { cursor?: string | undefined; limit?: number | undefined }): Promise<{ items: ApiKey[]; next_cursor: string | null }> {
    const limit = page.limit ?? 50;
    const rows = await this.#db.withTenant(ctx.tenantId, (tx) => {
      let query = tx.$extendTables<AuthTables>().selectFrom('api_keys').selectAll().orderBy('id').limit(limit + 1);
      if (page.cursor) query = query.where('id', '>', page.cursor);
      return query.execute();
    });
    const page_ = rows.slice(0, limit);
    return { items: page_.map(keyToWire), next_cursor: rows.length > limit ? (page_.at(-1)?.id ?? null) : null };
  }

  /**
   * Revokes a key at once (in this process; others within 5 s) along with every refresh token
   * issued from it. Revoking a revoked key returns it unchanged.
   * @throws {NotFoundError} when the key is not in the caller's tenant.
   */
  async revoke(ctx: TenantContext, keyId: string): Promise<ApiKey> {
    const row = await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tables = tx.$extendTables<AuthTables>();
      const current = await tables.selectFrom('api_keys').selectAll().where('id', '=', keyId).forUpdate().executeTakeFirst();
      if (!current) throw new NotFoundError('api key', keyId);
      if (current.revoked_at) return current;
      const revokedAt = this.#clock.now();
      await tables.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', keyId).execute();
      await tables
        .updateTable('refresh_tokens')
        .set({ revoked_at: revokedAt })
        .where('principal_type', '=', 'api_key')
        .where('principal_id', '=', keyId)
        .where('revoked_at', 'is', null)
        .execute();
      await this.#audit.append(ctx, { kind: 'auth.key_revoked', subject: { key_id: keyId }, payload: { name: current.name } }, { tx });
      return { ...current, revoked_at: revokedAt };
    });
    this.#cache.delete(keyId);
    return keyToWire(row);
  }

  /**
   * Resolves an `ak_…` credential to its principal. Synchronous (a plain value, or a synchronous
   * throw) when the key and its tenant are cached; a promise when either must be read.
   * @throws {CredentialsInvalidError} for an unknown key or wrong secret.
   * @throws {ApiKeyRevokedError} / {ApiKeyExpiredError} for a revoked or expired key.
   * @throws {TenantSuspendedError} when the key's tenant is suspended.
   */
  authenticate(credential: ParsedCredential): MaybePromise<{ principal: Principal; tenantId: TenantId }> {
    // Branches on isPromise rather than chaining closures: this runs on every request.
    const row = this.#load(credential.id);
    return isPromise(row) ? row.then((loaded) => this.#authenticateRow(credential, loaded)) : this.#authenticateRow(credential, row);
  }

  /**
   * `authenticate` for a credential this process has already checked against the key row it
   * still has cached: the same checks of that row (revoked, expired, tenant active) without
   * parsing the credential or hashing its secret again. Undefined when the credential is not
   * one of those; the caller then parses it and calls `authenticate`.
   *
   * A hit is a map lookup on the whole credential. It lasts only while the row is the cached one
   * (at most the cache's 5 s, and revocation in this process drops the row at once), so the
   * check against the stored hash still runs at least every 5 s per key and process.
   */
  authenticateVerified(token: string): MaybePromise<{ principal: Principal; tenantId: TenantId }> | undefined {
    const verified = this.#verified.get(token);
    if (!verified) return undefined;
    if (this.#cache.get(verified.row.id) !== verified.row) {
      this.#verified.delete(token);
      return undefined;
    }
    this.#assertUsable(verified.row);
    const status = this.#tenantStatus(verified.tenantId);
    return isPromise(status) ? status.then((loaded) => this.#admitVerified(verified, loaded)) : this.#admitVerified(verified, status);
  }

  #admitVerified(verified: VerifiedCredential, status: TenantStatus | undefined): { principal: Principal; tenantId: TenantId } {
    assertTenantActive(verified.tenantId, status);
    this.#touch(verified.row);
    return verified.authenticated;
  }

  #authenticateRow(credential: ParsedCredential, row: ApiKeyRow | null): MaybePromise<{ principal: Principal; tenantId: TenantId }> {
    if (!row || !safeEqual(row.secret_hash, credential.secretHash)) throw new CredentialsInvalidError('Unknown API key');
    this.#assertUsable(row);
    const tenantId = asTenantId(row.tenant_id);
    const status = this.#tenantStatus(tenantId);
    return isPromise(status) ? status.then((loaded) => this.#admit(credential, row, loaded)) : this.#admit(credential, row, status);
  }

  #admit(credential: ParsedCredential, row: ApiKeyRow, status: TenantStatus | undefined): { principal: Principal; tenantId: TenantId } {
    const tenantId = asTenantId(row.tenant_id);
    assertTenantActive(tenantId, status);
    this.#touch(row);
    const authenticated = { principal: { type: 'api_key' as const, id: row.id, role: row.role, scopes: row.scopes }, tenantId };
    this.#rememberVerified(credential.token, { row, tenantId, authenticated });
    return authenticated;
  }

  // Only a row that is the cached one is remembered, so the entry ends when the cache entry does.
  // Each insertion also drops the oldest entry if its row has left the cache, so credentials of
  // keys no longer in use do not stay in memory until the bound pushes them out.
  #rememberVerified(token: string, verified: VerifiedCredential): void {
    if (this.#cache.get(verified.row.id) !== verified.row) return;
    this.#verified.delete(token);
    const oldest = this.#verified.entries().next();
    if (!oldest.done && (this.#verified.size >= MAX_VERIFIED_CREDENTIALS || this.#cache.get(oldest.value[1].row.id) !== oldest.value[1].row)) {
      this.#verified.delete(oldest.value[0]);
    }
    this.#verified.set(token, verified);
  }

  /** Checks that a key behind an access token is still usable; returns its current role and scopes. */
  async assertActive(keyId: string): Promise<{ role: Role; scopes: string[] }> {
    const row = await this.#load(keyId);
    if (!row) throw new CredentialsInvalidError('The API key behind this token no longer exists');
    this.#assertUsable(row);
    return { role: row.role, scopes: row.scopes };
  }

  #assertUsable(row: ApiKeyRow): void {
    if (row.revoked_at) throw new ApiKeyRevokedError(row.id);
    if (row.expires_at && row.expires_at.getTime() <= this.#clock.nowMs()) throw new ApiKeyExpiredError(row.id);
  }

  // Null is a cached "no such key", so repeated unknown keys do not reach the database either.
  #load(keyId: string): MaybePromise<ApiKeyRow | null> {
    return this.#cache.getOrLoad(keyId, this.#readRow);
  }

  readonly #readRow = async (keyId: string): Promise<ApiKeyRow | null> =>
    (await this.#db.withSystem((tx) =>
      tx.$extendTables<AuthTables>().selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirst(),
    )) ?? null;

  // Records use at most once a minute per key, so authentication stays a read on the hot path.
  #touch(row: ApiKeyRow): void {
    const nowMs = this.#clock.nowMs();
    if (nowMs - (this.#lastUsedWrites.get(row.id) ?? 0) < LAST_USED_WRITE_INTERVAL_MS) return;
    this.#lastUsedWrites.set(row.id, nowMs);
    this.#db
      .withTenant(asTenantId(row.tenant_id), (tx) =>
        tx.$extendTables<AuthTables>().updateTable('api_keys').set({ last_used_at: new Date(nowMs) }).where('id', '=', row.id).execute(),
      )
      .catch((error: unknown) => {
        this.#log.warn('api_key.last_used_write_failed', { key_id: row.id, error: String(error) });
      });
  }
}
