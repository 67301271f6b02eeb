import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import type { Quotas, Tenant } from '@aether/protocol';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';

import { createApiServer, createHttpMetrics, InMemoryRateLimiter, nameRoutes, RedisRateLimiter, type RateLimiter } from '../api/index.js';
import type { AuditSink } from '../infra/audit/index.js';
import { migrate, openDatabase, type Database, type Migration } from '../infra/database/index.js';
import { readMasterKeyFile } from '../infra/keys/index.js';
import { createPinoLogger } from '../infra/logger/index.js';
import { connectNats, EventStream, pingNats, type NatsConnection } from '../infra/nats/index.js';
import { connectRedis, type RedisClient } from '../infra/redis/index.js';
import {
  ApiKeyService,
  Authenticator,
  authMigrations,
  authRoutes,
  OperatorKeyService,
  TokenService,
  type TenantStatus,
  type UserDirectory,
} from '../kernel/auth/index.js';
import { LedgerCheckpointer, ledgerMigrations, ledgerRoutes, LedgerService } from '../kernel/ledger/index.js';
import { createHypervisor, hypervisorMigrations, hypervisorRoutes, type Hypervisor } from '../hypervisor/index.js';
import { enforceQuota, SecretService, tenancyMigrations, tenancyRoutes, TenantService, UserService } from '../kernel/tenancy/index.js';
import { BudgetService, budgetMigrations, budgetRoutes, LoggingBudgetEvents, PgBudgetStore, StaleReservationReaper, StreamBudgetEvents, type TaskCanceller } from '../kernel/budget/index.js';
import {
  CircuitBreakers,
  ModelCatalog,
  ModelRouter,
  modelRouterMigrations,
  modelRouterRoutes,
  parseCatalogOverrides,
  RedisResponseCache,
  ResponseCache,
  TenantCatalogStore,
} from '../kernel/model-router/index.js';
import { ProviderRegistry } from '../runtime/providers/index.js';
import { isPromise, thenMaybe, type MaybePromise } from '../shared/async/index.js';
import { asTenantId, type TenantId } from '../shared/context/index.js';
import { deriveKey } from '../shared/crypto/index.js';
import { TtlCache } from '../shared/cache/index.js';
import { ValidationError } from '../shared/errors/index.js';
import { UlidIdGenerator, type IdGenerator } from '../shared/ids/index.js';
import type { RouteDefinition } from '../shared/http/index.js';
import { SystemClock, type Clock, type Logger } from '../shared/ports/index.js';
import type { Config } from './config.js';
import { systemRoutes } from './system-routes.js';
import { VERSION } from './version.js';

// The dashboard built in this checkout (packages/dashboard/dist), from src/app or dist/app alike.
const BUNDLED_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist', import.meta.url));

/** Every module's migrations, in dependency order. */
export const ALL_MIGRATIONS: readonly Migration[] = [...tenancyMigrations, ...authMigrations, ...hypervisorMigrations, ...budgetMigrations, ...modelRouterMigrations, ...ledgerMigrations];

export interface AppOverrides {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
  /** An already open database (tests share one); the app then does not close it. */
  readonly db?: Database;
  /** Cancels tasks when a budget runs out; the orchestrator's, once it exists. */
  readonly taskCanceller?: TaskCanceller;
}

/** The running platform: its services, for the CLI and tests, and its HTTP server. */
export interface App {
  readonly config: Config;
  readonly db: Database;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly server: FastifyInstance;
  readonly tenants: TenantService;
  readonly users: UserService;
  readonly secrets: SecretService;
  readonly apiKeys: ApiKeyService;
  readonly operatorKeys: OperatorKeyService;
  readonly tokens: TokenService;
  readonly audit: AuditSink;
  readonly ledger: LedgerService;
  readonly hypervisor: Hypervisor;
  readonly budget: BudgetService;
  readonly catalog: ModelCatalog;
  readonly modelRouter: ModelRouter;
  readonly providers: ProviderRegistry;
  /** Every mounted API route with its operation name and access rule. */
  readonly routes: readonly { name: string; definition: RouteDefinition }[];
  /** Listens on the configured host and port (0 picks a free port); returns the base URL. */
  listen(): Promise<string>;
  /** Stops accepting requests, drains them, then closes every resource in reverse order. */
  close(): Promise<void>;
}

