import { describeBudgetStoreContract } from './budget-store.contract.js';
import { InMemoryBudgetStore } from './in-memory-budget-store.js';

describeBudgetStoreContract('InMemoryBudgetStore', () => new InMemoryBudgetStore());
