import type { AuditSink } from '../../infra/audit/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import { NotFoundError, ValidationError } from '../../shared/errors/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import { VmNotRunningError, VmQuotaExceededError } from '../errors.js';
import type { DriverName, DriverProbe, ExecResult, Sandbox, SandboxDriver, SandboxNetwork } from '../sandbox/index.js';
import { inRange, selectDriver, VM_PROFILES, type Classification, type DriverPolicy, type VmType } from './profiles.js';
import type { QuotaSource } from './quota-source.js';
import { WarmPool } from './warm-pool.js';
import type { VmRecord, VmStore } from './vm-store.js';

/** Operator options of the VM manager, defaults filled in (config slice `hypervisor`). */
export interface ResolvedVmManagerOptions {
  readonly policy: DriverPolicy;
  /** Pre-created sandboxes kept ready per type (default-sized, no network). */
  readonly poolSizes: Partial<Readonly<Record<VmType, number>>>;
  /** What the VMs see as their root file set; recorded with every VM and run. */
  readonly image: string;
  readonly reaperIntervalMs: number;
  /** Hard cap of every exec's wall time and output. */
  readonly maxExecTimeoutMs: number;
  readonly maxOutputBytes: number;
}

/** Gives a VM its network, per its type's policy; absent means every VM gets none. */
export interface VmNetworkProvider {
  networkFor(ctx: TenantContext, vm: { readonly id: string; readonly type: VmType }): SandboxNetwork;
}

export interface VmManagerDeps {
  readonly drivers: Readonly<Record<DriverName, SandboxDriver>>;
  readonly probes: readonly DriverProbe[];
  readonly store: VmStore;
  readonly quotas: QuotaSource;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly options: ResolvedVmManagerOptions;
  readonly network?: VmNetworkProvider;
}

export interface CreateVmInput {
  readonly type: VmType;
  readonly vcpus?: number;
  readonly memoryMb?: number;
  readonly ttlSeconds?: number;
  readonly classification?: Classification;
}

export interface VmExecInput {
  readonly argv: readonly string[];
  readonly stdin?: string | Uint8Array;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly outputCapBytes?: number;
}

/** Counters for `/metrics` and `aether doctor`. */
export interface VmMetrics {
  created: number;
  destroyed: number;
  reaped: number;
  execs: number;
  execTimeouts: number;
  execOomKills: number;
  poolHits: number;
  poolMisses: number;
  running: number;
}

/**
 * Creates, runs and destroys VMs for tenants: picks the driver per type, enforces per-tenant
 * quotas on count, vCPUs and memory, hands out warm sandboxes, reaps VMs past their TTL and
 * audits every lifecycle event and exec. A VM of another tenant is NOT_FOUND.
 */
export class VmManager {
  readonly #deps: VmManagerDeps;
  readonly #log: Logger;
  readonly #sandboxes = new Map<string, Sandbox>();
  readonly #tenantLocks = new Map<string, Promise<unknown>>();
  readonly #pool: WarmPool;
  readonly #metrics: VmMetrics = { created: 0, destroyed: 0, reaped: 0, execs: 0, execTimeouts: 0, execOomKills: 0, poolHits: 0, poolMisses: 0, running: 0 };
  #reaper: NodeJS.Timeout | undefined;

