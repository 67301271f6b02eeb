/**
 * @module kernel/model-router
 * The provider port (spec §23), the model catalog, and the router (spec §19) that picks a model by
 * complexity, budget and latency, retries, falls back, breaks circuits and caches, and ledgers
 * every decision. Providers live in `runtime/providers`; `app/` plugs them in.
 */
export {
  collectStream,
  type ChatMessage,
  type ChatOptions,
  type ChatResponse,
  type ChatRole,
  type ModelProvider,
  type ProviderResolver,
  type StopReason,
  type StreamChunk,
  type ToolCall,
  type ToolDefinition,
  type Usage,
} from './provider-port.js';
export {
  ModelCallFailedError,
  ModelOverrideNotFoundError,
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderCircuitOpenError,
  ProviderError,
  ProviderPackageMissingError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  RoutingDeniedError,
  UnknownModelError,
} from './errors.js';
export {
  DEFAULT_MODEL_CATALOG,
  InMemoryTenantCatalogSource,
  MODEL_TIERS,
  ModelCatalog,
  costMicros,
  parseCatalogOverrides,
  type ModelCapabilities,
  type ModelEntry,
  type ModelOverride,
  type ModelPrices,
  type ModelTier,
  type TenantCatalogSource,
} from './catalog.js';
export { CircuitBreakers, DEFAULT_BREAKER_OPTIONS, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
export { COMPLEXITY_THRESHOLDS, estimateComplexity, type ComplexityEstimate, type ComplexityLevel } from './complexity.js';
export { ModelRouter, type ModelCallResult, type ModelRequest, type ModelRouterDeps, type RoutedModel, type RoutingDecision } from './model-router.js';
export { RedisResponseCache } from './redis-response-cache.js';
export { ResponseCache, responseCacheKey, type CachedResponse, type ResponseCacheStore } from './response-cache.js';
export { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy, type Sleeper } from './retry-policy.js';
export { noSuccessRates, type CallScope, type RouterBudget, type SuccessRateSource } from './router-ports.js';
export { applyRoutingTable, TIGHT_BUDGET_UTILISATION, type Delivery, type Latency, type TableDecision } from './routing-table.js';
export { modelRouterMigrations } from './migrations.js';
export { modelRouterRoutes, type ModelRouterRoutesDeps } from './routes.js';
export { TenantCatalogStore } from './tenant-catalog-store.js';
