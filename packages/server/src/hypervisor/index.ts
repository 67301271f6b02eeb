/**
 * @module hypervisor
 * Layer 1 (spec §05–§07): sandboxes ("VMs") for every tool run, their network policy, and
 * compile-and-run. Sub-modules: `sandbox/` (drivers), `vm/` (types, manager, store), `exec/`,
 * `network/`. Owns table: hypervisor_vms. Depends on: shared, infra.
 */
export { createHypervisor, type Hypervisor, type HypervisorDeps, type HypervisorOptions } from './create-hypervisor.js';
export {
  ImageBuildFailedError,
  SandboxFailedError,
  SandboxFileNotFoundError,
  SandboxIsolationRefusedError,
  SandboxIsolationUnavailableError,
  SandboxPathInvalidError,
  ToolchainMissingError,
  VmNotRunningError,
  VmQuotaExceededError,
  VmTokenInvalidError,
} from './errors.js';
export { EXEC_LIMITS, ExecService, LANGUAGES, type CompileAndRunInput, type CompileAndRunResult, type Language } from './exec/index.js';
export { hypervisorRoutes, type HypervisorRoutesDeps } from './routes.js';
export { createSandboxDrivers, probeSandboxes, type DriverName, type DriverProbe, type SandboxDriver } from './sandbox/index.js';
export { hypervisorMigrations, StaticQuotaSource, VM_TYPES, VmManager, type DriverPolicy, type QuotaSource, type VmQuota, type VmRecord, type VmType } from './vm/index.js';
export { AETHER_LINUX_PACKAGES, buildImage, type ImageBuildOptions, type ImageManifest } from './image/index.js';
