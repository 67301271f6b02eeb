import type { DoctorCheck } from '../cli/index.js';
import { openDatabase, redactUrl } from '../infra/database/index.js';
import { readMasterKeyFile } from '../infra/keys/index.js';
import { connectNats } from '../infra/nats/index.js';
import { connectRedis } from '../infra/redis/index.js';
import { createSandboxDrivers, probeSandboxes } from '../hypervisor/index.js';
import { ConflictError, errorMessage } from '../shared/errors/index.js';
import { silentLogger } from '../shared/ports/index.js';
import type { Config } from './config.js';

async function check(name: string, required: boolean, probe: () => Promise<string>): Promise<DoctorCheck> {
  try {
    return { name, ok: true, required, detail: await probe() };
  } catch (error) {
    return { name, ok: false, required, detail: errorMessage(error) };
  }
}

/** What `aether doctor` reports: each dependency of this machine's configuration, probed for real. */
export async function runDoctor(config: Config): Promise<DoctorCheck[]> {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const checks: DoctorCheck[] = [
    {
      name: 'node',
      required: true,
      ok: major > 22 || (major === 22 && minor >= 12),
      detail: `Node ${process.versions.node} (needs >= 22.12; npm scripts use the node@24 devDependency)`,
    },
  ];
  checks.push(await check('master key', true, async () => {
    if (config.security.masterKey) return 'from AETHER_MASTER_KEY';
    if (await readMasterKeyFile(config.security.masterKeyFile)) return `${config.security.masterKeyFile} (0600)`;
    throw new Error(`missing: run "aether init" or set AETHER_MASTER_KEY`);
  }));
  checks.push(await check('database', true, async () => {
    const options = config.database.engine === 'pglite'
      ? { engine: 'pglite' as const, dataDir: config.database.dataDir }
      : { engine: 'postgres' as const, url: config.database.url, schema: config.database.schema, poolSize: 1 };
    try {
      const db = await openDatabase(options);
      await db.close();
    } catch (error) {
      // A running server holds the embedded database; that is a healthy state.
      if (error instanceof ConflictError) return `embedded PGlite at ${config.database.engine === 'pglite' ? config.database.dataDir : ''} (open in a running server)`;
      throw error;
    }
    return config.database.engine === 'pglite' ? `embedded PGlite at ${config.database.dataDir}` : `PostgreSQL at ${redactUrl(config.database.url)}`;
  }));
  const redisConfig = config.redis;
  checks.push(await check('redis', redisConfig !== undefined, async () => {
    if (!redisConfig) return 'not configured (rate limits and caches stay in-process; set AETHER_REDIS_URL to scale out)';
    const redis = await connectRedis(redisConfig.url);
    const info = await redis.info('server');
    redis.disconnect();
    return `${redisConfig.url} (redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'})`;
  }));
  const natsConfig = config.nats;
  checks.push(await check('nats', natsConfig !== undefined, async () => {
    if (!natsConfig) return 'not configured (events stay in-process; set AETHER_NATS_URL to scale out)';
    const connection = await connectNats(natsConfig.url);
    const server = connection.info?.version ?? '?';
    await connection.close();
    return `${natsConfig.url} (nats-server ${server}, JetStream on)`;
  }));
  // The hypervisor's own probes: the same checks its driver selection uses.
  const drivers = createSandboxDrivers({ stateDir: config.hypervisor.stateDir, logger: silentLogger });
  for (const probe of await probeSandboxes(drivers, { deep: true })) {
    checks.push({
      name: `sandbox ${probe.driver}`,
      required: false,
      ok: probe.available,
      detail: `${probe.version ? `${probe.version}: ` : ''}${probe.detail} (isolation: ${probe.isolation})`,
    });
  }
  return checks;
}
