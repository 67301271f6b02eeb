/**
 * @module shared/http
 * How a module declares its HTTP routes (contract + access + handler) without depending on
 * the transport. `api/` mounts these definitions on Fastify.
 */
export {
  defineHandler,
  requireTenant,
  type RouteAccess,
  type RouteDefinition,
  type RouteRequest,
  type RouteResult,
} from './route-definition.js';
