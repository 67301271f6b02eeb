import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { z } from 'zod';

import { ValidationError } from '../shared/errors/index.js';

/** Everything the platform reads from its environment, parsed once, frozen, and sliced per module. */
export interface Config {
  readonly home: string;
  readonly dataDir: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string | undefined;
    readonly bodyLimitBytes: number;
    readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
    readonly roles: readonly ServerRole[];
    readonly shutdownGraceMs: number;
  };
  readonly database:
    | { readonly engine: 'pglite'; readonly dataDir: string }
    | { readonly engine: 'postgres'; readonly url: string; readonly schema: string; readonly poolSize: number };
  readonly redis: { readonly url: string; readonly keyPrefix: string } | undefined;
  readonly nats: { readonly url: string } | undefined;
  readonly security: {
    /** 32-byte master key from AETHER_MASTER_KEY; when absent the key file is used. */
    readonly masterKey: Buffer | undefined;
    readonly masterKeyFile: string;
    readonly accessTokenTtlSeconds: number;
    readonly refreshTokenTtlSeconds: number;
  };
  readonly rateLimit: { readonly defaultRequestsPerMinute: number };
  readonly logging: { readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent'; readonly logModelData: boolean };
  readonly dashboardDir: string | undefined;
  readonly ledger: {
    /** Sign a checkpoint at least every this many entries of a tenant. */
    readonly checkpointEvery: number;
    /** ... and at least this often while entries arrive, and from a background loop when they stop. */
    readonly checkpointIntervalMs: number;
    /** Largest canonical payload of one ledger entry. */
    readonly maxPayloadBytes: number;
  };
  /** What the CLI talks to when no flag says otherwise. */
  readonly cli: { readonly url: string | undefined; readonly apiKey: string | undefined; readonly profile: string };
  readonly hypervisor: {
    /** Sandbox workspaces and runtime state; every parent directory must be o+x. */
    readonly stateDir: string;
    /** Operator-forced driver per VM type, e.g. AETHER_HYPERVISOR_DRIVERS=devvm=gvisor,microvm=bwrap. */
    readonly driverByType: Partial<Readonly<Record<'microvm' | 'devvm' | 'agentvm' | 'securevm', 'gvisor' | 'bwrap' | 'process'>>>;
    /** Let SecureVM run on bubblewrap when gVisor is missing (it otherwise fails closed). */
    readonly allowNamespaceSecureVm: boolean;
    /** Let the unisolated process driver run non-sensitive work (laptops without bwrap or runsc). */
    readonly allowUnisolated: boolean;
    /** Warm sandboxes kept per type, e.g. AETHER_HYPERVISOR_POOL=microvm=2. */
    readonly poolSizes: Partial<Readonly<Record<'microvm' | 'devvm' | 'agentvm' | 'securevm', number>>>;
    /** `host` (host /usr read-only) or the directory of an image built by `aether image build`. */
    readonly image: string;
    readonly reaperIntervalMs: number;
    /** Hosts MicroVMs and DevVMs may reach through the egress proxy; empty means no network. */
    readonly egressAllowlist: readonly string[];
    readonly egressPerTenantPerMinute: number;
    readonly egressPerVmPerMinute: number;
  };
  readonly models: ModelsConfig;
}

const VM_TYPE_NAMES = ['microvm', 'devvm', 'agentvm', 'securevm'] as const;
const DRIVER_NAMES = ['gvisor', 'bwrap', 'process'] as const;

/** Parses `type=value,type=value` lists of the hypervisor settings. */
function parseTypeMap<TValue>(text: string, parseValue: (value: string) => TValue): Partial<Record<(typeof VM_TYPE_NAMES)[number], TValue>> {
  const result: Partial<Record<(typeof VM_TYPE_NAMES)[number], TValue>> = {};
  for (const pair of text.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [type, value] = pair.split('=').map((part) => part.trim());
    if (!type || value === undefined || !(VM_TYPE_NAMES as readonly string[]).includes(type)) throw new TypeError(`"${pair}": expected <${VM_TYPE_NAMES.join('|')}>=<value>`);
    result[type as (typeof VM_TYPE_NAMES)[number]] = parseValue(value);
  }
  return result;
}

