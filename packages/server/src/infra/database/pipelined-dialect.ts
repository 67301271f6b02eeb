import { CompiledQuery, PostgresDialect, type DatabaseConnection, type Driver, type QueryCompiler, type TransactionSettings } from 'kysely';

/**
 * A PostgresDialect for a pool whose clients run in pg's pipeline mode (queries are written as
 * they are issued, without waiting for the answer to the one before). Its driver sends `begin`
 * without waiting for it, so a transaction's `begin`, its first statements and their answers
 * share one round trip instead of one each. A failed `begin` is still reported: the statements
 * behind it fail, and commit and rollback wait for it first.
 */
export class PipelinedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new PipelinedDriver(super.createDriver());
  }
}

class PipelinedDriver implements Driver {
  readonly #inner: Driver;
  /** The `begin` each open transaction's connection sent and has not yet seen answered. */
  readonly #begun = new WeakMap<DatabaseConnection, Promise<unknown>>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return this.#inner.acquireConnection();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // Isolation levels and access modes keep the driver's own (awaited) start transaction.
    if (settings.isolationLevel !== undefined || settings.accessMode !== undefined) return this.#inner.beginTransaction(connection, settings);
    const begun = connection.executeQuery(CompiledQuery.raw('begin'));
    // Observed here so it is never an unhandled rejection; commit and rollback await it for real.
    begun.catch(() => undefined);
    this.#begun.set(connection, begun);
    return Promise.resolve();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#settleBegin(connection, { rethrow: true });
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#settleBegin(connection, { rethrow: false });
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#settleBegin(connection, { rethrow: true });
    await this.#inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  async #settleBegin(connection: DatabaseConnection, options: { rethrow: boolean }): Promise<void> {
    const begun = this.#begun.get(connection);
    if (!begun) return;
    this.#begun.delete(connection);
    try {
      await begun;
    } catch (error) {
      if (options.rethrow) throw error;
    }
  }
}
