import { CompiledQuery, PostgresDialect, type DatabaseConnection, type Driver, type QueryCompiler, type TransactionSettings } from 'kysely';
import { escapeLiteral } from 'pg';

import { takePrelude } from './transaction-prelude.js';

/**
 * The prelude with its parameters written in as literals, for PGlite's simple-query path (which
 * takes several statements in one call, but no parameters). The prelude is our own statement with
 * only text parameters, and pg's `escapeLiteral` quotes each (quotes doubled, backslashes in an
 * `E''` string), so no value can end its literal.
 */
export function inlineParameters(query: CompiledQuery): string {
  return query.sql.replace(/\$(\d+)/g, (_placeholder, position: string) => {
    const value = query.parameters[Number(position) - 1];
    if (typeof value !== 'string') throw new TypeError(`a transaction prelude takes text parameters only; $${position} is ${typeof value}`);
    if (value.includes('\0')) throw new TypeError(`a transaction prelude parameter ($${position}) cannot hold a NUL character`);
    return escapeLiteral(value);
  });
}

/**
 * A PostgresDialect over PGlite (through `PGlitePool`) whose transactions send `begin` and their
 * prelude (the tenant scope) as one statement batch: PGlite runs every call on this thread, and
 * two calls cost about a tenth of a millisecond more than one.
 */
export class PGliteDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new PGliteDriver(super.createDriver());
  }
}

class PGliteDriver implements Driver {
  readonly #inner: Driver;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return this.#inner.acquireConnection();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const prelude = takePrelude();
    if (!prelude) return this.#inner.beginTransaction(connection, settings);
    // Isolation levels and access modes keep the driver's own start transaction.
    if (settings.isolationLevel !== undefined || settings.accessMode !== undefined) {
      await this.#inner.beginTransaction(connection, settings);
      await connection.executeQuery(prelude);
      return;
    }
    await connection.executeQuery(CompiledQuery.raw(`begin; ${inlineParameters(prelude)}`));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
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
}
