import { createHash } from 'node:crypto';

import { sql } from 'kysely';

import { AppError } from '../../shared/errors/index.js';
import { APP_ROLE, TENANT_SETTING, type Database } from './database.js';

/** One forward-only schema change owned by a module. `up` is plain SQL, applied in one transaction. */
export interface Migration {
  readonly module: string;
  readonly version: number;
  readonly name: string;
  readonly up: string;
}

export interface MigrationResult {
  readonly applied: readonly { module: string; version: number; name: string }[];
}

/** An already-applied migration whose SQL has since changed: the schema no longer matches the code. */
export class MigrationChecksumError extends AppError {
  readonly code = 'MIGRATION_CHECKSUM_MISMATCH';
  readonly kind = 'internal';
}

/** A migration that failed to apply; nothing of it was kept. */
export class MigrationFailedError extends AppError {
  readonly code = 'MIGRATION_FAILED';
  readonly kind = 'internal';
}

// Serializes migrations across processes that share one PostgreSQL.
const MIGRATION_LOCK_KEY = 74_657_801;

/** SQL that puts a tenant table behind row-level security keyed on its `tenant_id` column. */
export function tenantRlsSql(table: string): string {
  const setting = `current_setting('${TENANT_SETTING}', true)`;
  return `alter table ${table} enable row level security;
create policy ${table}_tenant_isolation on ${table}
  using (tenant_id = ${setting}) with check (tenant_id = ${setting});`;
}

function checksum(migration: Migration): string {
  return createHash('sha256').update(migration.up).digest('hex');
}

function sortMigrations(migrations: readonly Migration[]): Migration[] {
  const moduleOrder = new Map<string, number>();
  for (const migration of migrations) {
    if (!moduleOrder.has(migration.module)) moduleOrder.set(migration.module, moduleOrder.size);
  }
  const seen = new Set<string>();
  for (const migration of migrations) {
    const key = `${migration.module}:${String(migration.version)}`;
    if (seen.has(key)) throw new TypeError(`duplicate migration ${key}`);
    seen.add(key);
  }
  return [...migrations].sort(
    (a, b) => (moduleOrder.get(a.module) ?? 0) - (moduleOrder.get(b.module) ?? 0) || a.version - b.version,
  );
}

async function bootstrap(db: Database): Promise<void> {
  // Creating a role races between processes; a duplicate is fine, so it is caught inside the block.
  await sql
    .raw(
      `do $$ begin
         if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
           create role ${APP_ROLE} nologin nobypassrls;
         end if;
       exception when duplicate_object or unique_violation then null;
       end $$;`,
    )
    .execute(db.kysely);
  await db.withSystem(async (tx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
    await sql`create table if not exists aether_migrations (
        module text not null,
        version integer not null,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now(),
        primary key (module, version))`.execute(tx);
  });
}

/**
 * Applies every migration not yet applied, in module order then version order, each in its own
 * transaction under an advisory lock, then grants the application role access to the schema.
 * @throws {MigrationChecksumError} when an applied migration's SQL has changed.
 * @throws {MigrationFailedError} when a migration's SQL fails; that migration is rolled back.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<MigrationResult> {
  await bootstrap(db);
  const applied: { module: string; version: number; name: string }[] = [];
  for (const migration of sortMigrations(migrations)) {
    const wasApplied = await db.withSystem(async (tx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
      const existing = await sql<{ checksum: string }>`select checksum from aether_migrations
          where module = ${migration.module} and version = ${migration.version}`.execute(tx);
      const row = existing.rows[0];
      if (row) {
        if (row.checksum !== checksum(migration)) {
          throw new MigrationChecksumError(
            `migration ${migration.module}#${String(migration.version)} (${migration.name}) was changed after it was applied`,
            { details: { module: migration.module, version: migration.version } },
          );
        }
        return false;
      }
      try {
        await sql.raw(migration.up).execute(tx);
      } catch (error) {
        throw new MigrationFailedError(
          `migration ${migration.module}#${String(migration.version)} (${migration.name}) failed: ${String(error)}`,
          { cause: error, details: { module: migration.module, version: migration.version } },
        );
      }
      await sql`insert into aether_migrations (module, version, name, checksum)
          values (${migration.module}, ${migration.version}, ${migration.name}, ${checksum(migration)})`.execute(tx);
      return true;
    });
    if (wasApplied) applied.push({ module: migration.module, version: migration.version, name: migration.name });
  }
  await grantAppRole(db);
  return { applied };
}

async function grantAppRole(db: Database): Promise<void> {
  const schema = db.schema;
  await db.withSystem(async (tx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
    await sql
      .raw(
        `grant usage on schema ${schema} to ${APP_ROLE};
         grant select, insert, update, delete on all tables in schema ${schema} to ${APP_ROLE};
         grant usage, select on all sequences in schema ${schema} to ${APP_ROLE};
         revoke all on aether_migrations from ${APP_ROLE};`,
      )
      .execute(tx);
  });
}

/** Tables that have a `tenant_id` column but no row-level security; should always be empty. */
export async function findTenantTablesWithoutRls(db: Database): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
      select c.relname as table_name
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
      where n.nspname = ${db.schema} and c.relkind = 'r'
        and (not c.relrowsecurity or not exists (select 1 from pg_policy p where p.polrelid = c.oid))
      order by 1`.execute(db.kysely);
  return result.rows.map((row) => row.table_name);
}
