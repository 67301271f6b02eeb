import { InMemoryVmStore } from './vm-store.js';
import { describeVmStoreContract } from './vm-store.contract.js';

describeVmStoreContract('InMemoryVmStore', () => new InMemoryVmStore());
