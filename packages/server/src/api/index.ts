/**
 * @module api
 * The HTTP transport: mounts every module's route definitions under /v1 with authentication,
 * tenant scoping, permissions, rate limits and the error envelope; serves health, metrics,
 * OpenAPI, /docs and the dashboard.
 */
export { createApiServer, type ApiServerDeps, type ApiServerOptions } from './create-server.js';
export { STATUS_BY_KIND, toErrorResponse } from './error-response.js';
export { createHttpMetrics, type HttpMetrics } from './metrics.js';
export { buildOpenApiDocument } from './openapi.js';
export { InMemoryRateLimiter, RedisRateLimiter, type RateDecision, type RateLimiter } from './rate-limiter.js';
export { nameRoutes } from './route-mounting.js';
