import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { InMemoryAuditSink } from '../packages/server/src/infra/audit/index.js';
import { asTenantId, systemContext } from '../packages/server/src/shared/context/index.js';
import { UlidIdGenerator } from '../packages/server/src/shared/ids/index.js';
import { SystemClock, silentLogger } from '../packages/server/src/shared/ports/index.js';
import { BwrapDriver, createSandboxDrivers, detectCgroupVersion, probeSandboxes, type DriverName } from '../packages/server/src/hypervisor/sandbox/index.js';
import { InMemoryVmStore, StaticQuotaSource, VmManager } from '../packages/server/src/hypervisor/vm/index.js';
import { percentile, timeEach, type BenchFigure, type BenchSuite } from './harness.js';

const execFileAsync = promisify(execFile);
const round = (value: number): number => Math.round(value * 10) / 10;

/** Runs a command with fresh pipes, fd 3 optional, and resolves on exit. */
function run(command: string, args: readonly string[], fd3?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: fd3 ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'], env: {} });
    if (fd3) (child.stdio[3] as NodeJS.WritableStream).end(fd3);
    child.stdout?.resume();
    child.stderr?.resume();
    child.on('error', reject);
    child.on('close', (code) => { resolve(code ?? -1); });
  });
}

async function benchDriver(driverName: DriverName, stateDir: string, record: (figure: BenchFigure) => void): Promise<void> {
  const drivers = createSandboxDrivers({ stateDir, logger: silentLogger });
  const probes = await probeSandboxes(drivers);
  const driver = drivers[driverName];
  const ctx = systemContext(asTenantId('tnt_bench'), 'bench');
  const manager = new VmManager({
    drivers, probes, store: new InMemoryVmStore(), quotas: new StaticQuotaSource({ maxVms: 100, maxVcpus: 100, maxMemoryMb: 1_000_000 }),
    audit: new InMemoryAuditSink(), clock: new SystemClock(), ids: new UlidIdGenerator(), logger: silentLogger,
    options: { policy: { driverByType: { microvm: driverName }, allowNamespaceSecureVm: false, allowUnisolated: false }, poolSizes: { microvm: 2 }, image: 'host', reaperIntervalMs: 3_600_000, maxExecTimeoutMs: 60_000, maxOutputBytes: 1 << 20 },
  });
  await manager.start();
  try {
    // Cold start: create + exec `true` + destroy, through the driver.
    const cold = await timeEach(8, async (index) => {
      const sandbox = await driver.create({ name: `bench-cold-${driverName}-${String(index)}`, vcpus: 1, memoryMb: 256, pidsMax: 128, tmpfsMb: 64, network: { mode: 'none' }, requiredIsolation: driver.isolation });
      await sandbox.exec({ argv: ['/usr/bin/true'], timeoutMs: 30_000, outputCapBytes: 1024 });
      await sandbox.destroy();
    });
    // Warm exec from the pool, through the manager.
    const vm = await manager.create(ctx, { type: 'microvm' });
    await manager.exec(ctx, vm.id, { argv: ['/usr/bin/true'] });
    const warm = await timeEach(20, () => manager.exec(ctx, vm.id, { argv: ['/usr/bin/true'] }));

    let rawCold: number[];
    let rawWarm: number[];
    let rawName: string;
    let rawColdName: string;
    let rawPython: (sandboxName: string) => Promise<number>;
    if (driverName === 'bwrap') {
      if (!(driver instanceof BwrapDriver)) throw new Error('expected the bwrap driver');
      const bwrap = driver;
      const workspace = await mkdtemp(join(stateDir, 'raw-'));
      await chmod(workspace, 0o777);
      // The same command line the driver runs, joining the same VM's cgroups.
      const procsFiles = detectCgroupVersion() === 'v2'
        ? [`/sys/fs/cgroup/aether-bwrap/sb-${vm.sandboxName}/cgroup.procs`]
        : ['memory', 'pids', 'cpu'].map((controller) => `/sys/fs/cgroup/${controller}/aether-bwrap/sb-${vm.sandboxName}/cgroup.procs`);
      const line = bwrap.commandLine({ uid: 65534, workspace, tmpfsMb: 64, procsFiles, netnsPath: undefined, env: {}, cwd: '/workspace', argv: ['/usr/bin/true'] });
      rawName = 'raw sh+setpriv+bwrap `true` (same command line)';
      rawColdName = rawName;
      rawWarm = await timeEach(20, () => run(line.command, line.args, bwrap.seccompProgram));
      rawCold = rawWarm;
      const pythonLine = bwrap.commandLine({ uid: 65534, workspace, tmpfsMb: 64, procsFiles, netnsPath: undefined, env: {}, cwd: '/workspace', argv: ['python3', '-c', 'pass'] });
      rawPython = () => run(pythonLine.command, pythonLine.args, bwrap.seccompProgram);
    } else {
      const runsc = ['--root', join(stateDir, 'gvisor', 'runsc-root'), '--platform=ptrace', '--network=none'];
      rawName = 'raw `runsc exec <pre-created sandbox> true`';
      rawWarm = await timeEach(20, () => run('runsc', [...runsc, 'exec', '--user', '1000:1000', vm.sandboxName, '/usr/bin/true']));
      rawPython = (sandboxName) => run('runsc', [...runsc, 'exec', '--user', '1000:1000', '--env', 'PATH=/usr/bin:/bin', sandboxName, 'python3', '-c', 'pass']);
      // Raw cold start: `runsc run` of the same bundle with `true` as its process.
      const bundle = join(stateDir, 'gvisor', vm.sandboxName, 'bundle');
      const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[] }; linux: { cgroupsPath?: string } };
      config.process.args = ['/usr/bin/true'];
      delete config.linux.cgroupsPath;
      const rawBundle = join(stateDir, 'gvisor', vm.sandboxName, 'raw-bundle');
      await mkdir(rawBundle, { recursive: true });
      await writeFile(join(rawBundle, 'config.json'), JSON.stringify(config));
      await execFileAsync('ln', ['-s', join(bundle, 'rootfs'), join(rawBundle, 'rootfs')]);
      rawColdName = 'raw `runsc run` of the same bundle with `true`';
      rawCold = await timeEach(8, async (index) => {
        await run('runsc', [...runsc, 'run', '--bundle', rawBundle, `rawcold-${String(process.pid)}-${String(index)}`]);
        await run('runsc', [...runsc, 'delete', '--force', `rawcold-${String(process.pid)}-${String(index)}`]);
      });
    }
    const coldP50 = percentile(cold, 50);
    record({ name: `${driverName} cold start (create + exec true + destroy) p50`, value: round(coldP50), unit: 'ms', baselineName: `${rawColdName} p50`, baseline: round(percentile(rawCold, 50)) });
    record({ name: `${driverName} cold start p95`, value: round(percentile(cold, 95)), unit: 'ms', baselineName: `${rawColdName} p95`, baseline: round(percentile(rawCold, 95)) });
    const warmP50 = percentile(warm, 50);
    const rawWarmP50 = percentile(rawWarm, 50);
    const goal = driverName === 'bwrap' ? '<= 50 ms and <= 1.2x raw' : '<= 1.1x raw';
    const met = driverName === 'bwrap' ? warmP50 <= 50 && warmP50 <= 1.2 * rawWarmP50 : warmP50 <= 1.1 * rawWarmP50;
    record({ name: `${driverName} warm MicroVM exec p50 (manager, pooled VM)`, value: round(warmP50), unit: 'ms', baselineName: `${rawName} p50`, baseline: round(rawWarmP50), goal, met });

    // 8 concurrent python starts on 8 pooled-or-new MicroVMs, through the manager, beside the same
    // 8 raw driver commands started at once.
    const vms = await Promise.all(Array.from({ length: 8 }, () => manager.create(ctx, { type: 'microvm' })));
    const python = ['python3', '-c', 'pass'];
    const concurrent = await timeEach(3, () => Promise.all(vms.map((item) => manager.exec(ctx, item.id, { argv: python }))));
    const rawConcurrent = await timeEach(3, () => Promise.all(vms.map((item) => rawPython(item.sandboxName))));
    record({ name: `${driverName} 8 concurrent python starts (wall, manager) p50`, value: round(percentile(concurrent, 50)), unit: 'ms', baselineName: `8 concurrent ${rawName.replace('`true`', '`python3 -c pass`').replace(' true`', ' python3 -c pass`')} p50`, baseline: round(percentile(rawConcurrent, 50)), goal: 'ratio <= 1.2', met: percentile(concurrent, 50) <= 1.2 * percentile(rawConcurrent, 50) });
  } finally {
    await manager.close();
  }
}

export const suite: BenchSuite = {
  name: 'hypervisor',
  requires: ['bwrap'],
  async run(record) {
    const stateDir = await mkdtemp(join(tmpdir(), 'aether-bench-hv-'));
    await chmod(stateDir, 0o711);
    try {
      const probes = await probeSandboxes(createSandboxDrivers({ stateDir, logger: silentLogger }));
      for (const probe of probes) {
        if (probe.available && probe.driver !== 'process') await benchDriver(probe.driver, stateDir, record);
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  },
};
