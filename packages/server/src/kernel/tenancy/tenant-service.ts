import type { Quotas, Tenant } from '@aether/protocol';

import type { AuditSink } from '../../infra/audit/index.js';
import { isPromise, type MaybePromise } from '../../shared/async/index.js';
import { isUniqueViolation, type Database } from '../../infra/database/index.js';
import { asTenantId, type TenantContext, type TenantId } from '../../shared/context/index.js';
import { NotFoundError } from '../../shared/errors/index.js';
import { hasIdPrefix, type IdGenerator } from '../../shared/ids/index.js';
import { TtlCache } from '../../shared/cache/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { TenantSlugTakenError } from './errors.js';
import { DEFAULT_PAGE_SIZE, toPage } from './pagination.js';
import type { TenancyTables, TenantRow } from './tables.js';

export interface TenantServiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly audit: AuditSink;
  readonly defaultQuotas: Quotas;
  /**
   * How long a tenant record may be served from memory. Tenants are read on every request and
   * change rarely; an update clears this process's copy at once, other processes within this time.
   */
  readonly cacheTtlMs?: number;
}

/** Quota changes; a field left out (or undefined) keeps its current value. */
export type QuotaOverrides = { readonly [TKey in keyof Quotas]?: Quotas[TKey] | undefined };

export interface CreateTenantInput {
  readonly slug: string;
  readonly name: string;
  readonly quotas?: QuotaOverrides | undefined;
}

export interface UpdateTenantInput {
  readonly name?: string | undefined;
  readonly status?: 'active' | 'suspended' | undefined;
  readonly quotas?: QuotaOverrides | undefined;
}

/** Applies the defined fields of `overrides` to `base`. */
export function mergeQuotas(base: Quotas, overrides: QuotaOverrides | undefined): Quotas {
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value !== undefined) merged[key as keyof Quotas] = value;
  }
  return merged;
}

export function tenantToWire(row: TenantRow): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: row.status,
    quotas: row.quotas,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function orUndefined(tenant: Tenant | null): Tenant | undefined {
  return tenant ?? undefined;
}

function existing(tenant: Tenant | null, tenantId: TenantId): Tenant {
  if (!tenant) throw new NotFoundError('tenant', tenantId);
  return tenant;
}

