/**
 * @module infra/database/testing
 * Test-only helpers: migrated throwaway databases on PGlite and PostgreSQL, and service gating.
 */
export { describeEachDatabase, openTestDatabase, type TestEngine } from './test-database.js';
export { describeWithService, testServices, type TestService } from './test-services.js';