  constructor(deps: VmManagerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'hypervisor.vm' });
    this.#pool = new WarmPool({ drivers: deps.drivers, probes: deps.probes, policy: deps.options.policy, sizes: deps.options.poolSizes, logger: this.#log, ids: deps.ids });
  }

  /** Fills the warm pools and starts the reaper. */
  async start(): Promise<void> {
    // VMs recorded as running whose sandbox this process does not hold died with a previous process.
    for (const record of await this.#deps.store.listRunning()) {
      if (!this.#sandboxes.has(record.id)) await this.#deps.store.setState(this.#systemCtx(record), record.id, { state: 'destroyed', at: this.#deps.clock.now() });
    }
    await this.#pool.fill();
    this.#reaper = setInterval(() => {
      void this.reap().catch((error: unknown) => { this.#log.error('vm.reap-failed', { error: String(error) }); });
    }, this.#deps.options.reaperIntervalMs);
    this.#reaper.unref();
  }

  /** Stops the reaper and destroys every VM and pooled sandbox this process holds. */
  async close(): Promise<void> {
    if (this.#reaper) clearInterval(this.#reaper);
    await this.#pool.drain();
    for (const record of await this.#deps.store.listRunning()) {
      if (this.#sandboxes.has(record.id)) await this.#teardown(this.#systemCtx(record), record, { state: 'destroyed', kind: 'vm.destroyed' });
    }
    await Promise.all(Object.values(this.#deps.drivers).map((driver) => driver.settle()));
  }

  metrics(): Readonly<VmMetrics> {
    return { ...this.#metrics, running: this.#sandboxes.size };
  }

  /**
   * @throws {ValidationError} for sizes outside the type's range.
   * @throws {VmQuotaExceededError} past the tenant's count, vCPU or memory quota.
   * @throws {SandboxIsolationUnavailableError} when no driver gives the isolation needed.
   */
  async create(ctx: TenantContext, input: CreateVmInput): Promise<VmRecord> {
    const profile = VM_PROFILES[input.type];
    const vcpus = input.vcpus ?? profile.vcpus.default;
    const memoryMb = input.memoryMb ?? profile.memoryMb.default;
    const ttlSeconds = input.ttlSeconds ?? profile.ttlSeconds.default;
    if (!inRange(profile.vcpus, vcpus)) throw new ValidationError(`vcpus for ${input.type} must be ${String(profile.vcpus.min)}–${String(profile.vcpus.max)}`, { field: 'vcpus' });
    if (!inRange(profile.memoryMb, memoryMb)) throw new ValidationError(`memory_mb for ${input.type} must be ${String(profile.memoryMb.min)}–${String(profile.memoryMb.max)}`, { field: 'memory_mb' });
    if (!inRange(profile.ttlSeconds, ttlSeconds)) throw new ValidationError(`ttl_seconds for ${input.type} must be ${String(profile.ttlSeconds.min)}–${String(profile.ttlSeconds.max)}`, { field: 'ttl_seconds' });
    return this.createSized(ctx, { type: input.type, vcpus, memoryMb, ttlSeconds, classification: input.classification ?? 'internal' });
  }

  /** Creates a VM with sizes already validated by the caller (compile-and-run sizes MicroVMs itself). */
  async createSized(ctx: TenantContext, input: { type: VmType; vcpus: number; memoryMb: number; ttlSeconds: number; classification: Classification; network?: boolean }): Promise<VmRecord> {
    const { type, vcpus, memoryMb, classification } = input;
    const choice = selectDriver({ type, classification, policy: this.#deps.options.policy, probes: this.#deps.probes });
    return this.#withTenantLock(ctx, async () => {
      await this.#checkQuota(ctx, vcpus, memoryMb);
      const id = this.#deps.ids.next('vm');
      const profile = VM_PROFILES[type];
      const wantsNetwork = input.network ?? profile.network !== 'none';
      // The process driver cannot confine a network: its VMs get none.
      const network: SandboxNetwork = wantsNetwork && this.#deps.network && choice.driver !== 'process' ? this.#deps.network.networkFor(ctx, { id, type }) : { mode: 'none' };
      const isDefaultSized = vcpus === profile.vcpus.default && memoryMb === profile.memoryMb.default;
      let sandbox = network.mode === 'none' && isDefaultSized ? this.#pool.take(type, choice.driver, choice.isolation) : undefined;
      if (sandbox) this.#metrics.poolHits += 1;
      else {
        if (this.#pool.size(type) > 0 || this.#deps.options.poolSizes[type]) this.#metrics.poolMisses += 1;
        sandbox = await this.#deps.drivers[choice.driver].create({ name: id, vcpus, memoryMb, pidsMax: profile.pidsMax, tmpfsMb: profile.tmpfsMb, network, requiredIsolation: choice.isolation });
      }
      const now = this.#deps.clock.now();
      const record: VmRecord = {
        id,
        tenantId: ctx.tenantId,
        type,
        driver: choice.driver,
        state: 'running',
        vcpus,
        memoryMb,
        classification,
        image: this.#deps.options.image,
        sandboxName: sandbox.name,
        createdAt: now,
        expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
        stoppedAt: null,
      };
      try {
        await this.#deps.store.insert(ctx, record);
        await this.#deps.audit.append(ctx, { kind: 'vm.created', subject: { vm_id: id }, payload: { type, driver: choice.driver, isolation: sandbox.isolation, vcpus, memory_mb: memoryMb, image: record.image, expires_at: record.expiresAt.toISOString() } });
      } catch (error) {
        await sandbox.destroy();
        throw error;
      }
      this.#sandboxes.set(id, sandbox);
      this.#metrics.created += 1;
      this.#pool.refillSoon(type);
      return record;
    });
  }

  async list(ctx: TenantContext): Promise<VmRecord[]> {
    return this.#deps.store.list(ctx);
  }

  /** @throws {NotFoundError} when the VM does not exist in the caller's tenant. */
  async get(ctx: TenantContext, id: string): Promise<VmRecord> {
    const record = await this.#deps.store.get(ctx, id);
    if (!record) throw new NotFoundError('vm', id);
    return record;
  }

  /** @throws {NotFoundError} @throws {VmNotRunningError} */
  async exec(ctx: TenantContext, id: string, input: VmExecInput): Promise<ExecResult & { readonly image: string; readonly driver: DriverName }> {
    const { record, sandbox } = await this.#running(ctx, id);
    const timeoutMs = Math.min(input.timeoutMs ?? 30_000, this.#deps.options.maxExecTimeoutMs);
    const outputCapBytes = Math.min(input.outputCapBytes ?? 1024 * 1024, this.#deps.options.maxOutputBytes);
    const result = await sandbox.exec({
      argv: input.argv,
      timeoutMs,
      outputCapBytes,
      signal: ctx.signal,
      ...(input.stdin === undefined ? {} : { stdin: input.stdin }),
      ...(input.env === undefined ? {} : { env: input.env }),
      ...(input.cwd === undefined ? {} : { cwd: input.cwd }),
    });
    this.#metrics.execs += 1;
    if (result.timedOut) this.#metrics.execTimeouts += 1;
    if (result.oomKilled) this.#metrics.execOomKills += 1;
    await this.#deps.audit.append(ctx, {
      kind: 'vm.exec',
      subject: { vm_id: id },
      payload: { argv0: input.argv[0] ?? '', argc: input.argv.length, exit_code: result.exitCode, timed_out: result.timedOut, oom_killed: result.oomKilled, truncated: result.truncated, duration_ms: result.durationMs, driver: record.driver, image: record.image },
    });
    return { ...result, image: record.image, driver: record.driver };
  }

  /** Writes a file below the VM's /workspace. @throws {SandboxPathInvalidError} @throws {NotFoundError} */
  async upload(ctx: TenantContext, id: string, file: { readonly path: string; readonly data: Uint8Array | string }): Promise<void> {
    const { path, data } = file;
    const { sandbox } = await this.#running(ctx, id);
    await sandbox.writeFile(path, data);
    await this.#deps.audit.append(ctx, { kind: 'vm.file_written', subject: { vm_id: id }, payload: { path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength } });
  }

  /** Reads a file below the VM's /workspace. @throws {SandboxFileNotFoundError} @throws {NotFoundError} */
  async download(ctx: TenantContext, id: string, file: { readonly path: string; readonly maxBytes?: number }): Promise<Buffer> {
    const { path, maxBytes } = file;
    const { sandbox } = await this.#running(ctx, id);
    const data = await sandbox.readFile(path, maxBytes === undefined ? {} : { maxBytes });
    await this.#deps.audit.append(ctx, { kind: 'vm.file_read', subject: { vm_id: id }, payload: { path, bytes: data.length } });
    return data;
  }

  /** Stops the VM: its processes and sandbox go; the record stays as `stopped`. */
  async stop(ctx: TenantContext, id: string): Promise<VmRecord> {
    const record = await this.get(ctx, id);
    if (record.state !== 'running') throw new VmNotRunningError(id, record.state);
    await this.#teardown(ctx, record, { state: 'stopped', kind: 'vm.stopped' });
    return this.get(ctx, id);
  }

  /** Destroys the VM and everything it held. Idempotent for a VM already stopped. */
  async destroy(ctx: TenantContext, id: string): Promise<void> {
    const record = await this.get(ctx, id);
    if (record.state === 'destroyed') return;
    await this.#teardown(ctx, record, { state: 'destroyed', kind: 'vm.destroyed' });
  }

  /** Destroys every running VM past its TTL; returns how many. Runs on the reaper's interval. */
  async reap(): Promise<number> {
    const expired = await this.#deps.store.listExpired(this.#deps.clock.now());
    for (const record of expired) {
      await this.#teardown(this.#systemCtx(record), record, { state: 'destroyed', kind: 'vm.reaped' });
      this.#metrics.reaped += 1;
    }
    return expired.length;
  }

  async #teardown(ctx: TenantContext, record: VmRecord, outcome: { readonly state: 'stopped' | 'destroyed'; readonly kind: string }): Promise<void> {
    const { state, kind } = outcome;
    const sandbox = this.#sandboxes.get(record.id);
    this.#sandboxes.delete(record.id);
    await sandbox?.destroy();
    await this.#deps.store.setState(ctx, record.id, { state, at: this.#deps.clock.now() });
    if (sandbox || record.state === 'running') this.#metrics.destroyed += 1;
    await this.#deps.audit.append(ctx, { kind, subject: { vm_id: record.id }, payload: { type: record.type, driver: record.driver, state } });
  }

  async #running(ctx: TenantContext, id: string): Promise<{ record: VmRecord; sandbox: Sandbox }> {
    const record = await this.get(ctx, id);
    const sandbox = this.#sandboxes.get(id);
    if (record.state !== 'running' || !sandbox) throw new VmNotRunningError(id, record.state === 'running' ? 'lost' : record.state);
    return { record, sandbox };
  }

  async #checkQuota(ctx: TenantContext, vcpus: number, memoryMb: number): Promise<void> {
    const quota = await this.#deps.quotas.vmQuota(ctx);
    const running = (await this.#deps.store.list(ctx)).filter((vm) => vm.state === 'running');
    if (running.length + 1 > quota.maxVms) throw new VmQuotaExceededError('vms', quota.maxVms, running.length + 1);
    const usedVcpus = running.reduce((sum, vm) => sum + vm.vcpus, 0) + vcpus;
    if (usedVcpus > quota.maxVcpus) throw new VmQuotaExceededError('vcpus', quota.maxVcpus, usedVcpus);
    const usedMemory = running.reduce((sum, vm) => sum + vm.memoryMb, 0) + memoryMb;
    if (usedMemory > quota.maxMemoryMb) throw new VmQuotaExceededError('memory_mb', quota.maxMemoryMb, usedMemory);
  }

  /** Serialises quota check + insert per tenant in this process, so two creates cannot both pass. */
  async #withTenantLock<T>(ctx: TenantContext, work: () => Promise<T>): Promise<T> {
    const previous = this.#tenantLocks.get(ctx.tenantId) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#tenantLocks.set(ctx.tenantId, next.catch(() => undefined));
    return next;
  }

  #systemCtx(record: VmRecord): TenantContext {
    return { tenantId: record.tenantId, principal: { type: 'system', id: 'vm-reaper' }, requestId: 'sys-vm-reaper', traceId: 'sys-vm-reaper', signal: new AbortController().signal };
  }
}
