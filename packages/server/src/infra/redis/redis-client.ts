import { Redis } from 'ioredis';

import { ServiceUnavailableError } from '../../shared/errors/index.js';

export type RedisClient = Redis;

/**
 * Connects to Redis and checks it answers. Commands fail fast (no offline queue) while the
 * connection is down, so a dead Redis surfaces as an error instead of a hung request.
 * @throws {ServiceUnavailableError} when Redis cannot be reached.
 */
export async function connectRedis(url: string, options: { keyPrefix?: string } = {}): Promise<RedisClient> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
  });
  // Errors are reported through the commands that fail; without a listener they would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new ServiceUnavailableError(`cannot reach Redis at ${url}: ${String(error)}`, { cause: error });
  }
  return client;
}
