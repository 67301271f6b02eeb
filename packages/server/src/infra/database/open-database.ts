import { mkdir } from 'node:fs/promises';

import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

import { ConflictError, ServiceUnavailableError } from '../../shared/errors/index.js';
import { lockDataDir } from './data-dir-lock.js';
import { Database } from './database.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PGlitePool } from './pglite-pool.js';
import { PipelinedPostgresDialect } from './pipelined-dialect.js';
import { prepareStatementsOnConnect } from './prepared-statements.js';
import { coalesceWritesOnConnect } from './write-coalescing.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export type DatabaseOptions =
  | { readonly engine: 'pglite'; readonly dataDir: string; readonly schema?: string }
  | { readonly engine: 'pglite'; readonly loadDataDir: Blob; readonly schema?: string }
  | { readonly engine: 'postgres'; readonly url: string; readonly schema?: string; readonly poolSize?: number };

// Both engines return int8 as a JS number (ids and sequence numbers stay far below 2^53)
// and numeric as a string (money keeps its exact decimal form).
const parseInt8 = (value: string): number => Number(value);
const keepString = (value: string): string => value;

function resolveSchema(schema: string | undefined): string {
  const resolved = schema ?? 'public';
  if (!SCHEMA_PATTERN.test(resolved)) throw new TypeError(`invalid database schema name "${resolved}"`);
  return resolved;
}

/**
 * Opens the embedded PGlite database (file-backed, or loaded from a dump) or a PostgreSQL pool.
 * @throws {ServiceUnavailableError} when the database cannot be opened or reached.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const schema = resolveSchema(options.schema);
  if (options.engine === 'postgres') return openPostgres(options.url, schema, options.poolSize ?? 10);
  let unlock: () => Promise<void> = () => Promise.resolve();
  let pglite: PGlite | undefined;
  try {
    const parsers = { [INT8_OID]: parseInt8, [NUMERIC_OID]: keepString };
    if ('dataDir' in options) {
      await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
      unlock = await lockDataDir(options.dataDir);
      pglite = await PGlite.create({ dataDir: options.dataDir, parsers });
    } else {
      pglite = await PGlite.create({ loadDataDir: options.loadDataDir, parsers });
    }
    if (schema !== 'public') {
      await pglite.exec(`create schema if not exists ${schema}; set search_path to ${schema}`);
    }
    const pool = new PGlitePool(pglite);
    const release = unlock;
    const database = new Database({
      engine: 'pglite',
      schema,
      dialect: new PGliteDialect({ pool }),
      onClose: async () => {
        await pool.end();
        await release();
      },
    });
    await database.ping();
    return database;
  } catch (error) {
    // Whatever failed after the lock was taken, the directory must not stay locked.
    if (pglite && !pglite.closed) await pglite.close().catch(() => undefined);
    await unlock();
    if (error instanceof ConflictError) throw error;
    throw new ServiceUnavailableError(`cannot open the embedded database: ${String(error)}`, { cause: error });
  }
}

function typeParserFor(oid: number): (value: string) => unknown {
  if (oid === INT8_OID) return parseInt8;
  if (oid === NUMERIC_OID) return keepString;
  // pg's TypeId enum lists only built-in oids, but any oid is valid at run time.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  return pg.types.getTypeParser(oid, 'text') as (value: string) => unknown;
}

async function openPostgres(url: string, schema: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: `-c search_path=${schema}`,
    // Queries are written as they are issued: a transaction's begin, tenant scope and first
    // statement share one round trip (see PipelinedPostgresDialect).
    pipeline: true,
    types: { getTypeParser: typeParserFor as typeof pg.types.getTypeParser },
  });
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  pool.on('error', () => undefined);
  prepareStatementsOnConnect(pool);
  coalesceWritesOnConnect(pool);
  const database = new Database({ engine: 'postgres', schema, dialect: new PipelinedPostgresDialect({ pool }) });
  try {
    if (schema !== 'public') await pool.query(`create schema if not exists ${schema}`);
    await database.ping();
  } catch (error) {
    await database.close();
    throw new ServiceUnavailableError(`cannot reach PostgreSQL at ${redactUrl(url)}: ${String(error)}`, { cause: error });
  }
  return database;
}

/** A database URL with its password removed, safe to log or show. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
