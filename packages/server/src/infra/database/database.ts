import { CompiledQuery, Kysely, sql, type PostgresDialect, type QueryResult, type Transaction } from 'kysely';

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

/** Switches the transaction to the RLS-bound role and names its tenant, both until it ends. */
const tenantScope = (tenantId: TenantId) => sql`select set_config('role', ${APP_ROLE}, true), set_config(${TENANT_SETTING}, ${tenantId}, true)`;

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
  readonly #pipelined: boolean;
  #closed = false;

  constructor(deps: DatabaseDeps) {
    this.engine = deps.engine;
    this.schema = deps.schema;
    this.kysely = new Kysely<NoTables>({ dialect: deps.dialect });
    this.#onClose = deps.onClose;
    // Only these dialects send the tenant scope as a prelude; any other gets it as a statement.
    this.#takesPrelude = deps.dialect instanceof PipelinedPostgresDialect || deps.dialect instanceof PGliteDialect;
    this.#pipelined = deps.dialect instanceof PipelinedPostgresDialect;
  }

  /** Runs `work` in a transaction scoped to `tenantId`, as the RLS-bound application role. */
  async withTenant<T>(
    tenantId: TenantId,
    work: (tx: DbTransaction) => Promise<T>,
    options: TenantTransactionOptions = {},
  ): Promise<T> {
    if (options.tx) return work(options.tx);
    const scope = tenantScope(tenantId);
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
   * Runs `statements` as one tenant transaction, for writes whose statements need nothing from
   * each other's results. On pipelined PostgreSQL its `begin`, tenant scope, statements and
   * `commit` leave in one socket write and share one round trip; elsewhere they run one after
   * another in `withTenant`. All commit or none: a failing statement aborts the transaction, the
   * commit then ends it without committing, and that statement's error is thrown. A statement
   * that must fail the write when a precondition does not hold calls `aether_expect` (see
   * `expectFunctionSql`), whose failure `isExpectationFailure` recognises.
   * @returns each statement's result, in order.
   */
  async writeInOneRoundTrip(tenantId: TenantId, statements: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    const scope = tenantScope(tenantId).compile(this.kysely);
    if (!this.#pipelined) {
      return this.withTenant(tenantId, async (tx) => {
        const results: QueryResult<unknown>[] = [];
        for (const statement of statements) results.push(await tx.executeQuery(statement));
        return results;
      });
    }
    return this.kysely.getExecutor().provideConnection(async (connection) => {
      // Issued back to back without waiting: the connection is pipelined and its socket corked
      // until the next tick, so all of them leave in one write. PostgreSQL runs them in order,
      // and once one fails every later one fails too, up to the commit, which then rolls back.
      const sent = [CompiledQuery.raw('begin'), scope, ...statements, CompiledQuery.raw('commit')].map((query) => connection.executeQuery(query));
      const settled = await Promise.allSettled(sent);
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const results = settled.map((result) => (result as PromiseFulfilledResult<QueryResult<unknown>>).value);
      // Every statement succeeded, so the commit committed; a ROLLBACK tag would mean it did not.
      if ((results.at(-1)?.rows[0] as { command?: string } | undefined)?.command !== 'COMMIT') throw new Error('the transaction did not commit');
      return results.slice(2, 2 + statements.length);
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
