import type { IdGenerator } from '../../shared/ids/index.js';
import type { Logger } from '../../shared/ports/index.js';
import type { DriverName, DriverProbe, IsolationLevel, Sandbox, SandboxDriver } from '../sandbox/index.js';
import { selectDriver, VM_PROFILES, type DriverPolicy, type VmType } from './profiles.js';

export interface WarmPoolDeps {
  readonly drivers: Readonly<Record<DriverName, SandboxDriver>>;
  readonly probes: readonly DriverProbe[];
  readonly policy: DriverPolicy;
  readonly sizes: Partial<Readonly<Record<VmType, number>>>;
  readonly logger: Logger;
  readonly ids: IdGenerator;
}

interface Pooled {
  readonly sandbox: Sandbox;
  readonly driver: DriverName;
  readonly isolation: IsolationLevel;
}

/**
 * Pre-created, default-sized, network-less sandboxes per VM type (for MicroVMs on gVisor this is
 * the "pre-created runsc" path). Taking one starts a background refill.
 */
export class WarmPool {
  readonly #deps: WarmPoolDeps;
  readonly #ready = new Map<VmType, Pooled[]>();
  readonly #filling = new Map<VmType, Promise<void>>();
  #closed = false;

  constructor(deps: WarmPoolDeps) {
    this.#deps = deps;
  }

  size(type: VmType): number {
    return this.#ready.get(type)?.length ?? 0;
  }

  take(type: VmType, driver: DriverName, isolation: IsolationLevel): Sandbox | undefined {
    const list = this.#ready.get(type) ?? [];
    const index = list.findIndex((item) => item.driver === driver && item.isolation === isolation);
    if (index < 0) return undefined;
    const [item] = list.splice(index, 1);
    return item?.sandbox;
  }

  async fill(): Promise<void> {
    await Promise.all(Object.keys(this.#deps.sizes).map((type) => this.#fillType(type as VmType)));
  }

  refillSoon(type: VmType): void {
    if (!this.#deps.sizes[type]) return;
    void this.#fillType(type).catch((error: unknown) => { this.#deps.logger.warn('vm.pool-refill-failed', { type, error: String(error) }); });
  }

  #fillType(type: VmType): Promise<void> {
    const running = this.#filling.get(type);
    if (running) return running;
    const work = (async () => {
      const target = this.#deps.sizes[type] ?? 0;
      const profile = VM_PROFILES[type];
      const choice = selectDriver({ type, classification: 'internal', policy: this.#deps.policy, probes: this.#deps.probes });
      while (!this.#closed && this.size(type) < target) {
        const sandbox = await this.#deps.drivers[choice.driver].create({ name: this.#deps.ids.next('pool'), vcpus: profile.vcpus.default, memoryMb: profile.memoryMb.default, pidsMax: profile.pidsMax, tmpfsMb: profile.tmpfsMb, network: { mode: 'none' }, requiredIsolation: choice.isolation });
        if (this.#closed) {
          await sandbox.destroy();
          return;
        }
        const list = this.#ready.get(type) ?? [];
        list.push({ sandbox, driver: choice.driver, isolation: choice.isolation });
        this.#ready.set(type, list);
      }
    })().finally(() => this.#filling.delete(type));
    this.#filling.set(type, work);
    return work;
  }

  async drain(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#filling.values()]);
    const all = [...this.#ready.values()].flat();
    this.#ready.clear();
    await Promise.all(all.map((item) => item.sandbox.destroy()));
  }
}
