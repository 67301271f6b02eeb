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
