import type { Database } from '../../infra/database/index.js';
import type { TenantContext, TenantId } from '../../shared/context/index.js';
import type { DriverName } from '../sandbox/index.js';
import type { Classification, VmType } from './profiles.js';
import type { VmRecord, VmState, VmStore } from './vm-store.js';

type VmRow = {
  id: string;
  tenant_id: string;
  type: string;
  driver: string;
  state: string;
  vcpus: number;
  memory_mb: number;
  classification: string;
  image: string;
  sandbox_name: string;
  created_at: Date | string;
  expires_at: Date | string;
  stopped_at: Date | string | null;
};

type VmTables = {
  hypervisor_vms: VmRow;
};

function toRecord(row: VmRow): VmRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id as TenantId,
    type: row.type as VmType,
    driver: row.driver as DriverName,
    state: row.state as VmState,
    vcpus: row.vcpus,
    memoryMb: row.memory_mb,
    classification: row.classification as Classification,
    image: row.image,
    sandboxName: row.sandbox_name,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    stoppedAt: row.stopped_at === null ? null : new Date(row.stopped_at),
  };
}

/** VM records in PostgreSQL/PGlite, tenant-scoped through `withTenant` (RLS as the second wall). */
export class PgVmStore implements VmStore {
  readonly #db: Database;

  constructor(deps: { db: Database }) {
    this.#db = deps.db;
  }

  async insert(ctx: TenantContext, record: VmRecord): Promise<void> {
    await this.#db.withTenant(ctx.tenantId, async (tx) => {
      await tx.$extendTables<VmTables>().insertInto('hypervisor_vms').values({
        id: record.id,
        tenant_id: record.tenantId,
        type: record.type,
        driver: record.driver,
        state: record.state,
        vcpus: record.vcpus,
        memory_mb: record.memoryMb,
        classification: record.classification,
        image: record.image,
        sandbox_name: record.sandboxName,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        stopped_at: record.stoppedAt,
      }).execute();
    });
  }

  async get(ctx: TenantContext, id: string): Promise<VmRecord | undefined> {
    const row = await this.#db.withTenant(ctx.tenantId, (tx) =>
      tx.$extendTables<VmTables>().selectFrom('hypervisor_vms').selectAll().where('id', '=', id).where('tenant_id', '=', ctx.tenantId).executeTakeFirst(),
    );
    return row ? toRecord(row) : undefined;
  }

  async list(ctx: TenantContext, options: { readonly includeDestroyed?: boolean } = {}): Promise<VmRecord[]> {
    const rows = await this.#db.withTenant(ctx.tenantId, (tx) => {
      let query = tx.$extendTables<VmTables>().selectFrom('hypervisor_vms').selectAll().where('tenant_id', '=', ctx.tenantId);
      if (options.includeDestroyed !== true) query = query.where('state', '!=', 'destroyed');
      return query.orderBy('id').execute();
    });
    return rows.map(toRecord);
  }

  async setState(ctx: TenantContext, id: string, change: { readonly state: VmState; readonly at: Date }): Promise<void> {
    const { state, at } = change;
    await this.#db.withTenant(ctx.tenantId, async (tx) => {
      await tx.$extendTables<VmTables>().updateTable('hypervisor_vms').set({ state, stopped_at: state === 'running' ? null : at }).where('id', '=', id).where('tenant_id', '=', ctx.tenantId).execute();
    });
  }

  async listExpired(now: Date): Promise<VmRecord[]> {
    // Across tenants: the reaper is platform work, so it runs as the owner role.
    const rows = await this.#db.withSystem((tx) =>
      tx.$extendTables<VmTables>().selectFrom('hypervisor_vms').selectAll().where('state', '=', 'running').where('expires_at', '<=', now).orderBy('expires_at').execute(),
    );
    return rows.map(toRecord);
  }

  async listRunning(): Promise<VmRecord[]> {
    const rows = await this.#db.withSystem((tx) => tx.$extendTables<VmTables>().selectFrom('hypervisor_vms').selectAll().where('state', '=', 'running').execute());
    return rows.map(toRecord);
  }
}
