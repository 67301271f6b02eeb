import { CompiledQuery, PostgresDialect, type DatabaseConnection, type Driver, type QueryCompiler, type TransactionSettings } from 'kysely';

import { ForwardingDriver } from './forwarding-driver.js';
import { takePrelude } from './transaction-prelude.js';

/**
 * A PostgresDialect for a pool whose clients run in pg's pipeline mode (queries are written as
 * they are issued, without waiting for the answer to the one before). Its driver sends `begin`
 * and the transaction's prelude without waiting for them, straight on the connection (Kysely
 * runs a transaction's own statements one after another), so they share one round trip with
 * the transaction's first statement. PostgreSQL runs them in order: a statement never runs
 * before its prelude, and fails if the prelude failed. Commit and rollback wait for both first,
 * so a failed `begin` or prelude is still reported.
 */
export class PipelinedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new PipelinedDriver(super.createDriver());
  }
}

class PipelinedDriver extends ForwardingDriver {
  /** What each open transaction's connection sent ahead and has not yet seen answered. */
  readonly #sentAhead = new WeakMap<DatabaseConnection, Promise<unknown>>();

  override beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const prelude = takePrelude();
    // Isolation levels and access modes keep the driver's own (awaited) start transaction.
    if (settings.isolationLevel !== undefined || settings.accessMode !== undefined) return this.#beginAwaited(connection, { settings, prelude });
    const begun = connection.executeQuery(CompiledQuery.raw('begin'));
    const sent = prelude ? Promise.all([begun, connection.executeQuery(prelude)]) : begun;
    // Observed here so it is never an unhandled rejection; commit and rollback await it for real.
    sent.catch(() => undefined);
    this.#sentAhead.set(connection, sent);
    return Promise.resolve();
  }

  async #beginAwaited(connection: DatabaseConnection, start: { settings: TransactionSettings; prelude: CompiledQuery | undefined }): Promise<void> {
    await this.inner.beginTransaction(connection, start.settings);
    if (start.prelude) await connection.executeQuery(start.prelude);
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#settleSentAhead(connection, { rethrow: true });
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#settleSentAhead(connection, { rethrow: false });
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  override async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#settleSentAhead(connection, { rethrow: true });
    await this.inner.savepoint?.(connection, name, compile);
  }

  async #settleSentAhead(connection: DatabaseConnection, options: { rethrow: boolean }): Promise<void> {
    const sent = this.#sentAhead.get(connection);
    if (!sent) return;
    this.#sentAhead.delete(connection);
    try {
      await sent;
    } catch (error) {
      if (options.rethrow) throw error;
    }
  }
}
