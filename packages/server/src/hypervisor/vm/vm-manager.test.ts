import { describe, expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { NotFoundError, ValidationError } from '../../shared/errors/index.js';
import { SequentialIdGenerator } from '../../shared/ids/index.js';
import { ManualClock, silentLogger } from '../../shared/ports/index.js';
import { SandboxIsolationUnavailableError, VmNotRunningError, VmQuotaExceededError } from '../errors.js';
import type { DriverName, DriverProbe, ExecRequest, ExecResult, Sandbox, SandboxDriver, SandboxSpec } from '../sandbox/index.js';
import { selectDriver, type DriverPolicy } from './profiles.js';
import { StaticQuotaSource } from './quota-source.js';
import { VmManager } from './vm-manager.js';
import { InMemoryVmStore } from './vm-store.js';

/** An in-memory driver: records what it was asked and echoes argv; the real ones run in the escape suite. */
class RecordingDriver implements SandboxDriver {
  readonly created: SandboxSpec[] = [];
  readonly destroyed: string[] = [];
  constructor(readonly name: DriverName, readonly isolation: 'none' | 'namespaces' | 'gvisor') {}
  settle(): Promise<void> {
    return Promise.resolve();
  }
  probe(): Promise<DriverProbe> {
    return Promise.resolve({ driver: this.name, isolation: this.isolation, available: true, detail: 'fake' });
  }
  create(spec: SandboxSpec): Promise<Sandbox> {
    this.created.push(spec);
    const files = new Map<string, Buffer>();
    const sandbox: Sandbox = {
      name: spec.name,
      driver: this.name,
      isolation: this.isolation,
      exec: (request: ExecRequest): Promise<ExecResult> => Promise.resolve({ exitCode: 0, stdout: Buffer.from(request.argv.join(' ')), stderr: Buffer.alloc(0), timedOut: false, oomKilled: false, truncated: false, durationMs: 1 }),
      writeFile: (path, data) => {
        files.set(path, Buffer.from(data));
        return Promise.resolve();
      },
      readFile: (path) => Promise.resolve(files.get(path) ?? Buffer.alloc(0)),
      processes: () => Promise.resolve([]),
      destroy: () => {
        this.destroyed.push(spec.name);
        return Promise.resolve();
      },
    };
    return Promise.resolve(sandbox);
  }
}

const policy: DriverPolicy = { driverByType: {}, allowNamespaceSecureVm: false, allowUnisolated: false };
const tenantA = systemContext(asTenantId('tnt_a'), 'test');
const tenantB = systemContext(asTenantId('tnt_b'), 'test');

function setup(options: { probes?: DriverProbe[]; quota?: { maxVms: number; maxVcpus: number; maxMemoryMb: number }; pool?: number } = {}) {
  const drivers = { gvisor: new RecordingDriver('gvisor', 'gvisor'), bwrap: new RecordingDriver('bwrap', 'namespaces'), process: new RecordingDriver('process', 'none') };
  const probes = options.probes ?? [
    { driver: 'gvisor', isolation: 'gvisor', available: true, detail: '' },
    { driver: 'bwrap', isolation: 'namespaces', available: true, detail: '' },
    { driver: 'process', isolation: 'none', available: true, detail: '' },
  ];
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  const audit = new InMemoryAuditSink();
  const store = new InMemoryVmStore();
  const manager = new VmManager({
    drivers,
    probes,
    store,
    quotas: new StaticQuotaSource(options.quota ?? { maxVms: 10, maxVcpus: 40, maxMemoryMb: 100_000 }),
    audit,
    clock,
    ids: new SequentialIdGenerator(),
    logger: silentLogger,
    options: { policy, poolSizes: options.pool ? { microvm: options.pool } : {}, image: 'host', reaperIntervalMs: 60_000, maxExecTimeoutMs: 300_000, maxOutputBytes: 1024 * 1024 },
  });
  return { manager, drivers, clock, audit, store };
}

describe('selectDriver', () => {
  const probes: DriverProbe[] = [
    { driver: 'gvisor', isolation: 'gvisor', available: false, detail: 'runsc not found' },
    { driver: 'bwrap', isolation: 'namespaces', available: true, detail: '' },
    { driver: 'process', isolation: 'none', available: true, detail: '' },
  ];

  it('fails closed for SecureVM without gVisor', () => {
    expect(() => selectDriver({ type: 'securevm', classification: 'internal', policy, probes })).toThrow(SandboxIsolationUnavailableError);
  });

  it('runs SecureVM on bubblewrap only when the operator allows namespace isolation', () => {
    expect(selectDriver({ type: 'securevm', classification: 'internal', policy: { ...policy, allowNamespaceSecureVm: true }, probes })).toEqual({ driver: 'bwrap', isolation: 'namespaces' });
  });

  it('falls back from gVisor to bubblewrap for MicroVMs, and prefers bubblewrap for DevVMs', () => {
    expect(selectDriver({ type: 'microvm', classification: 'internal', policy, probes }).driver).toBe('bwrap');
    const all = probes.map((probe) => ({ ...probe, available: true }));
    expect(selectDriver({ type: 'microvm', classification: 'internal', policy, probes: all }).driver).toBe('gvisor');
    expect(selectDriver({ type: 'devvm', classification: 'internal', policy, probes: all }).driver).toBe('bwrap');
  });

  it('uses the process driver only when the operator allows unisolated work, and never for RESTRICTED work', () => {
    const onlyProcess = probes.map((probe) => ({ ...probe, available: probe.driver === 'process' }));
    expect(() => selectDriver({ type: 'microvm', classification: 'internal', policy, probes: onlyProcess })).toThrow(SandboxIsolationUnavailableError);
    const loose = { ...policy, allowUnisolated: true };
    expect(selectDriver({ type: 'microvm', classification: 'internal', policy: loose, probes: onlyProcess }).driver).toBe('process');
    expect(() => selectDriver({ type: 'microvm', classification: 'restricted', policy: loose, probes: onlyProcess })).toThrow(SandboxIsolationUnavailableError);
    expect(() => selectDriver({ type: 'microvm', classification: 'critical', policy: loose, probes: onlyProcess })).toThrow(SandboxIsolationUnavailableError);
  });

  it('honours an operator override of the driver', () => {
    const all = probes.map((probe) => ({ ...probe, available: true }));
    expect(selectDriver({ type: 'devvm', classification: 'internal', policy: { ...policy, driverByType: { devvm: 'gvisor' } }, probes: all }).driver).toBe('gvisor');
  });
});

describe('VmManager.create', () => {
  it('creates a VM with the type\'s defaults on the chosen driver and audits it', async () => {
    const { manager, drivers, audit } = setup();
    const vm = await manager.create(tenantA, { type: 'devvm' });
    expect(vm).toMatchObject({ type: 'devvm', driver: 'bwrap', vcpus: 2, memoryMb: 2048, state: 'running', image: 'host' });
    expect(drivers.bwrap.created[0]).toMatchObject({ vcpus: 2, memoryMb: 2048, requiredIsolation: 'namespaces' });
    expect(audit.kinds('tnt_a')).toEqual(['vm.created']);
  });

  it('refuses sizes outside the type\'s range', async () => {
    const { manager } = setup();
    await expect(manager.create(tenantA, { type: 'microvm', memoryMb: 4096 })).rejects.toBeInstanceOf(ValidationError);
    await expect(manager.create(tenantA, { type: 'devvm', vcpus: 8 })).rejects.toBeInstanceOf(ValidationError);
    await expect(manager.create(tenantA, { type: 'microvm', ttlSeconds: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('enforces the tenant quota on count, vCPUs and memory', async () => {
    const count = setup({ quota: { maxVms: 1, maxVcpus: 100, maxMemoryMb: 100_000 } });
    await count.manager.create(tenantA, { type: 'microvm' });
    await expect(count.manager.create(tenantA, { type: 'microvm' })).rejects.toMatchObject({ code: 'VM_QUOTA_EXCEEDED', details: { resource: 'vms' } });
    await count.manager.create(tenantB, { type: 'microvm' });
    const cpus = setup({ quota: { maxVms: 10, maxVcpus: 3, maxMemoryMb: 100_000 } });
    await cpus.manager.create(tenantA, { type: 'devvm' });
    await expect(cpus.manager.create(tenantA, { type: 'devvm' })).rejects.toMatchObject({ details: { resource: 'vcpus' } });
    const memory = setup({ quota: { maxVms: 10, maxVcpus: 100, maxMemoryMb: 3000 } });
    await memory.manager.create(tenantA, { type: 'devvm' });
    await expect(memory.manager.create(tenantA, { type: 'agentvm' })).rejects.toBeInstanceOf(VmQuotaExceededError);
  });

  it('counts concurrent creates against the quota one at a time', async () => {
    const { manager } = setup({ quota: { maxVms: 2, maxVcpus: 100, maxMemoryMb: 100_000 } });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => manager.create(tenantA, { type: 'microvm' })));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
  });

  it('hands out a warm sandbox from the pool and refills it', async () => {
    const { manager, drivers } = setup({ pool: 2 });
    await manager.start();
    expect(drivers.gvisor.created).toHaveLength(2);
    const vm = await manager.create(tenantA, { type: 'microvm' });
    expect(vm.sandboxName).toMatch(/^pool_/);
    expect(manager.metrics().poolHits).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(drivers.gvisor.created).toHaveLength(3);
    await manager.close();
    expect(drivers.gvisor.destroyed).toHaveLength(3);
  });
});

describe('VmManager tenant ownership', () => {
  it('answers NOT_FOUND to another tenant for every operation', async () => {
    const { manager } = setup();
    const vm = await manager.create(tenantA, { type: 'microvm' });
    await expect(manager.get(tenantB, vm.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.exec(tenantB, vm.id, { argv: ['true'] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.upload(tenantB, vm.id, { path: 'a', data: 'b' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.download(tenantB, vm.id, { path: 'a' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.stop(tenantB, vm.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.destroy(tenantB, vm.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await manager.list(tenantB)).toEqual([]);
    expect((await manager.list(tenantA)).map((item) => item.id)).toEqual([vm.id]);
  });
});

describe('VmManager.exec', () => {
  it('runs in the VM, caps the timeout, and audits the run with driver and image', async () => {
    const { manager, audit } = setup();
    const vm = await manager.create(tenantA, { type: 'microvm' });
    const result = await manager.exec(tenantA, vm.id, { argv: ['echo', 'hi'], timeoutMs: 10_000_000 });
    expect(result.stdout.toString()).toBe('echo hi');
    expect(result).toMatchObject({ driver: 'gvisor', image: 'host' });
    expect(audit.entries.at(-1)?.entry).toMatchObject({ kind: 'vm.exec', payload: { exit_code: 0, driver: 'gvisor', image: 'host' } });
    expect(manager.metrics().execs).toBe(1);
  });

  it('refuses a stopped VM with VM_NOT_RUNNING', async () => {
    const { manager } = setup();
    const vm = await manager.create(tenantA, { type: 'microvm' });
    await manager.stop(tenantA, vm.id);
    await expect(manager.exec(tenantA, vm.id, { argv: ['true'] })).rejects.toBeInstanceOf(VmNotRunningError);
    await expect(manager.stop(tenantA, vm.id)).rejects.toBeInstanceOf(VmNotRunningError);
  });
});

describe('VmManager.reap', () => {
  it('destroys VMs past their TTL and nothing else', async () => {
    const { manager, clock, drivers, audit } = setup();
    const short = await manager.create(tenantA, { type: 'microvm', ttlSeconds: 60 });
    const long = await manager.create(tenantB, { type: 'devvm' });
    clock.advance(59_000);
    expect(await manager.reap()).toBe(0);
    clock.advance(1000);
    expect(await manager.reap()).toBe(1);
    expect(drivers.gvisor.destroyed).toEqual([short.sandboxName]);
    expect((await manager.get(tenantA, short.id)).state).toBe('destroyed');
    expect((await manager.get(tenantB, long.id)).state).toBe('running');
    expect(audit.kinds('tnt_a')).toContain('vm.reaped');
    expect(manager.metrics().reaped).toBe(1);
  });
});

describe('VmManager.upload/download/destroy', () => {
  it('moves files and destroys idempotently', async () => {
    const { manager, audit } = setup();
    const vm = await manager.create(tenantA, { type: 'microvm' });
    await manager.upload(tenantA, vm.id, { path: 'a.txt', data: 'data' });
    expect((await manager.download(tenantA, vm.id, { path: 'a.txt' })).toString()).toBe('data');
    await manager.destroy(tenantA, vm.id);
    await manager.destroy(tenantA, vm.id);
    expect(audit.kinds('tnt_a')).toEqual(['vm.created', 'vm.file_written', 'vm.file_read', 'vm.destroyed']);
    expect(await manager.list(tenantA)).toEqual([]);
  });
});
