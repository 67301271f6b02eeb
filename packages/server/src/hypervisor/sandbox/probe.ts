import type { Logger } from '../../shared/ports/index.js';
import { BwrapDriver } from './bwrap-driver.js';
import { GvisorDriver } from './gvisor-driver.js';
import { ProcessDriver } from './process-driver.js';
import type { DriverName, DriverProbe, SandboxDriver } from './sandbox-driver.js';

export interface SandboxDriversOptions {
  /** Parent of every driver's state (`<stateDir>/bwrap`, `<stateDir>/gvisor`, ...). */
  readonly stateDir: string;
  readonly logger: Logger;
  readonly cgroupRoot?: string;
  readonly bwrapPath?: string;
  readonly runscPath?: string;
  /** Mounted read-only as every sandbox's /usr (the host's, or a built image's). */
  readonly usrDir?: string;
}

/** Builds one instance of every driver this code base ships. */
export function createSandboxDrivers(options: SandboxDriversOptions): Record<DriverName, SandboxDriver> {
  const common = { ...(options.cgroupRoot === undefined ? {} : { cgroupRoot: options.cgroupRoot }), ...(options.usrDir === undefined ? {} : { usrDir: options.usrDir }) };
  return {
    gvisor: new GvisorDriver({ stateDir: `${options.stateDir}/gvisor`, ...common, ...(options.runscPath ? { runscPath: options.runscPath } : {}) }),
    bwrap: new BwrapDriver({ stateDir: `${options.stateDir}/bwrap`, ...common, ...(options.bwrapPath ? { bwrapPath: options.bwrapPath } : {}) }),
    process: new ProcessDriver({ stateDir: `${options.stateDir}/process`, logger: options.logger }),
  };
}

/** Probes every driver (what `aether doctor` shows), strongest isolation first. */
export async function probeSandboxes(drivers: Readonly<Record<DriverName, SandboxDriver>>, options: { readonly deep?: boolean } = {}): Promise<DriverProbe[]> {
  return Promise.all([drivers.gvisor.probe(options), drivers.bwrap.probe(), drivers.process.probe()]);
}
