/**
 * @module infra/database
 * One database layer (Kysely) over embedded PGlite or PostgreSQL, per-module migrations, and
 * tenant-scoped transactions under PostgreSQL row-level security.
 */
export {
  APP_ROLE,
  Database,
  TENANT_SETTING,
  type DatabaseEngine,
  type Db,
  type DbExecutor,
  type DbTransaction,
  type NoTables,
  type TenantTransactionOptions,
} from './database.js';
export {
  MigrationChecksumError,
  MigrationFailedError,
  findTenantTablesWithoutRls,
  migrate,
  tenantRlsSql,
  type Migration,
  type MigrationResult,
} from './migrator.js';
export { openDatabase, redactUrl, type DatabaseOptions } from './open-database.js';
export { expectFunctionSql, isExpectationFailure, isRetryableConflict, isUniqueViolation, lostToConcurrentWrite } from './postgres-errors.js';
