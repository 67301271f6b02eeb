import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { silentLogger } from '../../shared/ports/index.js';
import { SandboxIsolationRefusedError, SandboxPathInvalidError, SandboxFileNotFoundError } from '../errors.js';
import { createSandboxDrivers, probeSandboxes } from './probe.js';
import type { DriverName, Sandbox, SandboxDriver, SandboxSpec } from './sandbox-driver.js';
import { SYSCALL_PROBE_C } from './syscall-probe.c.js';

// The escape suite: every case runs against every driver the probe finds on this host, each
// with a hard deadline. CI installs bubblewrap and runsc and runs as root, so both run there.
const stateDir = await mkdtemp(join(tmpdir(), 'aether-conformance-'));
// bwrap runs as a per-sandbox uid that must be able to traverse to its workspace.
await chmod(stateDir, 0o711);
const drivers = createSandboxDrivers({ stateDir, logger: silentLogger });
const probes = await probeSandboxes(drivers, { deep: true });
const isolating = probes.filter((probe) => probe.available && probe.driver !== 'process').map((probe) => probe.driver);

let counter = 0;
const specFor = (driver: SandboxDriver, overrides: Partial<SandboxSpec> = {}): SandboxSpec => ({
  name: `conf-${driver.name}-${String(process.pid)}-${String((counter += 1))}`,
  vcpus: 1,
  memoryMb: 256,
  pidsMax: 64,
  tmpfsMb: 16,
  network: { mode: 'none' },
  requiredIsolation: driver.isolation,
  ...overrides,
});

const CASE_MS = 60_000;
let probeBinary: Buffer | undefined;
let hostSecretDir = '';
let hostServer: Server | undefined;
let hostPort = 0;

