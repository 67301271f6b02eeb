import type { AuditSink } from '../../infra/audit/index.js';
import type { Database } from '../../infra/database/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import { openAesGcm, sealAesGcm } from '../../shared/crypto/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { SecretNotFoundError } from './errors.js';
import { enforceQuota } from './quota-enforcer.js';
import type { SecretRow, TenancyTables } from './tables.js';

export interface SecretServiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly audit: AuditSink;
  /** The 32-byte key secrets are sealed with (derived from the master key for this purpose). */
  readonly encryptionKey: Buffer;
}

export interface SecretMetadata {
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

function toMetadata(row: Pick<SecretRow, 'name' | 'description' | 'created_at' | 'updated_at'>): SecretMetadata {
  return { name: row.name, description: row.description, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

// Binding the tenant and name into the ciphertext means a value copied to another row fails to open.
function aad(tenantId: string, name: string): string {
  return `secret:${tenantId}:${name}`;
}

/**
 * Tenant secrets (provider API keys, tokens), sealed with AES-256-GCM at rest. Values are
 * returned only to code in this process that asks by name, never over the API or into logs.
 */
export class SecretService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditSink;
  readonly #key: Buffer;

  constructor(deps: SecretServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = deps.audit;
    this.#key = deps.encryptionKey;
  }

  /**
   * Creates or replaces a secret, within the tenant's `max_secrets` quota.
   * @throws {QuotaExceededError} when a new secret would pass the quota.
   */
  async put(ctx: TenantContext, input: { name: string; value: string; description?: string | undefined }): Promise<SecretMetadata> {
    const now = this.#clock.now();
    const ciphertext = sealAesGcm(this.#key, Buffer.from(input.value, 'utf8'), aad(ctx.tenantId, input.name));
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tables = tx.$extendTables<TenancyTables>();
      const existing = await tables.selectFrom('secrets').select(['created_at']).where('name', '=', input.name).executeTakeFirst();
      // Replacing a secret adds nothing; the check still runs, so it also takes the tenant lock.
      await enforceQuota(tx, {
        tenantId: ctx.tenantId,
        quota: 'max_secrets',
        adding: existing ? 0 : 1,
        current: async () => (await tables.selectFrom('secrets').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count,
      });
      const row: SecretRow = {
        tenant_id: ctx.tenantId,
        name: input.name,
        description: input.description ?? '',
        ciphertext,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      await tables
        .insertInto('secrets')
        .values(row)
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ ciphertext, description: row.description, updated_at: now }))
        .execute();
      // The value itself is never audited; only that it changed.
      await this.#audit.append(ctx, { kind: existing ? 'secret.replaced' : 'secret.created', subject: { secret: input.name }, payload: {} }, { tx });
      return toMetadata(row);
    });
  }

  async list(ctx: TenantContext): Promise<SecretMetadata[]> {
    const rows = await this.#db.withTenant(ctx.tenantId, (tx) =>
      tx.$extendTables<TenancyTables>().selectFrom('secrets').select(['name', 'description', 'created_at', 'updated_at']).orderBy('name').execute(),
    );
    return rows.map(toMetadata);
  }

  /** @throws {SecretNotFoundError} when there is no such secret. */
  async delete(ctx: TenantContext, name: string): Promise<void> {
    await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const result = await tx.$extendTables<TenancyTables>().deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new SecretNotFoundError(name);
      await this.#audit.append(ctx, { kind: 'secret.deleted', subject: { secret: name }, payload: {} }, { tx });
    });
  }

  /** The plaintext of a secret, for in-process use (provider keys). Undefined when absent. */
  async reveal(ctx: TenantContext, name: string): Promise<string | undefined> {
    const row = await this.#db.withTenant(ctx.tenantId, (tx) =>
      tx.$extendTables<TenancyTables>().selectFrom('secrets').select(['ciphertext']).where('name', '=', name).executeTakeFirst(),
    );
    return row ? openAesGcm(this.#key, Buffer.from(row.ciphertext), aad(ctx.tenantId, name)).toString('utf8') : undefined;
  }
}
