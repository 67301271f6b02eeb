import type { TenantContext } from '../../shared/context/index.js';

/** A tenant's VM allowance (the tenancy module's `max_vms`, `max_vcpus`, `max_memory_mb`). */
export interface VmQuota {
  readonly maxVms: number;
  readonly maxVcpus: number;
  readonly maxMemoryMb: number;
}

/** Where the VM manager reads quotas from; `app/` plugs the tenancy module in. */
export interface QuotaSource {
  vmQuota(ctx: TenantContext): Promise<VmQuota>;
}

/** One quota for every tenant (tests, and single-tenant installs). */
export class StaticQuotaSource implements QuotaSource {
  readonly #quota: VmQuota;

  constructor(quota: VmQuota) {
    this.#quota = quota;
  }

  vmQuota(): Promise<VmQuota> {
    return Promise.resolve(this.#quota);
  }
}
