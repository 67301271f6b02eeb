/**
 * @aether/protocol: the wire contract of Aether's HTTP API (zod schemas and route contracts)
 * and the typed client that the CLI, the dashboard and users' programs call.
 */
export {
  buildPath,
  parameterText,
  defineRoute,
  type HttpMethod,
  type RouteContract,
  type RouteInput,
  type RouteOutput,
} from './contract.js';
export {
  emptyResponseSchema,
  errorEnvelopeSchema,
  isoTimestamp,
  pageOf,
  pageQuerySchema,
  roleSchema,
  type ErrorEnvelope,
  type Role,
} from './common.js';
export {
  apiKeySchema,
  createApiKeyRequestSchema,
  createTenantRequestSchema,
  createUserRequestSchema,
  createdApiKeySchema,
  principalSchema,
  putSecretRequestSchema,
  quotasSchema,
  secretSchema,
  tenancyRoutes,
  tenantSchema,
  tokenRequestSchema,
  tokenResponseSchema,
  updateTenantRequestSchema,
  updateUserRequestSchema,
  userSchema,
  type ApiKey,
  type Quotas,
  type Tenant,
  type User,
} from './tenancy.js';
export {
  appendLedgerEntryRequestSchema,
  debugRequestSchema,
  ledgerCheckpointSchema,
  ledgerEntrySchema,
  ledgerKeySchema,
  ledgerProofSchema,
  ledgerRoutes,
  replayRequestSchema,
  runDiffSchema,
  simulateRequestSchema,
  verifyLedgerResponseSchema,
  type LedgerCheckpoint,
  type LedgerEntry,
} from './ledger.js';
export { readinessSchema, statusSchema, systemRoutes } from './system.js';
export { apiRoutes, type ApiRouteName, type ApiRoutes } from './routes.js';
export { AetherApiError, createAetherClient, type AetherClient, type AetherClientOptions } from './client.js';
export {
  budgetNotificationSchema,
  budgetPeriodSchema,
  budgetSchema,
  budgetScopeSchema,
  costsQuerySchema,
  costsResponseSchema,
  modelInfoSchema,
  modelTierSchema,
  modelsRoutes,
  routerExplainRequestSchema,
  routingDecisionSchema,
  setBudgetRequestSchema,
  type Budget,
  type CostsResponse,
  type ModelInfo,
  type RoutingDecision,
} from './models.js';
