import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createAetherClient, type AetherClient } from '@aether/protocol';

import { createApp, initializePlatform, loadConfig, type App } from '../../src/app/index.js';
import { openTestDatabase, type TestEngine } from '../../src/infra/database/testing/index.js';
import { ALL_MIGRATIONS } from '../../src/app/index.js';
import type { Logger } from '../../src/shared/ports/index.js';

export interface TestPlatform {
  readonly app: App;
  readonly url: string;
  readonly tenantId: string;
  readonly ownerKey: string;
  readonly operatorKey: string;
  /** A typed client with the given credential (the first tenant's Owner key by default). */
  client(apiKey?: string): AetherClient;
  close(): Promise<void>;
}

/** Boots the whole platform on port 0 over a throwaway database, initialised like `aether init`. */
export async function startTestPlatform(options: { engine?: TestEngine; env?: Record<string, string>; logger?: Logger } = {}): Promise<TestPlatform> {
  const home = await mkdtemp(join(tmpdir(), 'aether-test-'));
  // Sandboxes run as other uids, which must traverse to their workspaces below the home.
  await chmod(home, 0o711);
  const config = loadConfig({
    AETHER_HOME: home,
    AETHER_PORT: '0',
    AETHER_MASTER_KEY: randomBytes(32).toString('hex'),
    AETHER_LOG_LEVEL: 'silent',
    AETHER_HYPERVISOR_STATE_DIR: join(home, 'sandboxes'),
    // No warm pool: each test platform would otherwise start two gVisor sandboxes.
    AETHER_HYPERVISOR_POOL: '',
    ...options.env,
  });
  const db = await openTestDatabase(options.engine ?? 'pglite', ALL_MIGRATIONS);
  const app = await createApp(config, { db, ...(options.logger ? { logger: options.logger } : {}) });
  const init = await initializePlatform(app);
  const url = await app.listen();
  if (!init.api_key || !init.operator_key) throw new Error('init did not create keys');
  const ownerKey = init.api_key;
  return {
    app,
    url,
    tenantId: init.tenant_id,
    ownerKey,
    operatorKey: init.operator_key,
    client: (apiKey = ownerKey) => createAetherClient({ url, apiKey }),
    async close() {
      await app.close();
      await db.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
