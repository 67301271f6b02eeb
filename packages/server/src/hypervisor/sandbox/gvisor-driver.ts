import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { SandboxFailedError, SandboxIsolationRefusedError } from '../errors.js';
import { CgroupManager, detectCgroupVersion, type SandboxCgroup } from './cgroups.js';
import { SANDBOX_UID, writeCuratedEtc } from './curated-etc.js';
import { createFileOps } from './file-ops.js';
import type { AttachedNetwork, DriverProbe, ExecRequest, ExecResult, Sandbox, SandboxDriver, SandboxSpec } from './sandbox-driver.js';
import { isolationSatisfies } from './sandbox-driver.js';
import { spawnCaptured } from './spawn-capture.js';

const execFileAsync = promisify(execFile);
const PATH = '/usr/local/bin:/usr/bin:/bin';

export interface GvisorDriverDeps {
  readonly stateDir: string;
  readonly runscPath?: string;
  readonly cgroupRoot?: string;
  /** `ptrace` is the only platform Debian's 2022 build runs without /dev/kvm. */
  readonly platform?: 'ptrace' | 'kvm' | 'systrap';
  readonly usrDir?: string;
}

/** Builds the OCI runtime spec for one sandbox: read-only root, capped /tmp, RLIMIT_NPROC, cgroup limits. */
export function buildOciSpec(options: { spec: SandboxSpec; etcDir: string; usrDir: string; workspace: string; cgroupsPath: string; netnsPath: string | undefined }): object {
  const { spec } = options;
  return {
    ociVersion: '1.0.0',
    process: {
      terminal: false,
      user: { uid: SANDBOX_UID, gid: SANDBOX_UID },
      // The init only holds the sandbox open; work arrives through `runsc exec`.
      args: ['/usr/bin/sleep', 'infinity'],
      env: [`PATH=${PATH}`, 'HOME=/tmp', 'LANG=C.UTF-8'],
      cwd: '/workspace',
      // Without RLIMIT_NPROC a fork bomb crashes the 2022 sentry; with it, fork fails with EAGAIN.
      rlimits: [
        { type: 'RLIMIT_NPROC', hard: spec.pidsMax, soft: spec.pidsMax },
        { type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 },
      ],
      noNewPrivileges: true,
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'aether',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/usr', type: 'bind', source: options.usrDir, options: ['rbind', 'ro'] },
      { destination: '/etc', type: 'bind', source: options.etcDir, options: ['rbind', 'ro'] },
      { destination: '/etc/alternatives', type: 'bind', source: join(options.usrDir, '..', 'etc', 'alternatives'), options: ['rbind', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: [`size=${String(spec.tmpfsMb)}m`, 'mode=1777'] },
      { destination: '/workspace', type: 'bind', source: options.workspace, options: ['rbind', 'rw'] },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        options.netnsPath ? { type: 'network', path: options.netnsPath } : { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
      ],
      cgroupsPath: options.cgroupsPath,
      resources: {
        memory: { limit: spec.memoryMb * 1024 * 1024, swap: spec.memoryMb * 1024 * 1024 },
        pids: { limit: spec.pidsMax * 2 + 512 },
        cpu: { quota: Math.round(spec.vcpus * 100_000), period: 100_000 },
      },
    },
  };
}

/**
 * Sandboxes with gVisor (`runsc`): a user-space kernel between the program and the host. Each
 * sandbox is an OCI bundle started once (`run --detach`); each exec is `runsc exec` with fresh
 * pipes. A timed-out, flooding or OOM-killed run takes the sandbox down (`kill --all` + `delete
 * --force`), and the next exec starts it again over the same `/workspace`.
 */
export class GvisorDriver implements SandboxDriver {
  readonly name = 'gvisor' as const;
  readonly isolation = 'gvisor' as const;
  readonly #stateDir: string;
  readonly #runsc: string;
  readonly #platform: string;
  readonly #usrDir: string;
  readonly #cgroupRoot: string;
  #cgroups: CgroupManager | undefined;
  #prepared: Promise<void> | undefined;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: GvisorDriverDeps) {
    this.#stateDir = deps.stateDir;
    this.#runsc = deps.runscPath ?? 'runsc';
    this.#platform = deps.platform ?? 'ptrace';
    this.#usrDir = deps.usrDir ?? '/usr';
    this.#cgroupRoot = deps.cgroupRoot ?? '/sys/fs/cgroup';
  }

  /** The global runsc flags every call uses. */
  runscArgs(network: 'none' | 'host'): string[] {
    return ['--root', join(this.#stateDir, 'runsc-root'), `--platform=${this.#platform}`, `--network=${network}`];
  }

  /** Runs one runsc subcommand with the global flags. */
  async runsc(network: 'none' | 'host', args: readonly string[]): Promise<void> {
    await execFileAsync(this.#runsc, [...this.runscArgs(network), ...args], { timeout: 20_000 });
  }

  get runscPath(): string {
    return this.#runsc;
  }

  async probe(options: { readonly deep?: boolean } = {}): Promise<DriverProbe> {
    const base = { driver: this.name, isolation: this.isolation } as const;
    let version: string;
    try {
      version = (await execFileAsync(this.#runsc, ['--version'], { timeout: 5000 })).stdout.split('\n')[0]?.trim() ?? 'runsc';
    } catch {
      return { ...base, available: false, detail: 'runsc not found (Debian package runsc)' };
    }
    if (process.getuid?.() !== 0) return { ...base, available: false, version, detail: 'runsc needs root' };
    if (!detectCgroupVersion(this.#cgroupRoot)) return { ...base, available: false, version, detail: 'no usable cgroup hierarchy' };
    // Starting a sandbox costs ~300 ms and its teardown keeps a core busy for a while after: only
    // `aether doctor` asks for it.
    if (options.deep !== true) return { ...base, available: true, version, detail: `platform ${this.#platform} (not started; run aether doctor)` };
    try {
      await execFileAsync(this.#runsc, ['--root', join(this.#stateDir, 'probe-root'), `--platform=${this.#platform}`, '--network=none', 'do', '--', '/usr/bin/true'], { timeout: 20_000 });
    } catch (error) {
      return { ...base, available: false, version, detail: `runsc do failed: ${(error as Error).message.slice(0, 300)}` };
    } finally {
      await rm(join(this.#stateDir, 'probe-root'), { recursive: true, force: true });
    }
    return { ...base, available: true, version, detail: `platform ${this.#platform}` };
  }

  #prepare(): Promise<void> {
    this.#prepared ??= (async () => {
      const version = detectCgroupVersion(this.#cgroupRoot);
      if (!version) throw new SandboxIsolationRefusedError(this.name, 'cgroup');
      this.#cgroups = new CgroupManager({ version, root: this.#cgroupRoot, parent: 'aether-gvisor' });
      await mkdir(join(this.#stateDir, 'runsc-root'), { recursive: true, mode: 0o700 });
      await chmod(this.#stateDir, 0o711);
      await writeCuratedEtc(join(this.#stateDir, 'etc'), this.#usrDir);
    })();
    return this.#prepared;
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    if (!isolationSatisfies(this.isolation, spec.requiredIsolation)) throw new SandboxIsolationRefusedError(this.name, spec.requiredIsolation);
    await this.#prepare();
    const cgroups = this.#cgroups;
    if (!cgroups) throw new SandboxIsolationRefusedError(this.name, 'cgroup');
    const dir = join(this.#stateDir, spec.name);
    const bundle = join(dir, 'bundle');
    const workspace = join(dir, 'workspace');
    const cgroupName = `gv-${spec.name}`;
    let cgroup: SandboxCgroup | undefined;
    let network: AttachedNetwork | undefined;
    // A crash may have left a sandbox of the same name behind.
    await this.forceDelete(spec.name);
    await rm(dir, { recursive: true, force: true });
    try {
      await mkdir(join(bundle, 'rootfs'), { recursive: true, mode: 0o755 });
      // The gofer serves the mounts with reduced privileges: the path must be traversable.
      await chmod(dir, 0o711);
      for (const mountPoint of ['usr', 'etc', 'tmp', 'workspace', 'proc', 'dev']) await mkdir(join(bundle, 'rootfs', mountPoint), { recursive: true });
      for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) {
        await symlink(target, join(bundle, 'rootfs', link));
      }
      // The sentry checks permissions with sandbox uids; the gofer opens host files for it.
      await mkdir(workspace, { recursive: true });
      await chmod(workspace, 0o777);
      cgroup = await cgroups.create(cgroupName, { memoryBytes: spec.memoryMb * 1024 * 1024, vcpus: spec.vcpus, pids: spec.pidsMax * 2 + 512 });
      let netnsPath: string | undefined;
      if (spec.network.mode === 'proxy') {
        network = await spec.network.attach();
        netnsPath = network.namespacePath;
      }
      const oci = buildOciSpec({ spec, etcDir: join(this.#stateDir, 'etc'), usrDir: this.#usrDir, workspace, cgroupsPath: `/aether-gvisor/${cgroupName}`, netnsPath });
      await writeFile(join(bundle, 'config.json'), JSON.stringify(oci));
      const sandbox = new GvisorSandbox({ driver: this, spec, dir, bundle, cgroup, network });
      await sandbox.start();
      return sandbox;
    } catch (error) {
      await this.forceDelete(spec.name).catch(() => undefined);
      await network?.close().catch(() => undefined);
      await cgroup?.remove().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Runs slow cleanup after the caller has been answered; `settle()` waits for it. */
  background(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** `kill --all` then `delete --force`: the backstop that leaves no sandbox process behind. */
  async forceDelete(id: string, network: 'none' | 'host' = 'none'): Promise<void> {
    const base = this.runscArgs(network);
    await execFileAsync(this.#runsc, [...base, 'kill', '--all', id, 'KILL'], { timeout: 10_000 }).catch(() => undefined);
    await execFileAsync(this.#runsc, [...base, 'delete', '--force', id], { timeout: 20_000 }).catch(() => undefined);
  }
}

interface GvisorSandboxParts {
  readonly driver: GvisorDriver;
  readonly spec: SandboxSpec;
  readonly dir: string;
  readonly bundle: string;
  readonly cgroup: SandboxCgroup;
  readonly network: AttachedNetwork | undefined;
}

class GvisorSandbox implements Sandbox {
  readonly driver = 'gvisor' as const;
  readonly isolation = 'gvisor' as const;
  readonly name: string;
  readonly #parts: GvisorSandboxParts;
  readonly #files = createFileOps((request) => this.exec(request));
  readonly #networkMode: 'none' | 'host';
  #needsRestart = false;
  #destroyed: Promise<void> | undefined;

  constructor(parts: GvisorSandboxParts) {
    this.#parts = parts;
    this.name = parts.spec.name;
    // Debian's build fails with --network=sandbox; inside our own namespace, host networking is
    // the namespace's (proxy only).
    this.#networkMode = parts.network ? 'host' : 'none';
  }

  async start(): Promise<void> {
    const { driver, bundle, dir } = this.#parts;
    // The detached sandbox keeps whatever descriptors it is given: hand it no pipes (else `close`
    // never comes) and collect its errors in a file.
    const errorLog = join(dir, 'runsc-run.log');
    const log = await open(errorLog, 'w');
    try {
      const child = spawn(driver.runscPath, [...driver.runscArgs(this.#networkMode), 'run', '--detach', '--bundle', bundle, this.name], { stdio: ['ignore', 'ignore', log.fd], env: {} });
      const exitCode = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve(code ?? -1);
        });
      });
      if (exitCode !== 0) throw new SandboxFailedError(`runsc run failed (${String(exitCode)}): ${(await readFile(errorLog, 'utf8')).slice(-500)}`);
    } finally {
      await log.close();
    }
    this.#needsRestart = false;
  }

  async #restart(): Promise<void> {
    await this.#parts.driver.forceDelete(this.name, this.#networkMode);
    await this.#parts.cgroup.killAll();
    await this.start();
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    if (this.#destroyed) throw new SandboxIsolationRefusedError('gvisor', 'a destroyed sandbox');
    if (this.#needsRestart) await this.#restart();
    const { driver, cgroup, network } = this.#parts;
    const proxyEnv = network ? { http_proxy: network.proxyUrl, https_proxy: network.proxyUrl, HTTP_PROXY: network.proxyUrl, HTTPS_PROXY: network.proxyUrl } : {};
    const env = Object.entries({ PATH, HOME: '/tmp', LANG: 'C.UTF-8', ...proxyEnv, ...request.env }).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
    const oomBefore = await cgroup.oomKills();
    const run = await spawnCaptured({
      command: driver.runscPath,
      args: [...driver.runscArgs(this.#networkMode), 'exec', '--user', `${String(SANDBOX_UID)}:${String(SANDBOX_UID)}`, '--cwd', request.cwd ?? '/workspace', ...env, this.name, ...request.argv],
      env: {},
      stdin: request.stdin,
      timeoutMs: request.timeoutMs,
      outputCapBytes: request.outputCapBytes,
      signal: request.signal,
      // Killing `runsc exec` would leave the process running in the sandbox: take the sandbox down.
      kill: async (pid) => {
        this.#needsRestart = true;
        await driver.forceDelete(this.name, this.#networkMode);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited with its sandbox
        }
      },
    });
    const oomKilled = (await cgroup.oomKills()) > oomBefore;
    // An OOM kill on the host takes the sentry with it; "urpc ... EOF" means the sandbox died.
    if (oomKilled || /urpc|sandbox .* not running|EOF/.test(run.stderr.toString('utf8').slice(-500))) this.#needsRestart = true;
    if (this.#needsRestart && (run.timedOut || run.truncated)) await cgroup.killAll();
    return { ...run, oomKilled };
  }

  writeFile(path: string, data: Uint8Array | string): Promise<void> {
    return this.#files.writeFile(path, data);
  }

  readFile(path: string, options?: { readonly maxBytes?: number }): Promise<Buffer> {
    return this.#files.readFile(path, options);
  }

  processes(): Promise<number[]> {
    return this.#parts.cgroup.pids();
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      const { driver, cgroup, network, dir } = this.#parts;
      // SIGKILL every process of the sandbox (sentry, gofer, ptrace stubs) through its cgroup: once
      // this returns nothing of it runs. `runsc delete --force` then takes ~1.7 s on this build
      // for its own bookkeeping, so it and the directory removal finish in the background.
      await driver.runsc(this.#networkMode, ['kill', '--all', this.name, 'KILL']).catch(() => undefined);
      await cgroup.killAll();
      driver.background((async () => {
        await driver.forceDelete(this.name, this.#networkMode);
        await cgroup.remove();
        await network?.close();
        await rm(dir, { recursive: true, force: true });
      })());
    })();
    return this.#destroyed;
  }
}