/** Tenants and their quotas. Creating tenants and changing quotas or status is the operator's. */
export class TenantService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditSink;
  readonly #defaultQuotas: Quotas;
  readonly #cache: TtlCache<Tenant | null>;

  constructor(deps: TenantServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#audit = deps.audit;
    this.#defaultQuotas = deps.defaultQuotas;
    this.#cache = new TtlCache({ clock: deps.clock, ttlMs: deps.cacheTtlMs ?? 2_000 });
  }

  get defaultQuotas(): Quotas {
    return this.#defaultQuotas;
  }

  /**
   * Creates a tenant (operator action); records `tenant.created` in the new tenant's ledger.
   * @throws {TenantSlugTakenError} when the slug is in use.
   */
  async create(actor: TenantContext['principal'], input: CreateTenantInput, requestId: string): Promise<Tenant> {
    const now = this.#clock.now();
    const row: TenantRow = {
      id: this.#ids.next('tnt'),
      slug: input.slug,
      name: input.name,
      status: 'active',
      quotas: mergeQuotas(this.#defaultQuotas, input.quotas),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.#db.withSystem(async (tx) => {
        await tx.$extendTables<TenancyTables>().insertInto('tenants').values({ ...row, quotas: JSON.stringify(row.quotas) as never }).execute();
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new TenantSlugTakenError(input.slug);
      throw error;
    }
    const ctx = this.#contextFor(asTenantId(row.id), actor, requestId);
    await this.#audit.append(ctx, { kind: 'tenant.created', subject: { tenant_id: row.id }, payload: { slug: row.slug, name: row.name, quotas: row.quotas } });
    return tenantToWire(row);
  }

  /** All tenants, for the operator, by creation order. */
  async listAll(page: { cursor?: string | undefined; limit?: number | undefined }): Promise<{ items: Tenant[]; next_cursor: string | null }> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.#db.withSystem((tx) => {
      let query = tx.$extendTables<TenancyTables>().selectFrom('tenants').selectAll().orderBy('id').limit(limit + 1);
      if (page.cursor) query = query.where('id', '>', page.cursor);
      return query.execute();
    });
    return toPage(rows, limit, tenantToWire);
  }

  /**
   * The caller's own tenant; a plain value when it is cached (every request reads it).
   * @throws {NotFoundError} when it does not exist.
   */
  get(ctx: TenantContext): MaybePromise<Tenant> {
    const tenant = this.#cache.getOrLoad(ctx.tenantId, this.#loadInScope);
    return isPromise(tenant) ? tenant.then((found) => existing(found, ctx.tenantId)) : existing(tenant, ctx.tenantId);
  }

  // Read as the tenant itself (row-level security), unlike #load, which reads outside any tenant.
  readonly #loadInScope = async (tenantId: string): Promise<Tenant | null> => {
    const row = await this.#db.withTenant(asTenantId(tenantId), (tx) =>
      tx.$extendTables<TenancyTables>().selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst(),
    );
    return row ? tenantToWire(row) : null;
  };

  /**
   * A tenant by id or slug, outside any tenant scope (authentication, operator). By id it is a
   * plain value when cached, so the request hot path reads tenant status without waiting.
   */
  find(idOrSlug: string): MaybePromise<Tenant | undefined> {
    // Lookups by id (every request makes one) go through the cache; by slug (sign-in) they do
    // not, so a tenant created a moment ago in another process is always found.
    if (hasIdPrefix(idOrSlug, 'tnt')) {
      const found = this.#cache.getOrLoad(idOrSlug, this.#loadById);
      return isPromise(found) ? found.then(orUndefined) : orUndefined(found);
    }
    return this.#findBySlug(idOrSlug);
  }

  readonly #loadById = async (id: string): Promise<Tenant | null> => (await this.#load(id)) ?? null;

  async #findBySlug(slug: string): Promise<Tenant | undefined> {
    const tenant = await this.#load(slug);
    if (tenant) this.#cache.set(tenant.id, tenant);
    return tenant;
  }

  async #load(idOrSlug: string): Promise<Tenant | undefined> {
    const row = await this.#db.withSystem((tx) =>
      tx
        .$extendTables<TenancyTables>()
        .selectFrom('tenants')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
        .executeTakeFirst(),
    );
    return row ? tenantToWire(row) : undefined;
  }

  /**
   * Updates a tenant. Only the operator may change status or quotas; the route enforces that.
   * @throws {NotFoundError} when the tenant does not exist.
   */
  async update(ctx: TenantContext, input: UpdateTenantInput): Promise<Tenant> {
    const row = await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tables = tx.$extendTables<TenancyTables>();
      const current = await tables.selectFrom('tenants').selectAll().where('id', '=', ctx.tenantId).forUpdate().executeTakeFirst();
      if (!current) throw new NotFoundError('tenant', ctx.tenantId);
      const next: TenantRow = {
        ...current,
        name: input.name ?? current.name,
        status: input.status ?? current.status,
        quotas: mergeQuotas(current.quotas, input.quotas),
        updated_at: this.#clock.now(),
      };
      await tables
        .updateTable('tenants')
        .set({ name: next.name, status: next.status, quotas: JSON.stringify(next.quotas) as never, updated_at: next.updated_at })
        .where('id', '=', ctx.tenantId)
        .execute();
      await this.#audit.append(ctx, {
        kind: 'tenant.updated',
        subject: { tenant_id: ctx.tenantId },
        payload: { name: next.name, status: next.status, quotas: next.quotas },
      }, { tx });
      return next;
    });
    this.#cache.delete(ctx.tenantId);
    return tenantToWire(row);
  }

  /** The tenant's quotas, for the modules that enforce them. */
  async quotas(tenantId: TenantId): Promise<Quotas> {
    const tenant = await this.find(tenantId);
    if (!tenant) throw new NotFoundError('tenant', tenantId);
    return tenant.quotas;
  }

  #contextFor(tenantId: TenantId, principal: TenantContext['principal'], requestId: string): TenantContext {
    return { tenantId, principal, requestId, traceId: requestId, signal: new AbortController().signal };
  }
}
