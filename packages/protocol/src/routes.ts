import { ledgerRoutes } from './ledger.js';
import { hypervisorRoutes } from './hypervisor.js';
import { modelsRoutes } from './models.js';
import { systemRoutes } from './system.js';
import { tenancyRoutes } from './tenancy.js';

/**
 * Every route of the public API, by operation name. Each area adds its map here; the server
 * refuses to start if a contract here has no handler, and the client gets one method per entry.
 */
export const apiRoutes = {
  ...systemRoutes,
  ...tenancyRoutes,
  ...ledgerRoutes,
  ...hypervisorRoutes,
  ...modelsRoutes,
} as const;

export type ApiRoutes = typeof apiRoutes;
export type ApiRouteName = keyof ApiRoutes;
