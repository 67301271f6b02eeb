import { SandboxIsolationUnavailableError } from '../errors.js';
import type { DriverName, DriverProbe, IsolationLevel } from '../sandbox/index.js';
import { isolationSatisfies } from '../sandbox/index.js';

export type VmType = 'microvm' | 'devvm' | 'agentvm' | 'securevm';
export const VM_TYPES: readonly VmType[] = ['microvm', 'devvm', 'agentvm', 'securevm'];

/** Spec §06 per-type policy: how much of the network a VM type may reach (through the egress proxy). */
export type NetworkPolicy = 'none' | 'restricted' | 'filtered' | 'open';

/** Data classification of the work (spec §20); RESTRICTED and CRITICAL need real isolation. */
export type Classification = 'public' | 'internal' | 'restricted' | 'critical';

export interface Range {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** One VM type of spec §05, as a sandbox profile. */
export interface VmProfile {
  readonly type: VmType;
  readonly vcpus: Range;
  readonly memoryMb: Range;
  readonly ttlSeconds: Range;
  readonly tmpfsMb: number;
  readonly pidsMax: number;
  readonly network: NetworkPolicy;
  /** Drivers in order of preference. */
  readonly drivers: readonly DriverName[];
  /** The weakest isolation the type runs under, before classification raises it. */
  readonly isolation: IsolationLevel;
}

const HOUR = 3600;

/** The built-in profiles; operators override driver choice and isolation through config. */
export const VM_PROFILES: Readonly<Record<VmType, VmProfile>> = {
  microvm: { type: 'microvm', vcpus: { default: 1, min: 1, max: 1 }, memoryMb: { default: 256, min: 64, max: 256 }, ttlSeconds: { default: 300, min: 1, max: HOUR }, tmpfsMb: 64, pidsMax: 128, network: 'restricted', drivers: ['gvisor', 'bwrap', 'process'], isolation: 'none' },
  // gVisor's ptrace platform is ~5x slower on builds, so DevVMs prefer bubblewrap.
  devvm: { type: 'devvm', vcpus: { default: 2, min: 2, max: 4 }, memoryMb: { default: 2048, min: 2048, max: 8192 }, ttlSeconds: { default: 4 * HOUR, min: 60, max: 24 * HOUR }, tmpfsMb: 1024, pidsMax: 1024, network: 'filtered', drivers: ['bwrap', 'gvisor', 'process'], isolation: 'none' },
  agentvm: { type: 'agentvm', vcpus: { default: 2, min: 2, max: 2 }, memoryMb: { default: 2048, min: 2048, max: 2048 }, ttlSeconds: { default: 24 * HOUR, min: 60, max: 7 * 24 * HOUR }, tmpfsMb: 512, pidsMax: 512, network: 'open', drivers: ['bwrap', 'gvisor', 'process'], isolation: 'none' },
  securevm: { type: 'securevm', vcpus: { default: 1, min: 1, max: 1 }, memoryMb: { default: 1024, min: 256, max: 1024 }, ttlSeconds: { default: 300, min: 1, max: HOUR }, tmpfsMb: 128, pidsMax: 128, network: 'none', drivers: ['gvisor'], isolation: 'gvisor' },
};

/** Operator choices that change how profiles map onto drivers. */
export interface DriverPolicy {
  /** Force a driver per type (e.g. `{ devvm: 'gvisor' }`). */
  readonly driverByType: Partial<Readonly<Record<VmType, DriverName>>>;
  /** Let SecureVM run on bubblewrap when gVisor is missing (it otherwise fails closed). */
  readonly allowNamespaceSecureVm: boolean;
  /** Let the unisolated process driver run anything at all (laptops without bwrap or runsc). */
  readonly allowUnisolated: boolean;
}

/** The isolation a VM needs: the profile's floor, raised by classification and operator policy. */
export function requiredIsolation(type: VmType, classification: Classification, policy: DriverPolicy): IsolationLevel {
  const profile = VM_PROFILES[type];
  let level: IsolationLevel = profile.isolation;
  if (type === 'securevm' && policy.allowNamespaceSecureVm) level = 'namespaces';
  if ((classification === 'restricted' || classification === 'critical') && !isolationSatisfies(level, 'namespaces')) level = 'namespaces';
  if (!policy.allowUnisolated && !isolationSatisfies(level, 'namespaces')) level = 'namespaces';
  return level;
}

/**
 * Picks the driver for a VM: the operator's forced choice, else the first available driver of the
 * profile's preference list that meets the required isolation.
 * @throws {SandboxIsolationUnavailableError} when none does (SecureVM without gVisor fails closed).
 */
export function selectDriver(options: { type: VmType; classification: Classification; policy: DriverPolicy; probes: readonly DriverProbe[] }): { driver: DriverName; isolation: IsolationLevel } {
  const { type, policy, probes } = options;
  const needed = requiredIsolation(type, options.classification, policy);
  const available = new Map(probes.filter((probe) => probe.available).map((probe) => [probe.driver, probe]));
  const forced = policy.driverByType[type];
  let candidates: readonly DriverName[] = forced ? [forced] : VM_PROFILES[type].drivers;
  if (type === 'securevm' && policy.allowNamespaceSecureVm && !forced) candidates = ['gvisor', 'bwrap'];
  for (const name of candidates) {
    const probe = available.get(name);
    if (probe && isolationSatisfies(probe.isolation, needed)) return { driver: name, isolation: needed };
  }
  const seen = probes.map((probe) => `${probe.driver}: ${probe.available ? `available (${probe.isolation})` : probe.detail}`).join('; ');
  throw new SandboxIsolationUnavailableError(needed, `${type} tried ${candidates.join(', ')}; ${seen}`);
}

/** Clamps a requested size into the profile's range; out-of-range requests are refused by the caller. */
export function inRange(range: Range, value: number | undefined): value is number {
  return value !== undefined && value >= range.min && value <= range.max;
}
