/**
 * @module hypervisor/vm
 * VM types (spec §05) as sandbox profiles, the VM manager (create/list/exec/files/stop/destroy,
 * TTL reaper, warm pools, per-tenant quotas) and its store.
 * Owns table: hypervisor_vms.
 */
export { hypervisorMigrations } from './migrations.js';
export { PgVmStore } from './pg-vm-store.js';
export { inRange, requiredIsolation, selectDriver, VM_PROFILES, VM_TYPES, type Classification, type DriverPolicy, type NetworkPolicy, type VmProfile, type VmType } from './profiles.js';
export { StaticQuotaSource, type QuotaSource, type VmQuota } from './quota-source.js';
export { VmManager, type CreateVmInput, type ResolvedVmManagerOptions, type VmExecInput, type VmManagerDeps, type VmMetrics, type VmNetworkProvider } from './vm-manager.js';
export { InMemoryVmStore, type VmRecord, type VmState, type VmStore } from './vm-store.js';