beforeAll(async () => {
  hostSecretDir = await mkdtemp(join(tmpdir(), 'aether-secret-'));
  await writeFile(join(hostSecretDir, 'secret.txt'), 'TOP-SECRET-HOST-DATA');
  const source = join(hostSecretDir, 'probe.c');
  await writeFile(source, SYSCALL_PROBE_C);
  execFileSync('gcc', ['-static', '-O1', '-o', join(hostSecretDir, 'probe'), source]);
  const { readFile } = await import('node:fs/promises');
  probeBinary = await readFile(join(hostSecretDir, 'probe'));
  hostServer = createServer((socket) => socket.end('HOST-SERVICE\n'));
  await new Promise<void>((resolve) => hostServer?.listen(0, '127.0.0.1', resolve));
  const address = hostServer.address();
  hostPort = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    if (hostServer) hostServer.close(() => { resolve(); });
    else resolve();
  });
  await rm(hostSecretDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

describe('probeSandboxes', () => {
  it('reports every driver with a reason, and the process driver is always available', () => {
    expect(probes.map((probe) => probe.driver)).toEqual(['gvisor', 'bwrap', 'process']);
    for (const probe of probes) expect(probe.detail.length).toBeGreaterThan(0);
    expect(probes.find((probe) => probe.driver === 'process')?.available).toBe(true);
  });
});

describe('ProcessDriver.create', () => {
  it('refuses work that needs isolation, loudly', async () => {
    await expect(drivers.process.create(specFor(drivers.process, { requiredIsolation: 'namespaces' }))).rejects.toBeInstanceOf(SandboxIsolationRefusedError);
    await expect(drivers.process.create(specFor(drivers.process, { requiredIsolation: 'gvisor' }))).rejects.toBeInstanceOf(SandboxIsolationRefusedError);
  });
});

describe.each(isolating)('%s sandbox (escape suite)', (driverName: DriverName) => {
  const driver = drivers[driverName];
  const live: Sandbox[] = [];
  const create = async (overrides: Partial<SandboxSpec> = {}): Promise<Sandbox> => {
    const sandbox = await driver.create(specFor(driver, overrides));
    live.push(sandbox);
    return sandbox;
  };
  const run = (sandbox: Sandbox, argv: string[], extra: { stdin?: string; timeoutMs?: number; outputCapBytes?: number } = {}) =>
    sandbox.exec({ argv, timeoutMs: extra.timeoutMs ?? 20_000, outputCapBytes: extra.outputCapBytes ?? 1024 * 1024, ...(extra.stdin === undefined ? {} : { stdin: extra.stdin }) });
  let shared: Sandbox;

  beforeAll(async () => {
    shared = await create();
  }, CASE_MS);

  afterAll(async () => {
    for (const sandbox of live) await sandbox.destroy();
    await driver.settle();
    // nothing left behind: no cgroups, no state directories
    for (const controller of ['memory', 'pids', 'cpu']) {
      const parent = `/sys/fs/cgroup/${controller}/aether-${driverName}`;
      if (existsSync(parent)) {
        const left = (await readdir(parent)).filter((name) => name.includes(`conf-${driverName}-${String(process.pid)}`));
        expect(left).toEqual([]);
      }
    }
    const dirs = existsSync(join(stateDir, driverName)) ? await readdir(join(stateDir, driverName)) : [];
    expect(dirs.filter((name) => name.startsWith('conf-'))).toEqual([]);
  }, CASE_MS);

  it('passes exit codes, stdin and stdout through', async () => {
    const result = await run(shared, ['/bin/sh', '-c', 'cat; echo out; echo err >&2; exit 7'], { stdin: 'from-stdin\n' });
    expect(result.exitCode).toBe(7);
    expect(result.stdout.toString()).toBe('from-stdin\nout\n');
    expect(result.stderr.toString()).toBe('err\n');
    expect(result.timedOut).toBe(false);
  }, CASE_MS);

  it('runs as an unprivileged user with a cleared environment', async () => {
    const result = await run(shared, ['/bin/sh', '-c', 'id -u; env | cut -d= -f1 | sort | tr "\\n" " "']);
    const [uid, keys] = result.stdout.toString().split('\n');
    expect(uid).toBe('1000');
    expect(keys?.trim().split(' ').sort()).toEqual(['HOME', 'LANG', 'PATH', 'PWD']);
  }, CASE_MS);

  it('keeps the root read-only and /tmp writable up to its size cap', async () => {
    const root = await run(shared, ['/bin/sh', '-c', 'echo x > /usr/evil || echo x > /evil || echo denied']);
    expect(root.stdout.toString()).toBe('denied\n');
    const small = await run(shared, ['/bin/sh', '-c', 'head -c 1048576 /dev/zero > /tmp/ok && wc -c < /tmp/ok']);
    expect(small.stdout.toString().trim()).toBe('1048576');
    const big = await run(shared, ['/bin/sh', '-c', 'head -c 33554432 /dev/zero > /tmp/big; echo rc=$?']);
    expect(big.stdout.toString()).not.toContain('rc=0');
  }, CASE_MS);

  it('hides host secrets: /etc/shadow, the host users, the data directory, other sandboxes', async () => {
    const other = await create();
    await other.writeFile('private.txt', 'OTHER-VM-SECRET');
    const result = await run(shared, ['/bin/sh', '-c', `cat /etc/shadow; cat ${hostSecretDir}/secret.txt; cat ${join(stateDir, driverName, other.name, 'workspace', 'private.txt')}; cat /etc/passwd; ls /workspace; ls /root /home 2>&1`]);
    const output = result.stdout.toString() + result.stderr.toString();
    expect(output).not.toContain('TOP-SECRET-HOST-DATA');
    expect(output).not.toContain('OTHER-VM-SECRET');
    expect(output).not.toMatch(/root:x:0:0:root:\/root/);
    expect(output).toContain('sandbox:x:1000');
  }, CASE_MS);

  it('has no network: a host service on 127.0.0.1 is unreachable and there is no DNS', async () => {
    const script = `import socket\ntry:\n  s=socket.create_connection(("127.0.0.1", ${String(hostPort)}), timeout=3); print("CONNECTED", s.recv(20))\nexcept Exception as e: print("blocked", type(e).__name__)\ntry:\n  socket.getaddrinfo("example.com", 80); print("DNS-RESOLVED")\nexcept Exception as e: print("nodns", type(e).__name__)\n`;
    const result = await run(shared, ['python3', '-c', script]);
    expect(result.stdout.toString()).toContain('blocked');
    expect(result.stdout.toString()).toContain('nodns');
    expect(result.stdout.toString()).not.toContain('HOST-SERVICE');
  }, CASE_MS);

  it('kills a program that allocates 512 MB under a 256 MB limit and reports oom_killed', async () => {
    const sandbox = await create();
    const result = await run(sandbox, ['python3', '-c', 'x = bytearray(512 * 1024 * 1024)\nprint("survived")']);
    expect(result.oomKilled).toBe(true);
    expect(result.stdout.toString()).not.toContain('survived');
    const after = await run(sandbox, ['/bin/sh', '-c', 'echo alive']);
    expect(after.stdout.toString()).toBe('alive\n');
  }, CASE_MS);

  it('contains a fork bomb while the host stays responsive, and leaves nothing behind', async () => {
    const sandbox = await create();
    const bomb = run(sandbox, ['/bin/bash', '-c', 'b() { b | b & }; b; sleep 30'], { timeoutMs: 4000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = performance.now();
    execFileSync('/bin/true');
    expect(performance.now() - started).toBeLessThan(2000);
    const result = await bomb;
    expect(result.timedOut).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (driverName === 'bwrap') expect(await sandbox.processes()).toEqual([]);
    const after = await run(sandbox, ['/bin/sh', '-c', 'echo alive']);
    expect(after.stdout.toString()).toBe('alive\n');
  }, CASE_MS);

  it('kills a CPU spin at the wall-time limit with nothing left behind', async () => {
    const sandbox = await create();
    const result = await run(sandbox, ['/bin/sh', '-c', 'while :; do :; done'], { timeoutMs: 1500 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(10_000);
    if (driverName === 'bwrap') expect(await sandbox.processes()).toEqual([]);
  }, CASE_MS);

  it('leaves no process behind once destroy() returns', async () => {
    const sandbox = await create();
    const pending = run(sandbox, ['/bin/sh', '-c', 'sleep 60 & sleep 60'], { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await sandbox.processes()).length).toBeGreaterThan(0);
    await sandbox.destroy();
    expect(await sandbox.processes()).toEqual([]);
    await pending;
  }, CASE_MS);

  it('truncates an output flood at the cap', async () => {
    const result = await run(shared, ['/usr/bin/yes', 'flood'], { outputCapBytes: 64 * 1024 });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBe(64 * 1024);
  }, CASE_MS);

  it('denies or confines dangerous syscalls (ptrace, unshare, mount, keyctl, bpf, userfaultfd, perf, TIOCSTI)', async () => {
    if (!probeBinary) throw new Error('probe binary missing');
    await shared.writeFile('probe', probeBinary);
    const result = await run(shared, ['/bin/sh', '-c', 'chmod +x /workspace/probe && /workspace/probe']);
    const lines: Record<string, { rc: number; errno: number }> = Object.fromEntries(result.stdout.toString().trim().split('\n').map((line): [string, { rc: number; errno: number }] => {
      const [name = '', rc, errno] = line.split(' ');
      return [name, { rc: Number(rc), errno: Number(errno) }];
    }));
    const names = ['ptrace', 'unshare', 'mount', 'keyctl', 'bpf', 'userfaultfd', 'perf_event_open', 'tiocsti'];
    expect(Object.keys(lines)).toEqual(names);
    if (driverName === 'bwrap') {
      // seccomp answers EPERM before the kernel looks at anything
      for (const name of names) expect(lines[name], name).toEqual({ rc: -1, errno: 1 });
    } else {
      // ptrace and unshare are implemented by gVisor's sentry itself (confined to the user-space
      // kernel; the host never sees them). The rest must fail, mount even after unshare.
      for (const name of ['mount', 'keyctl', 'bpf', 'userfaultfd', 'perf_event_open', 'tiocsti']) expect(lines[name]?.rc, name).toBe(-1);
    }
  }, CASE_MS);

  it('refuses `..` paths and keeps symlinks inside the sandbox', async () => {
    await expect(shared.writeFile('../../etc/passwd', 'x')).rejects.toBeInstanceOf(SandboxPathInvalidError);
    await expect(shared.readFile('/etc/passwd')).rejects.toBeInstanceOf(SandboxPathInvalidError);
    await expect(shared.readFile('a/../../x')).rejects.toBeInstanceOf(SandboxPathInvalidError);
    await run(shared, ['/bin/sh', '-c', `ln -sf /etc/passwd /workspace/link; ln -sfn / /workspace/rootlink; ln -sf ${hostSecretDir}/secret.txt /workspace/hostlink`]);
    expect((await shared.readFile('link')).toString()).toContain('sandbox:x:1000');
    await expect(shared.readFile('hostlink')).rejects.toBeInstanceOf(SandboxFileNotFoundError);
    await expect(shared.writeFile('rootlink/etc/passwd', 'owned')).rejects.toThrow();
    await shared.writeFile('link', 'replaced-link');
    expect((await shared.readFile('link')).toString()).toBe('replaced-link');
    expect(execFileSync('cat', ['/etc/passwd']).toString()).not.toContain('owned');
    await expect(shared.readFile('missing.txt')).rejects.toBeInstanceOf(SandboxFileNotFoundError);
  }, CASE_MS);
});
