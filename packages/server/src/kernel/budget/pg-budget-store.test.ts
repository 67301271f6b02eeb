import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { describeBudgetStoreContract } from './budget-store.contract.js';
import { budgetMigrations } from './migrations.js';
import { PgBudgetStore } from './pg-budget-store.js';

describeEachDatabase('PgBudgetStore', budgetMigrations, (getDb) => {
  describeBudgetStoreContract('PgBudgetStore', () => new PgBudgetStore({ db: getDb() }));
});
