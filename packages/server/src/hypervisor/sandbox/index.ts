/**
 * @module hypervisor/sandbox
 * Sandbox drivers: bubblewrap, gVisor (runsc) and the unisolated process fallback, behind one
 * `SandboxDriver` interface, plus the seccomp program and cgroup handling they share.
 */
export { BwrapDriver, type BwrapDriverDeps } from './bwrap-driver.js';
export { CgroupManager, detectCgroupVersion, type CgroupLimits, type CgroupVersion, type SandboxCgroup } from './cgroups.js';
export { GvisorDriver, buildOciSpec, type GvisorDriverDeps } from './gvisor-driver.js';
export { createSandboxDrivers, probeSandboxes, type SandboxDriversOptions } from './probe.js';
export { ProcessDriver } from './process-driver.js';
export {
  ISOLATION_ORDER,
  isolationSatisfies,
  type AttachedNetwork,
  type DriverName,
  type DriverProbe,
  type ExecRequest,
  type ExecResult,
  type IsolationLevel,
  type Sandbox,
  type SandboxDriver,
  type SandboxNetwork,
  type SandboxSpec,
} from './sandbox-driver.js';
export { resolveWorkspacePath, WORKSPACE } from './sandbox-paths.js';
export { buildSandboxSeccompProgram, DENIED_SYSCALLS_X86_64, evaluateSeccompProgram } from './seccomp-bpf.js';
