import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createAetherClient } from '@aether/protocol';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';

import { ALL_MIGRATIONS, createApp, initializePlatform, loadConfig } from '../../src/app/index.js';
import { describeWithService, openTestDatabase, testServices } from '../../src/infra/database/testing/index.js';

/**
 * Two server processes' worth of the platform (two apps) on one PostgreSQL, one Redis and one
 * NATS: a key made through one works on the other, and the tenant's rate limit is shared.
 */
describeWithService('postgres', 'scaled out on PostgreSQL, Redis and NATS', () => {
  it('shares credentials and rate limits across instances, and checks every backend for readiness', async () => {
    if (!testServices.redisUrl || !testServices.natsUrl) {
      if (testServices.isCi) throw new Error('CI=true needs AETHER_TEST_REDIS_URL and AETHER_TEST_NATS_URL');
      return;
    }
    const home = await mkdtemp(join(tmpdir(), 'aether-scale-'));
    const prefix = `aether-test-${randomBytes(4).toString('hex')}:`;
    const env = {
      AETHER_HOME: home,
      AETHER_PORT: '0',
      AETHER_MASTER_KEY: randomBytes(32).toString('hex'),
      AETHER_LOG_LEVEL: 'silent',
      AETHER_REDIS_URL: testServices.redisUrl,
      AETHER_REDIS_PREFIX: prefix,
      AETHER_NATS_URL: testServices.natsUrl,
      AETHER_RATE_LIMIT_PER_MINUTE: '6',
    };
    const db = await openTestDatabase('postgres', ALL_MIGRATIONS);
    const first = await createApp(loadConfig(env), { db });
    const second = await createApp(loadConfig(env), { db });
    try {
      const init = await initializePlatform(first);
      const urls = [await first.listen(), await second.listen()];
      const clients = urls.map((url) => createAetherClient({ url, apiKey: init.api_key }));
      const [one, two] = clients as [ReturnType<typeof createAetherClient>, ReturnType<typeof createAetherClient>];
      expect(await two.getStatus({})).toMatchObject({ database: 'postgres', redis: true, nats: true });
      const ready = (await (await fetch(`${urls[0] ?? ''}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
      expect(Object.keys(ready.checks).sort()).toEqual(['database', 'nats', 'redis']);
      // 6 per minute for the tenant, counted in Redis whichever instance answers (getStatus above was one).
      const outcomes: (number | string)[] = [];
      for (let index = 0; index < 6; index += 1) {
        const client = index % 2 === 0 ? one : two;
        outcomes.push(await client.getMe({}).then(() => 200, (error: unknown) => (error as { code: string }).code));
      }
      expect(outcomes).toEqual([200, 200, 200, 200, 200, 'RATE_LIMITED']);
      const redis = new Redis(testServices.redisUrl);
      const keys = await redis.keys(`${prefix}ratelimit:*`);
      redis.disconnect();
      expect(keys.length).toBe(1);
    } finally {
      await first.close();
      await second.close();
      await db.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
