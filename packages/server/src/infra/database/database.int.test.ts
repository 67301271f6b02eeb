import { sql, type Generated } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';

import { asTenantId } from '../../shared/context/index.js';
import { lockDataDir } from './data-dir-lock.js';
import { APP_ROLE } from './database.js';
import { findTenantTablesWithoutRls, migrate, MigrationChecksumError, MigrationFailedError, tenantRlsSql, type Migration } from './migrator.js';
import { expectFunctionSql, isExpectationFailure } from './postgres-errors.js';
import { describeEachDatabase } from './testing/index.js';
import { withTransactionPrelude } from './transaction-prelude.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from '../../shared/errors/index.js';

const notes: Migration = {
  module: 'notes',
  version: 1,
  name: 'notes table',
  up: `create table notes (id serial primary key, tenant_id text not null, body text not null);
${tenantRlsSql('notes')}
${expectFunctionSql}`,
};
type NotesTables = { notes: { id: Generated<number>; tenant_id: string; body: string } };

const tenantA = asTenantId('tnt_a');
const tenantB = asTenantId('tnt_b');

describeEachDatabase('Database', [notes], (getDb, engine) => {
  it('runs tenant transactions as the RLS-bound role, with the tenant set', async () => {
    const row = await getDb().withTenant(tenantA, async (tx) => {
      const result = await sql<{ role: string; tenant: string }>`select current_user as role, current_setting('aether.tenant_id', true) as tenant`.execute(tx);
      return result.rows[0];
    });
    expect(row).toEqual({ role: APP_ROLE, tenant: 'tnt_a' });
  });

  it('sets a tenant id holding quotes and backslashes verbatim, so it cannot end its literal', async () => {
    // PGlite sends the scope with begin as literals (PGliteDialect), PostgreSQL as parameters.
    const awkward = asTenantId(String.raw`tnt_'); set role postgres; select ('\x`);
    const row = await getDb().withTenant(awkward, async (tx) => {
      const result = await sql<{ role: string; tenant: string }>`select current_user as role, current_setting('aether.tenant_id', true) as tenant`.execute(tx);
      return result.rows[0];
    });
    expect(row).toEqual({ role: APP_ROLE, tenant: awkward });
  });

  it('keeps an isolation level it is asked for, with the tenant still set', async () => {
    const db = getDb();
    const row = await withTransactionPrelude(sql`select set_config('role', ${APP_ROLE}, true), set_config('aether.tenant_id', ${'tnt_a'}, true)`.compile(db.kysely), () =>
      db.kysely.transaction().setIsolationLevel('serializable').execute(async (tx) =>
        (await sql<{ role: string; tenant: string; isolation: string }>`select current_user as role, current_setting('aether.tenant_id', true) as tenant, current_setting('transaction_isolation') as isolation`.execute(tx)).rows[0]));
    expect(row).toEqual({ role: APP_ROLE, tenant: 'tnt_a', isolation: 'serializable' });
  });

  it('reports a failing prelude and leaves the connection usable for the next transaction', async () => {
    const db = getDb();
    const failed = withTransactionPrelude(sql`select 1 / 0`.compile(db.kysely), () => db.kysely.transaction().execute(async (tx) => sql`select 1`.execute(tx)));
    // Pipelined, the work's first statement is already on its way and reports the aborted transaction.
    await expect(failed).rejects.toThrow(engine === 'pglite' ? /division by zero/ : /division by zero|current transaction is aborted/);
    const row = await db.withTenant(tenantA, async (tx) => (await sql<{ tenant: string }>`select current_setting('aether.tenant_id', true) as tenant`.execute(tx)).rows[0]);
    expect(row).toEqual({ tenant: 'tnt_a' });
  });

  // PGlite has one connection: a transaction inside another's work would wait for it forever.
  it.skipIf(engine === 'pglite')('runs a system transaction opened inside a tenant transaction\'s work as the owner, unscoped', async () => {
    const db = getDb();
    const inner = await db.withTenant(tenantA, async (tx) => {
      const system = await db.withSystem(async (systemTx) => (await sql<{ role: string; tenant: string | null }>`select current_user as role, nullif(current_setting('aether.tenant_id', true), '') as tenant`.execute(systemTx)).rows[0]);
      const tenant = (await sql<{ role: string }>`select current_user as role`.execute(tx)).rows[0];
      return { system, tenant };
    });
    expect(inner.tenant?.role).toBe(APP_ROLE);
    expect(inner.system?.role).not.toBe(APP_ROLE);
    expect(inner.system?.tenant).toBeNull();
  });

  it('shows a query that forgets its tenant filter only its own tenant\'s rows', async () => {
    const db = getDb();
    await db.withTenant(tenantA, (tx) => tx.$extendTables<NotesTables>().insertInto('notes').values({ tenant_id: tenantA, body: 'a1' }).execute());
    await db.withTenant(tenantB, (tx) => tx.$extendTables<NotesTables>().insertInto('notes').values({ tenant_id: tenantB, body: 'b1' }).execute());
    // Deliberately no `where tenant_id = …`: row-level security is the second wall.
    const seenByA = await db.withTenant(tenantA, (tx) => tx.$extendTables<NotesTables>().selectFrom('notes').select('body').execute());
    const seenByB = await db.withTenant(tenantB, (tx) => tx.$extendTables<NotesTables>().selectFrom('notes').select('body').execute());
    expect(seenByA.map((row) => row.body)).toEqual(['a1']);
    expect(seenByB.map((row) => row.body)).toEqual(['b1']);
  });

  it('refuses to write a row into another tenant, and keeps nothing of the transaction', async () => {
    const db = getDb();
    const attempt = db.withTenant(tenantA, async (tx) => {
      await tx.$extendTables<NotesTables>().insertInto('notes').values({ tenant_id: tenantA, body: 'kept?' }).execute();
      await tx.$extendTables<NotesTables>().insertInto('notes').values({ tenant_id: tenantB, body: 'smuggled' }).execute();
    });
    await expect(attempt).rejects.toThrow(/row-level security/);
    const all = await db.withSystem((tx) => tx.$extendTables<NotesTables>().selectFrom('notes').select('body').execute());
    expect(all.map((row) => row.body)).not.toContain('kept?');
    expect(all.map((row) => row.body)).not.toContain('smuggled');
  });

  describe('writeInOneRoundTrip', () => {
    const insertNote = (db: ReturnType<typeof getDb>, tenant: string, body: string) =>
      db.kysely.$extendTables<NotesTables>().insertInto('notes').values({ tenant_id: tenant, body }).returning('body').compile();
    const bodies = async (db: ReturnType<typeof getDb>) =>
      (await db.withSystem((tx) => tx.$extendTables<NotesTables>().selectFrom('notes').select('body').orderBy('id').execute())).map((row) => row.body);
    beforeEach(async () => {
      await getDb().withSystem((tx) => tx.$extendTables<NotesTables>().deleteFrom('notes').execute());
    });

    it('commits every statement in one tenant transaction, as the RLS-bound role, and returns their results in order', async () => {
      const db = getDb();
      const results = await db.writeInOneRoundTrip(tenantA, [
        insertNote(db, tenantA, 'first'),
        sql<{ role: string; tenant: string }>`select current_user as role, current_setting('aether.tenant_id', true) as tenant`.compile(db.kysely),
        insertNote(db, tenantA, 'second'),
      ]);
      expect(results.map((result) => result.rows[0])).toEqual([{ body: 'first' }, { role: APP_ROLE, tenant: 'tnt_a' }, { body: 'second' }]);
      expect(await bodies(db)).toEqual(['first', 'second']);
    });

    it('keeps nothing when a precondition refuses itself, reports it as an expectation failure, and leaves the connection usable', async () => {
      const db = getDb();
      const refused = db.writeInOneRoundTrip(tenantA, [
        insertNote(db, tenantA, 'not kept'),
        sql`select aether_expect(false, 'the head moved')`.compile(db.kysely),
        insertNote(db, tenantA, 'never run'),
      ]);
      const error = await refused.then(() => undefined, (caught: unknown) => caught);
      expect(isExpectationFailure(error)).toBe(true);
      expect((error as Error).message).toBe('the head moved');
      expect(await bodies(db)).toEqual([]);
      await db.writeInOneRoundTrip(tenantA, [sql`select aether_expect(true, 'holds')`.compile(db.kysely), insertNote(db, tenantA, 'after')]);
      expect(await bodies(db)).toEqual(['after']);
    });

    it('refuses a row for another tenant under row-level security, and keeps nothing of the write', async () => {
      const db = getDb();
      const attempt = db.writeInOneRoundTrip(tenantA, [insertNote(db, tenantA, 'kept?'), insertNote(db, tenantB, 'smuggled')]);
      await expect(attempt).rejects.toThrow(/row-level security/);
      expect(await bodies(db)).toEqual([]);
      expect(isExpectationFailure(await attempt.catch((caught: unknown) => caught))).toBe(false);
    });
  });

  it('finds no tenant table without row-level security', async () => {
    expect(await findTenantTablesWithoutRls(getDb())).toEqual([]);
  });

  it('reports a tenant table that lacks row-level security', async () => {
    const db = getDb();
    await sql.raw('create table leaky (tenant_id text not null)').execute(db.kysely);
    expect(await findTenantTablesWithoutRls(db)).toEqual(['leaky']);
    await sql.raw('drop table leaky').execute(db.kysely);
  });

  it('applies each migration once, however often it runs', async () => {
    const result = await migrate(getDb(), [notes]);
    expect(result.applied).toEqual([]);
  });

  it('refuses to run when an applied migration was changed', async () => {
    await expect(migrate(getDb(), [{ ...notes, up: `${notes.up}\n-- edited` }])).rejects.toBeInstanceOf(MigrationChecksumError);
  });

  it('rolls a failing migration back whole and names it', async () => {
    const broken: Migration = { module: 'broken', version: 1, name: 'half', up: 'create table half_done (id int); select * from no_such_table;' };
    await expect(migrate(getDb(), [broken])).rejects.toBeInstanceOf(MigrationFailedError);
    const exists = await sql<{ name: string | null }>`select to_regclass('half_done')::text as name`.execute(getDb().kysely);
    expect(exists.rows[0]?.name).toBeNull();
  });

  it(`keeps int8 as numbers and numeric as exact strings on ${engine}`, async () => {
    const result = await sql<{ big: number; money: string }>`select 9007199254740991::int8 as big, 0.1::numeric(20,10) as money`.execute(getDb().kysely);
    expect(result.rows[0]).toEqual({ big: 9007199254740991, money: '0.1000000000' });
  });
});

describe('lockDataDir', () => {
  it('refuses a second holder while the first is alive, and frees on release', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aether-lock-'));
    try {
      const release = await lockDataDir(dir);
      // The lock names this process; a different live pid holding it must be refused.
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(dir, 'aether.lock'), String(process.ppid));
      await expect(lockDataDir(dir)).rejects.toBeInstanceOf(ConflictError);
      await release();
      const again = await lockDataDir(dir);
      await again();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
