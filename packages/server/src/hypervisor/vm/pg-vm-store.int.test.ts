import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';

import { findTenantTablesWithoutRls } from '../../infra/database/index.js';
import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { hypervisorMigrations } from './migrations.js';
import { PgVmStore } from './pg-vm-store.js';
import { describeVmStoreContract } from './vm-store.contract.js';

describeEachDatabase('PgVmStore', hypervisorMigrations, (getDb) => {
  beforeEach(async () => {
    await sql`delete from hypervisor_vms`.execute(getDb().kysely);
  });
  describeVmStoreContract('PgVmStore', () => new PgVmStore({ db: getDb() }));
  it('puts hypervisor_vms behind row-level security', async () => {
    expect(await findTenantTablesWithoutRls(getDb())).toEqual([]);
  });
});
