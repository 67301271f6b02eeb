import { randomBytes } from 'node:crypto';

import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe } from 'vitest';

import type { Database } from '../database.js';
import { migrate, type Migration } from '../migrator.js';
import { openDatabase } from '../open-database.js';
import { describeWithService, testServices } from './test-services.js';

let templateDump: Promise<Blob> | undefined;

/** A freshly initialised PGlite data directory, made once per test worker and copied per use. */
function pgliteTemplate(): Promise<Blob> {
  templateDump ??= (async () => {
    const pglite = await PGlite.create({ dataDir: 'memory://' });
    const dump = await pglite.dumpDataDir('none');
    await pglite.close();
    return dump;
  })();
  return templateDump;
}

export type TestEngine = 'pglite' | 'postgres';

/**
 * Opens a migrated, isolated test database: a copy of the PGlite template, or a new schema
 * `t_<random>` on the PostgreSQL at AETHER_TEST_DATABASE_URL that `close()` drops.
 */
export async function openTestDatabase(engine: TestEngine, migrations: readonly Migration[]): Promise<Database> {
  let db: Database;
  if (engine === 'pglite') {
    db = await openDatabase({ engine: 'pglite', loadDataDir: await pgliteTemplate() });
  } else {
    const url = testServices.databaseUrl;
    if (!url) throw new Error('AETHER_TEST_DATABASE_URL is not set');
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const opened = await openDatabase({ engine: 'postgres', url, schema, poolSize: 12 });
    const close = opened.close.bind(opened);
    opened.close = async () => {
      await sql.raw(`drop schema if exists ${schema} cascade`).execute(opened.kysely);
      await close();
    };
    db = opened;
  }
  await migrate(db, migrations);
  return db;
}

/**
 * Runs `body` once per engine: always on PGlite, and on real PostgreSQL when it is configured
 * (required under CI). `getDb()` returns the suite's migrated database.
 */
export function describeEachDatabase(
  name: string,
  migrations: readonly Migration[],
  body: (getDb: () => Database, engine: TestEngine) => void,
): void {
  const run = (engine: TestEngine) => () => {
    let db: Database | undefined;
    beforeAll(async () => {
      db = await openTestDatabase(engine, migrations);
    });
    afterAll(async () => {
      await db?.close();
    });
    body(() => {
      if (!db) throw new Error('database not open yet');
      return db;
    }, engine);
  };
  describe(`${name} [pglite]`, run('pglite'));
  describeWithService('postgres', `${name} [postgres]`, () => {
    run('postgres')();
  });
}
