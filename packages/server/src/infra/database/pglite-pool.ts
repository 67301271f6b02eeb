import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

type Command = PostgresQueryResult<unknown>['command'];
const COMMANDS = new Set<string>(['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE', 'COMMIT', 'ROLLBACK']);

function commandOf(sqlText: string): Command {
  const word = /^\s*(?:with\b[\s\S]*?\)\s*)?(\w+)/i.exec(sqlText)?.[1]?.toUpperCase() ?? 'SELECT';
  return (COMMANDS.has(word) ? word : 'SELECT') as Command;
}

// A statement separator outside the trailing position. Dollar-quoted bodies (do $$ … $$) count
// too, which is harmless: exec runs single statements correctly as well.
function isMultiStatement(sqlText: string): boolean {
  return sqlText.trim().replace(/;\s*$/, '').includes(';');
}

const TRANSACTION_CONTROL = /^\s*(?:begin|commit|rollback)\s*;?\s*$/i;

/**
 * Presents one PGlite instance as a node-postgres pool, so Kysely's PostgresDialect (through
 * `PGliteDialect`) drives both engines and we keep one SQL dialect. PGlite is a single connection: `connect()` hands it
 * out to one holder at a time, which is what makes transactions safe.
 */
export class PGlitePool implements PostgresPool {
  readonly options = {};
  readonly #db: PGlite;
  #tail: Promise<void> = Promise.resolve();

  constructor(db: PGlite) {
    this.#db = db;
  }

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void;
    const previous = this.#tail;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    const db = this.#db;
    let released = false;
    const client = {
      async query<R>(sqlText: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
        if (parameters.length === 0 && (isMultiStatement(sqlText) || TRANSACTION_CONTROL.test(sqlText))) {
          // Migrations and a transaction's begin with its tenant scope send several statements at
          // once; only the simple protocol (exec) accepts that, as node-postgres does for
          // parameterless queries. Begin, commit and rollback take it too: it skips the extended
          // protocol's parse and describe, about half of their cost.
          const results = await db.exec(sqlText);
          const last = results.at(-1);
          return { command: commandOf(sqlText), rowCount: last?.affectedRows ?? 0, rows: (last?.rows ?? []) as R[] };
        }
        const result = await db.query<R>(sqlText, [...parameters]);
        return { command: commandOf(sqlText), rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
      },
      release(): void {
        if (released) return;
        released = true;
        release();
      },
    };
    return client as unknown as PostgresPoolClient;
  }

  async end(): Promise<void> {
    await this.#tail;
    if (!this.#db.closed) await this.#db.close();
  }
}
