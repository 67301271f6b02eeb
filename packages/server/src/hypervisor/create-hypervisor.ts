import type { AuditSink } from '../infra/audit/index.js';
import type { Database } from '../infra/database/index.js';
import type { IdGenerator } from '../shared/ids/index.js';
import type { Clock, Logger } from '../shared/ports/index.js';
import { ExecService } from './exec/index.js';
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
}

export interface HypervisorDeps {
  readonly db: Database;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly quotas: QuotaSource;
  readonly options: HypervisorOptions;
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
    ...(deps.network ? { network: deps.network } : {}),
  });
  await vms.start();
  const exec = new ExecService({ vms, audit: deps.audit, usrDir });
  return { vms, exec, drivers, probes, close: () => vms.close() };
}
