import { Kysely, sql, type PostgresDialect, type Transaction } from 'kysely';

import type { TenantId } from '../../shared/context/index.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PipelinedPostgresDialect } from './pipelined-dialect.js';
import { withTransactionPrelude } from './transaction-prelude.js';

/** The empty table map; each module adds its own tables with `db.$extendTables<TModuleTables>()`. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the empty table map that `$extendTables` adds to
export type NoTables = {};
export type Db = Kysely<NoTables>;
export type DbTransaction = Transaction<NoTables>;
/** Anything queries can run on: the root handle or an open transaction. */
export type DbExecutor = Db | DbTransaction;

export type DatabaseEngine = 'pglite' | 'postgres';

/** The role every tenant transaction switches to; PostgreSQL row-level security binds it. */
export const APP_ROLE = 'aether_app';
/** The session setting that RLS policies compare `tenant_id` with. */
export const TENANT_SETTING = 'aether.tenant_id';

export interface TenantTransactionOptions {
  /** Run inside this open transaction instead of opening one (it must already be tenant-scoped). */
  readonly tx?: DbTransaction | undefined;
}

export interface DatabaseDeps {
  readonly engine: DatabaseEngine;
  readonly dialect: PostgresDialect;
  readonly schema: string;
  readonly onClose?: () => Promise<void>;
}

/**
 * One database handle over PGlite or PostgreSQL. Tenant work runs in `withTenant`, which switches
 * to the RLS-bound role and sets the tenant for the transaction, so a query that forgets its
 * tenant filter still sees only its own tenant's rows.
 */
export class Database implements AsyncDisposable {
  readonly engine: DatabaseEngine;
  readonly schema: string;
  readonly kysely: Db;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #takesPrelude: boolean;
  #closed = false;

  constructor(deps: DatabaseDeps) {
    this.engine = deps.engine;
    this.schema = deps.schema;
    this.kysely = new Kysely<NoTables>({ dialect: deps.dialect });
    this.#onClose = deps.onClose;
    // Only these dialects send the tenant scope as a prelude; any other gets it as a statement.
    this.#takesPrelude = deps.dialect instanceof PipelinedPostgresDialect || deps.dialect instanceof PGliteDialect;
  }

  /** Runs `work` in a transaction scoped to `tenantId`, as the RLS-bound application role. */
  async withTenant<T>(
    tenantId: TenantId,
    work: (tx: DbTransaction) => Promise<T>,
    options: TenantTransactionOptions = {},
  ): Promise<T> {
    if (options.tx) return work(options.tx);
    const scope = sql`select set_config('role', ${APP_ROLE}, true), set_config(${TENANT_SETTING}, ${tenantId}, true)`;
    if (this.#takesPrelude) {
      // The scope goes out with begin (and, pipelined, the work's first statement) at once.
      return withTransactionPrelude(scope.compile(this.kysely), () => this.kysely.transaction().execute(work));
    }
    return this.kysely.transaction().execute(async (tx) => {
      await scope.execute(tx);
      return work(tx);
    });
  }

  /**
   * Runs `work` in a transaction as the owner role, which RLS does not bind. Only for platform
   * work that is not inside one tenant: tenant creation, credential lookup, migrations.
   */
  async withSystem<T>(work: (tx: DbTransaction) => Promise<T>): Promise<T> {
    return this.kysely.transaction().execute(work);
  }

  /** Round-trips a trivial query; throws when the database cannot be reached. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.kysely);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.kysely.destroy();
    await this.#onClose?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
