import type { Database } from '../../infra/database/index.js';
import { thenMaybe, type MaybePromise } from '../../shared/async/index.js';
import type { Principal } from '../../shared/context/index.js';
import { safeEqual } from '../../shared/crypto/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { mintCredential, type ParsedCredential } from './credential-format.js';
import { CredentialsInvalidError } from './errors.js';
import type { AuthTables, OperatorKeyRow } from './tables.js';
import { TtlCache } from '../../shared/cache/index.js';

export interface OperatorKeyServiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/** Keys of the platform operator, who creates tenants and sets quotas. They belong to no tenant. */
export class OperatorKeyService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #cache: TtlCache<OperatorKeyRow | null>;

  constructor(deps: OperatorKeyServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#cache = new TtlCache({ clock: deps.clock, ttlMs: 5_000 });
  }

  /** Creates an operator key; the returned token is the only copy of its secret. */
  async create(name: string): Promise<{ id: string; token: string }> {
    const id = this.#ids.next('op');
    const { token, secretHash } = mintCredential('operator_key', id);
    await this.#db.withSystem((tx) =>
      tx.$extendTables<AuthTables>().insertInto('operator_keys').values({ id, name, secret_hash: secretHash, created_at: this.#clock.now(), revoked_at: null }).execute(),
    );
    return { id, token };
  }

  /** True once any operator key exists (the platform has been initialised). */
  async exists(): Promise<boolean> {
    const row = await this.#db.withSystem((tx) => tx.$extendTables<AuthTables>().selectFrom('operator_keys').select('id').limit(1).executeTakeFirst());
    return row !== undefined;
  }

  /**
   * Synchronous when the key is cached (see ApiKeyService.authenticate).
   * @throws {CredentialsInvalidError} for an unknown, wrong or revoked operator key.
   */
  authenticate(credential: ParsedCredential): MaybePromise<Principal> {
    const row = this.#cache.getOrLoad(credential.id, async () =>
      (await this.#db.withSystem((tx) =>
        tx.$extendTables<AuthTables>().selectFrom('operator_keys').selectAll().where('id', '=', credential.id).executeTakeFirst(),
      )) ?? null,
    );
    return thenMaybe(row, (found) => {
      if (!found || !safeEqual(found.secret_hash, credential.secretHash) || found.revoked_at) {
        throw new CredentialsInvalidError('Unknown or revoked operator key');
      }
      return { type: 'operator' as const, id: found.id };
    });
  }
}
