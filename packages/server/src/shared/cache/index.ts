/**
 * @module shared/cache
 * A bounded TTL cache for hot, rarely changing reads (credentials, tenant records).
 */
export { TtlCache } from './ttl-cache.js';
