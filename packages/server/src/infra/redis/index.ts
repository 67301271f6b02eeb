/**
 * @module infra/redis
 * The Redis client (ioredis) used for rate limits, caches and real-time pub/sub when configured.
 */
export { connectRedis, type RedisClient } from './redis-client.js';
