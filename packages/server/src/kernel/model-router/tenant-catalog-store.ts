import type { ModelOverrideInput } from '@aether/protocol';
import { sql } from 'kysely';

import type { AuditSink } from '../../infra/audit/index.js';
import type { Database } from '../../infra/database/index.js';
import { TtlCache } from '../../shared/cache/index.js';
import { asTenantId, type TenantContext } from '../../shared/context/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { toModelOverride, toWireOverride, type ModelOverride, type TenantCatalogSource } from './catalog.js';
import { ModelOverrideNotFoundError } from './errors.js';

/**
 * How long one process serves a tenant's overrides from memory. A change applies at once in the
 * process that made it and within this long in every other (ADR 0003).
 */
const DEFAULT_CACHE_TTL_MS = 5_000;

/**
 * The tenant's own changes to the model catalog, stored per model in `model_overrides` (under
 * row-level security) and read through a short cache, as every routed call reads them. Each
 * change commits with its ledger entry.
 */
export class TenantCatalogStore implements TenantCatalogSource {
  readonly #db: Database;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #cache: TtlCache<readonly ModelOverride[]>;
  readonly #loadFresh = (tenantId: string): Promise<readonly ModelOverride[]> => this.#read(tenantId);

  constructor(deps: { db: Database; audit: AuditSink; clock: Clock; cacheTtlMs?: number }) {
    this.#db = deps.db;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#cache = new TtlCache({ clock: deps.clock, ttlMs: deps.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, maxEntries: 10_000 });
  }

  /** The overrides that shape the tenant's catalog, one per model. */
  async overrides(tenantId: string): Promise<readonly ModelOverride[]> {
    return this.#cache.getOrLoad(tenantId, this.#loadFresh);
  }

  /** The tenant's overrides as the API shows them, read fresh. */
  async list(ctx: TenantContext): Promise<ModelOverrideInput[]> {
    return (await this.#read(ctx.tenantId)).map(toWireOverride);
  }

  /** Creates or replaces the tenant's override of `override.id`; the caller has checked it applies. */
  async set(ctx: TenantContext, override: ModelOverride): Promise<ModelOverrideInput> {
    const wire = toWireOverride(override);
    const now = this.#clock.now();
    await this.#db.withTenant(ctx.tenantId, async (tx) => {
      await sql`insert into model_overrides (tenant_id, model_id, override, updated_at)
        values (${ctx.tenantId}, ${override.id}, ${JSON.stringify(wire)}::jsonb, ${now})
        on conflict (tenant_id, model_id) do update set override = excluded.override, updated_at = excluded.updated_at`.execute(tx);
      await this.#audit.append(ctx, { kind: 'model.override_set', subject: { model_id: override.id }, payload: { override: wire } }, { tx });
    });
    this.#cache.delete(ctx.tenantId);
    return wire;
  }

  /** @throws {ModelOverrideNotFoundError} when the tenant has no override of `modelId`. */
  async remove(ctx: TenantContext, modelId: string): Promise<void> {
    await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const removed = await sql<{ model_id: string }>`delete from model_overrides where tenant_id = ${ctx.tenantId} and model_id = ${modelId} returning model_id`.execute(tx);
      if (removed.rows.length === 0) throw new ModelOverrideNotFoundError(modelId);
      await this.#audit.append(ctx, { kind: 'model.override_removed', subject: { model_id: modelId }, payload: {} }, { tx });
    });
    this.#cache.delete(ctx.tenantId);
  }

  async #read(tenantId: string): Promise<ModelOverride[]> {
    const rows = await this.#db.withTenant(asTenantId(tenantId), (tx) =>
      sql<{ override: ModelOverrideInput }>`select override from model_overrides where tenant_id = ${tenantId} order by model_id`.execute(tx),
    );
    return rows.rows.map((row) => toModelOverride(row.override));
  }
}
