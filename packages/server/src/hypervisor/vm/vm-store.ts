import type { TenantContext, TenantId } from '../../shared/context/index.js';
import type { DriverName } from '../sandbox/index.js';
import type { Classification, VmType } from './profiles.js';

export type VmState = 'running' | 'stopped' | 'destroyed';

/** A VM as persisted: who owns it, what it is, where it runs, until when. */
export interface VmRecord {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly type: VmType;
  readonly driver: DriverName;
  readonly state: VmState;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly classification: Classification;
  /** The root file set the VM sees: `host` (host /usr read-only) or a built image's path. */
  readonly image: string;
  readonly sandboxName: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly stoppedAt: Date | null;
}

/** Persistence of VM records. Every method but `listExpired` is scoped by `ctx.tenantId`. */
export interface VmStore {
  insert(ctx: TenantContext, record: VmRecord): Promise<void>;
  get(ctx: TenantContext, id: string): Promise<VmRecord | undefined>;
  list(ctx: TenantContext, options?: { readonly includeDestroyed?: boolean }): Promise<VmRecord[]>;
  setState(ctx: TenantContext, id: string, change: { readonly state: VmState; readonly at: Date }): Promise<void>;
  /** Running VMs of every tenant whose `expiresAt` is at or before `now` (the reaper's query). */
  listExpired(now: Date): Promise<VmRecord[]>;
  /** Running VMs of every tenant (to reconcile after a restart). */
  listRunning(): Promise<VmRecord[]>;
}

/** Keeps VM records in a map; the fake that passes the same contract suite as the PostgreSQL store. */
export class InMemoryVmStore implements VmStore {
  readonly #records = new Map<string, VmRecord>();

  insert(_ctx: TenantContext, record: VmRecord): Promise<void> {
    this.#records.set(record.id, record);
    return Promise.resolve();
  }

  get(ctx: TenantContext, id: string): Promise<VmRecord | undefined> {
    const record = this.#records.get(id);
    return Promise.resolve(record?.tenantId === ctx.tenantId ? record : undefined);
  }

  list(ctx: TenantContext, options: { readonly includeDestroyed?: boolean } = {}): Promise<VmRecord[]> {
    return Promise.resolve(
      [...this.#records.values()]
        .filter((record) => record.tenantId === ctx.tenantId && (options.includeDestroyed === true || record.state !== 'destroyed'))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
  }

  setState(ctx: TenantContext, id: string, change: { readonly state: VmState; readonly at: Date }): Promise<void> {
    const { state, at } = change;
    const record = this.#records.get(id);
    if (record?.tenantId === ctx.tenantId) this.#records.set(id, { ...record, state, stoppedAt: state === 'running' ? null : at });
    return Promise.resolve();
  }

  listExpired(now: Date): Promise<VmRecord[]> {
    return Promise.resolve([...this.#records.values()].filter((record) => record.state === 'running' && record.expiresAt.getTime() <= now.getTime()));
  }

  listRunning(): Promise<VmRecord[]> {
    return Promise.resolve([...this.#records.values()].filter((record) => record.state === 'running'));
  }
}