/** LLM providers, catalog and router settings. API keys here are the deployment's; tenants may add their own as secrets `llm.<provider>.api_key`. */
export interface ModelsConfig {
  readonly anthropic: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined } | undefined;
  readonly openai: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined } | undefined;
  readonly google: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined } | undefined;
  readonly ollama: { readonly host: string } | undefined;
  readonly openaiCompatible: Readonly<Record<string, { readonly baseUrl: string; readonly apiKey: string | undefined }>>;
  readonly enableLocal: boolean;
  readonly enableScripted: boolean;
  readonly catalogFile: string | undefined;
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
  /** A `chat` capped at this many output tokens or fewer asks OpenAI and compatible servers, Anthropic and Gemini for one whole response (Ollama always streams); 0 always streams. */
  readonly wholeResponseMaxTokens: number;
}

export type ServerRole = 'api' | 'worker' | 'scheduler';
export const SERVER_ROLES: readonly ServerRole[] = ['api', 'worker', 'scheduler'];

const booleanString = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const port = z.coerce.number().int().min(0).max(65_535);

const envSchema = z.object({
  AETHER_HOME: z.string().min(1).optional(),
  AETHER_HOST: z.string().min(1).default('127.0.0.1'),
  AETHER_PORT: port.default(7070),
  AETHER_PUBLIC_URL: z.url().optional(),
  AETHER_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(1024 * 1024),
  AETHER_TLS_CERT: z.string().min(1).optional(),
  AETHER_TLS_KEY: z.string().min(1).optional(),
  AETHER_ROLES: z.string().default('api,worker,scheduler'),
  AETHER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  AETHER_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  AETHER_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('public'),
  AETHER_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  AETHER_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  AETHER_REDIS_PREFIX: z.string().default('aether:'),
  AETHER_NATS_URL: z.string().regex(/^(nats|tls|wss?):\/\//, 'must be a nats:// URL').optional(),
  AETHER_MASTER_KEY: z.string().optional(),
  AETHER_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  AETHER_REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(90 * 86_400).default(7 * 86_400),
  AETHER_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(6000),
  AETHER_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  AETHER_LOG_MODEL_DATA: booleanString.default(false),
  AETHER_DASHBOARD_DIR: z.string().optional(),
  AETHER_LEDGER_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  AETHER_LEDGER_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  AETHER_LEDGER_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  AETHER_URL: z.url().optional(),
  AETHER_API_KEY: z.string().min(1).optional(),
  AETHER_PROFILE: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('default'),
  AETHER_HYPERVISOR_STATE_DIR: z.string().min(1).optional(),
  AETHER_HYPERVISOR_DRIVERS: z.string().default(''),
  AETHER_HYPERVISOR_ALLOW_NAMESPACE_SECUREVM: booleanString.default(false),
  AETHER_HYPERVISOR_ALLOW_UNISOLATED: booleanString.default(false),
  AETHER_HYPERVISOR_POOL: z.string().default('microvm=2'),
  AETHER_HYPERVISOR_IMAGE: z.string().min(1).default('host'),
  AETHER_HYPERVISOR_REAPER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  AETHER_HYPERVISOR_EGRESS_ALLOWLIST: z.string().default(''),
  AETHER_HYPERVISOR_EGRESS_PER_TENANT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  AETHER_HYPERVISOR_EGRESS_PER_VM_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  AETHER_ANTHROPIC_API_KEY: z.string().min(1).optional(),
  AETHER_ANTHROPIC_BASE_URL: z.url().optional(),
  AETHER_OPENAI_API_KEY: z.string().min(1).optional(),
  AETHER_OPENAI_BASE_URL: z.url().optional(),
  AETHER_GOOGLE_API_KEY: z.string().min(1).optional(),
  AETHER_GOOGLE_BASE_URL: z.url().optional(),
  AETHER_OLLAMA_HOST: z.url().optional(),
  /** `name=url[,name=url]` of OpenAI-compatible servers; their keys come from tenant secrets. */
  AETHER_OPENAI_COMPATIBLE: z.string().optional(),
  AETHER_MODELS_LOCAL: booleanString.default(false),
  AETHER_MODELS_SCRIPTED: booleanString.default(false),
  AETHER_MODELS_CATALOG_FILE: z.string().min(1).optional(),
  AETHER_MODELS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  AETHER_MODELS_CACHE_TTL_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  AETHER_MODELS_WHOLE_RESPONSE_MAX_TOKENS: z.coerce.number().int().min(0).max(1_000_000).default(1024),
});

function parseCompatible(text: string | undefined): Record<string, { baseUrl: string; apiKey: string | undefined }> {
  const out: Record<string, { baseUrl: string; apiKey: string | undefined }> = {};
  for (const pair of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, url] = pair.split(/=(.*)/s);
    if (!name || !url || !/^[a-z][a-z0-9-]*$/.test(name) || !/^https?:\/\//.test(url)) throw new TypeError(`expected name=http(s)://url, got "${pair}"`);
    out[name] = { baseUrl: url, apiKey: undefined };
  }
  return out;
}

/** Parses a 32-byte key given as 64 hex characters or base64. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) throw new TypeError('must be 32 bytes, as 64 hex characters or base64');
  return bytes;
}

function parseRoles(text: string): ServerRole[] {
  const roles = text.split(',').map((role) => role.trim()).filter(Boolean);
  const unknown = roles.filter((role) => !SERVER_ROLES.includes(role as ServerRole));
  if (unknown.length > 0) throw new TypeError(`unknown role(s) ${unknown.join(', ')}; expected ${SERVER_ROLES.join(', ')}`);
  if (roles.length === 0) throw new TypeError('at least one role is needed');
  return roles as ServerRole[];
}

/**
 * Reads the configuration from an environment (by default `process.env`, the only place in
 * the code base that reads it) and reports every problem at once.
 * @throws {ValidationError} naming each invalid variable.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    throw new ValidationError(`invalid configuration: ${problems.join('; ')}`, { problems: problems.join('; ') });
  }
  const e = parsed.data;
  let masterKey: Buffer | undefined;
  let roles: ServerRole[] = [];
  try {
    masterKey = e.AETHER_MASTER_KEY ? parseMasterKey(e.AETHER_MASTER_KEY) : undefined;
  } catch (error) {
    problems.push(`AETHER_MASTER_KEY: ${(error as Error).message}`);
  }
  let compatible: Record<string, { baseUrl: string; apiKey: string | undefined }> = {};
  try {
    compatible = parseCompatible(e.AETHER_OPENAI_COMPATIBLE);
  } catch (error) {
    problems.push(`AETHER_OPENAI_COMPATIBLE: ${(error as Error).message}`);
  }
  try {
    roles = parseRoles(e.AETHER_ROLES);
  } catch (error) {
    problems.push(`AETHER_ROLES: ${(error as Error).message}`);
  }
  let driverByType: Config['hypervisor']['driverByType'] = {};
  let poolSizes: Config['hypervisor']['poolSizes'] = {};
  try {
    driverByType = parseTypeMap(e.AETHER_HYPERVISOR_DRIVERS, (value) => {
      if (!(DRIVER_NAMES as readonly string[]).includes(value)) throw new TypeError(`unknown driver ${value}; expected ${DRIVER_NAMES.join(', ')}`);
      return value as (typeof DRIVER_NAMES)[number];
    });
  } catch (error) {
    problems.push(`AETHER_HYPERVISOR_DRIVERS: ${(error as Error).message}`);
  }
  try {
    poolSizes = parseTypeMap(e.AETHER_HYPERVISOR_POOL, (value) => {
      const size = Number(value);
      if (!Number.isInteger(size) || size < 0 || size > 64) throw new TypeError(`pool size ${value} must be an integer 0–64`);
      return size;
    });
  } catch (error) {
    problems.push(`AETHER_HYPERVISOR_POOL: ${(error as Error).message}`);
  }
  if ((e.AETHER_TLS_CERT === undefined) !== (e.AETHER_TLS_KEY === undefined)) {
    problems.push('AETHER_TLS_CERT and AETHER_TLS_KEY must be set together');
  }
  if (problems.length > 0) {
    throw new ValidationError(`invalid configuration: ${problems.join('; ')}`, { problems: problems.join('; ') });
  }
  const home = resolve(e.AETHER_HOME ?? join(homedir(), '.aether'));
  const dataDir = join(home, 'data');
  const config: Config = {
    home,
    dataDir,
    server: {
      host: e.AETHER_HOST,
      port: e.AETHER_PORT,
      publicUrl: e.AETHER_PUBLIC_URL,
      bodyLimitBytes: e.AETHER_BODY_LIMIT_BYTES,
      tls: e.AETHER_TLS_CERT && e.AETHER_TLS_KEY ? { certFile: e.AETHER_TLS_CERT, keyFile: e.AETHER_TLS_KEY } : undefined,
      roles,
      shutdownGraceMs: e.AETHER_SHUTDOWN_GRACE_MS,
    },
    database: e.AETHER_DATABASE_URL
      ? { engine: 'postgres', url: e.AETHER_DATABASE_URL, schema: e.AETHER_DATABASE_SCHEMA, poolSize: e.AETHER_DATABASE_POOL_SIZE }
      : { engine: 'pglite', dataDir: join(dataDir, 'pglite') },
    redis: e.AETHER_REDIS_URL ? { url: e.AETHER_REDIS_URL, keyPrefix: e.AETHER_REDIS_PREFIX } : undefined,
    nats: e.AETHER_NATS_URL ? { url: e.AETHER_NATS_URL } : undefined,
    security: {
      masterKey,
      masterKeyFile: join(home, 'master.key'),
      accessTokenTtlSeconds: e.AETHER_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.AETHER_REFRESH_TOKEN_TTL_SECONDS,
    },
    rateLimit: { defaultRequestsPerMinute: e.AETHER_RATE_LIMIT_PER_MINUTE },
    logging: { level: e.AETHER_LOG_LEVEL, logModelData: e.AETHER_LOG_MODEL_DATA },
    dashboardDir: e.AETHER_DASHBOARD_DIR,
    ledger: {
      checkpointEvery: e.AETHER_LEDGER_CHECKPOINT_EVERY,
      checkpointIntervalMs: e.AETHER_LEDGER_CHECKPOINT_INTERVAL_MS,
      maxPayloadBytes: e.AETHER_LEDGER_MAX_PAYLOAD_BYTES,
    },
    models: {
      anthropic: e.AETHER_ANTHROPIC_API_KEY || e.AETHER_ANTHROPIC_BASE_URL ? { apiKey: e.AETHER_ANTHROPIC_API_KEY, baseUrl: e.AETHER_ANTHROPIC_BASE_URL } : undefined,
      openai: e.AETHER_OPENAI_API_KEY || e.AETHER_OPENAI_BASE_URL ? { apiKey: e.AETHER_OPENAI_API_KEY, baseUrl: e.AETHER_OPENAI_BASE_URL } : undefined,
      google: e.AETHER_GOOGLE_API_KEY || e.AETHER_GOOGLE_BASE_URL ? { apiKey: e.AETHER_GOOGLE_API_KEY, baseUrl: e.AETHER_GOOGLE_BASE_URL } : undefined,
      ollama: e.AETHER_OLLAMA_HOST ? { host: e.AETHER_OLLAMA_HOST } : undefined,
      openaiCompatible: compatible,
      enableLocal: e.AETHER_MODELS_LOCAL,
      enableScripted: e.AETHER_MODELS_SCRIPTED,
      catalogFile: e.AETHER_MODELS_CATALOG_FILE,
      timeoutMs: e.AETHER_MODELS_TIMEOUT_MS,
      cacheTtlMs: e.AETHER_MODELS_CACHE_TTL_MS,
      wholeResponseMaxTokens: e.AETHER_MODELS_WHOLE_RESPONSE_MAX_TOKENS,
    },
    cli: { url: e.AETHER_URL, apiKey: e.AETHER_API_KEY, profile: e.AETHER_PROFILE },
    hypervisor: {
      // Root runs real sandboxes (their uids must reach this path); others only the process driver.
      stateDir: resolve(e.AETHER_HYPERVISOR_STATE_DIR ?? (process.getuid?.() === 0 ? '/var/lib/aether/sandboxes' : join(home, 'sandboxes'))),
      driverByType,
      allowNamespaceSecureVm: e.AETHER_HYPERVISOR_ALLOW_NAMESPACE_SECUREVM,
      allowUnisolated: e.AETHER_HYPERVISOR_ALLOW_UNISOLATED,
      poolSizes,
      image: e.AETHER_HYPERVISOR_IMAGE === 'host' ? 'host' : resolve(e.AETHER_HYPERVISOR_IMAGE),
      reaperIntervalMs: e.AETHER_HYPERVISOR_REAPER_INTERVAL_MS,
      egressAllowlist: e.AETHER_HYPERVISOR_EGRESS_ALLOWLIST.split(',').map((host) => host.trim()).filter(Boolean),
      egressPerTenantPerMinute: e.AETHER_HYPERVISOR_EGRESS_PER_TENANT_PER_MINUTE,
      egressPerVmPerMinute: e.AETHER_HYPERVISOR_EGRESS_PER_VM_PER_MINUTE,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
