import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../../infra/database/testing/index.js';
import { connectRedis, type RedisClient } from '../../infra/redis/index.js';
import { RedisResponseCache } from './redis-response-cache.js';
import { responseCacheKey } from './response-cache.js';

const answer = { modelId: 'openai:gpt-5', response: { text: 'cached', thinking: '', toolCalls: [], usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0 }, stopReason: 'end' as const } };

describeWithService('redis', 'RedisResponseCache', (url) => {
  let redis: RedisClient;
  const prefix = `aether-test-${String(process.pid)}-${String(Date.now())}:`;
  beforeAll(async () => {
    redis = await connectRedis(url, { keyPrefix: prefix });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    // The client adds its prefix to each key it is given, so strip it from what KEYS returns.
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
  });

  it("shares an answer between two caches (two processes) under the tenant's key, with the TTL set", async () => {
    const writer = new RedisResponseCache({ redis, ttlMs: 200 });
    const reader = new RedisResponseCache({ redis, ttlMs: 200 });
    const key = responseCacheKey('tnt_cache_a', { m: 'hi' });
    expect(key.startsWith('tnt_cache_a:')).toBe(true);
    expect(await reader.get(key)).toBeUndefined();
    await writer.set(key, answer);
    expect(await reader.get(key)).toEqual(answer);
    expect(await reader.get(responseCacheKey('tnt_cache_b', { m: 'hi' }))).toBeUndefined();
    const ttl = await redis.pttl(`llm-cache:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
  });

  it('reads an entry that is not an answer as a miss', async () => {
    const cache = new RedisResponseCache({ redis, ttlMs: 60_000 });
    const key = responseCacheKey('tnt_cache_a', { m: 'corrupt' });
    await redis.set(`llm-cache:${key}`, '{"not":"an answer"}');
    expect(await cache.get(key)).toBeUndefined();
    await redis.set(`llm-cache:${key}`, 'not json');
    expect(await cache.get(key)).toBeUndefined();
  });
});