function defaultQuotas(config: Config): Quotas {
  return {
    requests_per_minute: config.rateLimit.defaultRequestsPerMinute,
    max_users: 100,
    max_api_keys: 100,
    max_secrets: 200,
    max_vms: 10,
    max_vcpus: 16,
    max_memory_mb: 32_768,
    max_concurrent_tasks: 50,
  };
}

async function resolveMasterKey(config: Config): Promise<Buffer> {
  const key = config.security.masterKey ?? (await readMasterKeyFile(config.security.masterKeyFile));
  if (!key) {
    throw new ValidationError(
      `No master key: set AETHER_MASTER_KEY or run "aether init" to create ${config.security.masterKeyFile}`,
      { file: config.security.masterKeyFile },
    );
  }
  return key;
}

/** Builds the whole object graph by hand, top down: the only place adapters are constructed. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const clock = overrides.clock ?? new SystemClock();
  const ids = overrides.ids ?? new UlidIdGenerator();
  const logger = overrides.logger ?? createPinoLogger({ level: config.logging.level });
  const masterKey = await resolveMasterKey(config);
  const startedAt = clock.now();
  const closers: (() => Promise<void>)[] = [];

  try {
    const db = overrides.db ?? (await openDatabase(config.database.engine === 'pglite'
      ? { engine: 'pglite', dataDir: config.database.dataDir }
      : { engine: 'postgres', url: config.database.url, schema: config.database.schema, poolSize: config.database.poolSize }));
    if (!overrides.db) {
      closers.push(() => db.close());
    }
    await migrate(db, ALL_MIGRATIONS);

    let redis: RedisClient | undefined;
    if (config.redis) {
      const connected = await connectRedis(config.redis.url, { keyPrefix: config.redis.keyPrefix });
      redis = connected;
      closers.push(async () => {
        await connected.quit().catch(() => { connected.disconnect(); });
      });
    }
    let nats: NatsConnection | undefined;
    let events: EventStream | undefined;
    if (config.nats) {
      const connected = await connectNats(config.nats.url);
      nats = connected;
      closers.push(() => connected.drain());
      events = await EventStream.open(connected);
    }

    // Every side effect of every module is recorded in the signed ledger.
    const ledger = new LedgerService({ db, masterKey, clock, logger, options: config.ledger });
    // The signing key must exist before any module records an effect inside its own transaction.
    await ledger.init();
    const audit: AuditSink = ledger;
    const checkpointer = new LedgerCheckpointer({ ledger, logger, intervalMs: config.ledger.checkpointIntervalMs });
    checkpointer.start();
    closers.push(() => checkpointer.close());
    const tenants = new TenantService({ db, clock, ids, audit, defaultQuotas: defaultQuotas(config) });
    const users = new UserService({ db, clock, ids, audit });
    const secrets = new SecretService({ db, clock, audit, encryptionKey: deriveKey(masterKey, 'tenant-secrets') });

    // Tenant status and quotas are read on every request, from TenantService's short-lived cache:
    // a cached tenant answers synchronously, with no closure made, so the guard need not wait (ADR 0006).
    function tenantRecord(tenantId: TenantId): MaybePromise<Tenant | undefined> {
      const found = tenants.find(tenantId);
      return isPromise(found) ? found.then((tenant) => (tenant?.id === tenantId ? tenant : undefined)) : found?.id === tenantId ? found : undefined;
    }
    const statusOf = (tenant: Tenant | undefined): TenantStatus | undefined => tenant?.status;
    const requestsPerMinuteOf = (tenant: Tenant | undefined): number => tenant?.quotas.requests_per_minute ?? config.rateLimit.defaultRequestsPerMinute;
    const tenantStatus = (tenantId: TenantId): MaybePromise<TenantStatus | undefined> => thenMaybe(tenantRecord(tenantId), statusOf);

    const userDirectory: UserDirectory = {
      async authenticate(tenantRef, email, password) {
        const tenant = await tenants.find(tenantRef);
        if (tenant?.status !== 'active') return undefined;
        const user = await users.authenticate(asTenantId(tenant.id), email, password);
        return user ? { id: user.id, role: user.role, tenantId: asTenantId(tenant.id) } : undefined;
      },
      status: (tenantId, userId) => users.status(tenantId, userId),
      tenantStatus,
    };
    const apiKeys = new ApiKeyService({
      db, clock, ids, audit, logger, tenantStatus,
      enforceKeyQuota: (tx, check) => enforceQuota(tx, { ...check, quota: 'max_api_keys' }),
    });
    const operatorKeys = new OperatorKeyService({ db, clock, ids });
    const tokens = new TokenService({
      db,
      clock,
      ids,
      signingKey: deriveKey(masterKey, 'jwt-hs256'),
      accessTtlSeconds: config.security.accessTokenTtlSeconds,
      refreshTtlSeconds: config.security.refreshTokenTtlSeconds,
    });
    const authenticator = new Authenticator({ apiKeys, operatorKeys, tokens, users: userDirectory });

    const hypervisor = await createHypervisor({
      db,
      audit,
      clock,
      ids,
      logger,
      // The tenancy module owns max_vms / max_vcpus / max_memory_mb.
      quotas: {
        async vmQuota(ctx) {
          const tenant = await tenants.get(ctx);
          return { maxVms: tenant.quotas.max_vms, maxVcpus: tenant.quotas.max_vcpus, maxMemoryMb: tenant.quotas.max_memory_mb };
        },
      },
      options: {
        stateDir: config.hypervisor.stateDir,
        policy: { driverByType: config.hypervisor.driverByType, allowNamespaceSecureVm: config.hypervisor.allowNamespaceSecureVm, allowUnisolated: config.hypervisor.allowUnisolated },
        poolSizes: config.hypervisor.poolSizes,
        image: config.hypervisor.image,
        reaperIntervalMs: config.hypervisor.reaperIntervalMs,
        egressAllowlist: config.hypervisor.egressAllowlist,
        egressPerTenantPerMinute: config.hypervisor.egressPerTenantPerMinute,
        egressPerVmPerMinute: config.hypervisor.egressPerVmPerMinute,
      },
    });
    closers.push(() => hypervisor.close());

    const budget = new BudgetService({
      store: new PgBudgetStore({ db }),
      audit,
      clock,
      ids,
      logger,
      // Scaled out, budget alerts are durable events on JetStream; embedded, the log carries them.
      events: events ? new StreamBudgetEvents({ stream: events, ids, clock }) : new LoggingBudgetEvents(logger),
      canceller: overrides.taskCanceller ?? noTasksYet(logger),
    });
    // A reservation outlives its call only if its process died; release it after every attempt
    // of the longest call could have run (3 attempts of the per-attempt timeout) plus a margin.
    const reaper = new StaleReservationReaper({ budget, logger, intervalMs: 60_000, maxAgeMs: 3 * config.models.timeoutMs + 60_000 });
    reaper.start();
    closers.push(() => reaper.close());
    // Hands this process's leased budget headroom back on shutdown rather than at the reaper.
    closers.push(() => budget.close());
    const tenantCatalog = new TenantCatalogStore({ db, audit, clock });
    const catalog = new ModelCatalog({
      deploymentOverrides: config.models.catalogFile
        ? parseCatalogOverrides(await readFile(config.models.catalogFile, 'utf8'), config.models.catalogFile)
        : [],
      tenants: tenantCatalog,
      onSkippedOverride: (tenantId, override, issue) => {
        logger.warn('models.tenant-override-skipped', { tenant_id: tenantId, model_id: override.id, issue });
      },
    });
    // A tenant's own provider key (secret `llm.<provider>.api_key`) wins over the deployment's.
    const keyCache = new TtlCache<string | null>({ clock, ttlMs: 30_000 });
    const providers = new ProviderRegistry({
      settings: { ...config.models, timeoutMs: config.models.timeoutMs },
      keys: {
        async apiKey(ctx, provider) {
          const cacheKey = `${ctx.tenantId}:${provider}`;
          const cached = keyCache.get(cacheKey);
          if (cached !== undefined) return cached ?? undefined;
          const key = await secrets.reveal(ctx, `llm.${provider}.api_key`);
          keyCache.set(cacheKey, key ?? null);
          return key;
        },
      },
    });
    const availableProviders = () => providers.names();
    const modelRouter = new ModelRouter({
      catalog,
      providers,
      availableProviders,
      budget,
      audit,
      clock,
      logger,
      breakers: new CircuitBreakers({ clock }),
      // Shared by every process when Redis is configured, else this process's own.
      cache: redis ? new RedisResponseCache({ redis, ttlMs: config.models.cacheTtlMs }) : new ResponseCache({ clock, ttlMs: config.models.cacheTtlMs }),
      timeoutMs: config.models.timeoutMs,
    });

    const rateLimiter: RateLimiter = redis ? new RedisRateLimiter({ redis, clock }) : new InMemoryRateLimiter(clock);
    const readiness: Record<string, () => Promise<void>> = { database: () => db.ping() };
    if (redis) {
      const client = redis;
      readiness['redis'] = async () => {
        await client.ping();
      };
    }
    if (nats) {
      const connection = nats;
      readiness['nats'] = () => pingNats(connection);
    }

    const tls = config.server.tls
      ? { cert: await readFile(config.server.tls.certFile), key: await readFile(config.server.tls.keyFile) }
      : undefined;
    const metrics = createHttpMetrics();
    const vmManager = hypervisor.vms;
    new Gauge({
      name: 'aether_hypervisor_vms',
      help: 'VM manager counters since start (created, destroyed, reaped, execs, exec_timeouts, exec_oom_kills, pool_hits, pool_misses) and VMs running now',
      labelNames: ['counter'] as const,
      registers: [metrics.registry],
      collect() {
        for (const [counter, value] of Object.entries(vmManager.metrics())) this.set({ counter: counter.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) }, value);
      },
    });
    const routes = nameRoutes([
      ...systemRoutes({ db, clock, startedAt, redis: redis !== undefined, nats: nats !== undefined, roles: config.server.roles }),
      ...authRoutes({ authenticator, tokens, apiKeys }),
      ...tenancyRoutes({ tenants, users, secrets }),
      ...ledgerRoutes({ ledger }),
      ...hypervisorRoutes({ vms: hypervisor.vms, exec: hypervisor.exec }),
      ...modelRouterRoutes({ catalog, overrides: tenantCatalog, router: modelRouter, availableProviders }),
      ...budgetRoutes({ budget }),
    ]);
    const server = await createApiServer({
      options: {
        version: VERSION,
        bodyLimitBytes: config.server.bodyLimitBytes,
        tls,
        publicUrl: config.server.publicUrl,
        dashboardDir: config.dashboardDir ?? BUNDLED_DASHBOARD_DIR,
      },
      logger,
      metrics,
      readiness,
      routes: routes.map((route) => route.definition),
      authenticate: (bearer) => authenticator.authenticateNow(bearer),
      rateLimiter,
      tenantRequestsPerMinute: (tenantId) => thenMaybe(tenantRecord(tenantId), requestsPerMinuteOf),
      anonymousRequestsPerMinute: config.rateLimit.defaultRequestsPerMinute,
      tenantExists: (tenantId) => thenMaybe(tenantRecord(tenantId), (tenant) => tenant !== undefined),
    });

    let closed = false;
    return {
      config, db, logger, clock, server, tenants, users, secrets, apiKeys, operatorKeys, tokens, audit, ledger, hypervisor, routes,
      budget, catalog, modelRouter, providers,
      async listen() {
        const address = await server.listen({ host: config.server.host, port: config.server.port });
        logger.info('server.listening', { address, database: db.engine, redis: redis !== undefined, nats: nats !== undefined });
        return address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
      },
      async close() {
        if (closed) return;
        closed = true;
        // In-flight requests get the grace period; connections still open after it are cut.
        const deadline = setTimeout(() => {
          logger.warn('server.connections_cut', { grace_ms: config.server.shutdownGraceMs });
          server.server.closeAllConnections();
        }, config.server.shutdownGraceMs);
        try {
          await server.close();
        } finally {
          clearTimeout(deadline);
        }
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/**
 * Until the orchestrator exists there are no running tasks to cancel; this says so in the log
 * each time a budget would cancel work, so the event is never silent.
 */
function noTasksYet(logger: Logger): TaskCanceller {
  const log = logger.child({ module: 'budget' });
  const note = (target: string, id: string, reason: string): Promise<void> => {
    log.warn('budget.cancel-requested', { target, id, reason, note: 'no task orchestrator is wired; nothing to cancel' });
    return Promise.resolve();
  };
  return {
    cancelTenantTasks: (ctx, reason) => note('tenant', ctx.tenantId, reason),
    cancelAgentTasks: (_ctx, agentId, reason) => note('agent', agentId, reason),
    cancelTask: (_ctx, taskId, reason) => note('task', taskId, reason),
  };
}
