import type { AuditSink } from '../infra/audit/index.js';
import type { Database } from '../infra/database/index.js';
import type { IdGenerator } from '../shared/ids/index.js';
import type { Clock, Logger } from '../shared/ports/index.js';
import { ExecService } from './exec/index.js';
import { EgressProxy, ProxyNetworkProvider } from './network/index.js';
import { createSandboxDrivers, probeSandboxes, type DriverName, type DriverProbe, type SandboxDriver } from './sandbox/index.js';
import { PgVmStore, VmManager, type DriverPolicy, type QuotaSource, type VmNetworkProvider, type VmType } from './vm/index.js';

/** The operator's hypervisor settings (config slice `hypervisor`). */
export interface HypervisorOptions {
  /** Sandboxes' workspaces and runtime state; every parent must be o+x (bwrap runs as other uids). */
  readonly stateDir: string;
  readonly policy: DriverPolicy;
  readonly poolSizes: Partial<Readonly<Record<VmType, number>>>;
  /** `host` (host /usr read-only) or the path of an image built by `aether image build`. */
  readonly image: string;
  readonly reaperIntervalMs: number;
  /** Hosts MicroVMs and DevVMs may reach through the egress proxy (`*.example.com` allowed). */
  readonly egressAllowlist: readonly string[];
  readonly egressPerTenantPerMinute: number;
  readonly egressPerVmPerMinute: number;
}

export interface HypervisorDeps {
  readonly db: Database;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly quotas: QuotaSource;
  readonly options: HypervisorOptions;
  /** Replaces the egress proxy (tests); by default one is built when an isolating driver is present. */
  readonly network?: VmNetworkProvider;
}

export interface Hypervisor {
  readonly vms: VmManager;
  readonly exec: ExecService;
  readonly drivers: Readonly<Record<DriverName, SandboxDriver>>;
  readonly probes: readonly DriverProbe[];
  close(): Promise<void>;
}

/** Probes the drivers, builds the VM manager and the compile-and-run service, fills the pools. */
export async function createHypervisor(deps: HypervisorDeps): Promise<Hypervisor> {
  const usrDir = deps.options.image === 'host' ? '/usr' : `${deps.options.image}/usr`;
  const drivers = createSandboxDrivers({ stateDir: deps.options.stateDir, logger: deps.logger, usrDir });
  const probes = await probeSandboxes(drivers);
  deps.logger.info('hypervisor.probed', { drivers: probes.map((probe) => `${probe.driver}:${probe.available ? 'yes' : 'no'}`).join(',') });
  // Network namespaces need the same privileges as the isolating drivers.
  const canIsolateNetwork = probes.some((probe) => probe.available && probe.driver !== 'process');
  const network = deps.network ?? (canIsolateNetwork
    ? new ProxyNetworkProvider({
        proxy: new EgressProxy({ logger: deps.logger, clock: deps.clock, perTenantPerMinute: deps.options.egressPerTenantPerMinute, perVmPerMinute: deps.options.egressPerVmPerMinute }),
        allowlist: deps.options.egressAllowlist,
      })
    : undefined);
  const vms = new VmManager({
    drivers,
    probes,
    store: new PgVmStore({ db: deps.db }),
    quotas: deps.quotas,
    audit: deps.audit,
    clock: deps.clock,
    ids: deps.ids,
    logger: deps.logger,
    options: { policy: deps.options.policy, poolSizes: deps.options.poolSizes, image: deps.options.image, reaperIntervalMs: deps.options.reaperIntervalMs, maxExecTimeoutMs: 300_000, maxOutputBytes: 8 * 1024 * 1024 },
    ...(network ? { network } : {}),
  });
  await vms.start();
  const exec = new ExecService({ vms, audit: deps.audit, usrDir });
  return { vms, exec, drivers, probes, close: () => vms.close() };
}
