import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { SandboxFailedError, SandboxIsolationRefusedError } from '../errors.js';
import { CgroupManager, detectCgroupVersion, type SandboxCgroup } from './cgroups.js';
import { SANDBOX_UID, writeCuratedEtc } from './curated-etc.js';
import { createFileOps } from './file-ops.js';
import type { AttachedNetwork, DriverProbe, ExecRequest, ExecResult, Sandbox, SandboxDriver, SandboxSpec } from './sandbox-driver.js';
import { isolationSatisfies } from './sandbox-driver.js';
import { buildSandboxSeccompProgram } from './seccomp-bpf.js';
import { spawnCaptured } from './spawn-capture.js';
import { UidSlots } from './uid-slots.js';

const execFileAsync = promisify(execFile);

export interface BwrapDriverDeps {
  /** Where sandboxes' workspaces and the curated /etc live; must be traversable by other uids. */
  readonly stateDir: string;
  readonly cgroupRoot?: string;
  /** Host uid range for sandboxes: slot N runs as `uidBase + N`. */
  readonly uidBase?: number;
  readonly slots?: number;
  readonly bwrapPath?: string;
  /** Paths mounted read-only as the sandbox's `/usr`; default the host's. */
  readonly usrDir?: string;
}

const PATH = '/usr/local/bin:/usr/bin:/bin';
// sh joins the cgroups before anything of the sandbox runs, so no child can start outside them.
const JOIN_CGROUPS = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

/**
 * Sandboxes with bubblewrap: new user/pid/ipc/uts/cgroup/mount (and net) namespaces, host `/usr`
 * read-only, curated `/etc`, read-only root, capped `/tmp`, persistent `/workspace`, seccomp
 * filter, `--new-session`, cleared environment, one unprivileged host uid per sandbox and a
 * cgroup per sandbox (v1 or v2) holding memory, CPU and pid limits.
 */
export class BwrapDriver implements SandboxDriver {
  readonly name = 'bwrap' as const;
  readonly isolation = 'namespaces' as const;
  readonly #stateDir: string;
  readonly #bwrap: string;
  readonly #usrDir: string;
  readonly #cgroupRoot: string;
  readonly #slots: UidSlots;
  readonly #seccomp = buildSandboxSeccompProgram();
  #cgroups: CgroupManager | undefined;
  #prepared: Promise<void> | undefined;

  constructor(deps: BwrapDriverDeps) {
    this.#stateDir = deps.stateDir;
    this.#bwrap = deps.bwrapPath ?? 'bwrap';
    this.#usrDir = deps.usrDir ?? '/usr';
    this.#cgroupRoot = deps.cgroupRoot ?? '/sys/fs/cgroup';
    this.#slots = new UidSlots(deps.uidBase ?? 200_000, deps.slots ?? 4096);
  }

  async probe(): Promise<DriverProbe> {
    const base = { driver: this.name, isolation: this.isolation } as const;
    let version: string;
    try {
      version = (await execFileAsync(this.#bwrap, ['--version'], { timeout: 5000 })).stdout.trim();
    } catch {
      return { ...base, available: false, detail: 'bwrap not found (Debian package bubblewrap)' };
    }
    if (process.getuid?.() !== 0) return { ...base, available: false, version, detail: 'needs root for per-sandbox uids and cgroups' };
    const cgroupVersion = detectCgroupVersion(this.#cgroupRoot);
    if (!cgroupVersion) return { ...base, available: false, version, detail: 'no usable cgroup hierarchy (memory, pids, cpu)' };
    try {
      await execFileAsync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', this.#bwrap, '--unshare-all', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '/usr/bin/true'], { timeout: 10_000 });
    } catch (error) {
      return { ...base, available: false, version, detail: `unprivileged user namespaces do not work: ${(error as Error).message}` };
    }
    return { ...base, available: true, version, detail: `cgroup ${cgroupVersion}, seccomp, per-sandbox uid` };
  }

  #prepare(): Promise<void> {
    this.#prepared ??= (async () => {
      const version = detectCgroupVersion(this.#cgroupRoot);
      if (!version) throw new SandboxIsolationRefusedError(this.name, 'cgroup');
      this.#cgroups = new CgroupManager({ version, root: this.#cgroupRoot, parent: 'aether-bwrap' });
      await mkdir(this.#stateDir, { recursive: true });
      await chmod(this.#stateDir, 0o711);
      await assertTraversable(this.#stateDir);
      await writeCuratedEtc(join(this.#stateDir, 'etc'), this.#usrDir);
    })();
    return this.#prepared;
  }

  settle(): Promise<void> {
    return Promise.resolve();
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    if (!isolationSatisfies(this.isolation, spec.requiredIsolation)) {
      throw new SandboxIsolationRefusedError(this.name, spec.requiredIsolation);
    }
    await this.#prepare();
    const cgroups = this.#cgroups;
    if (!cgroups) throw new SandboxIsolationRefusedError(this.name, 'cgroup');
    const uid = this.#slots.acquire();
    const dir = join(this.#stateDir, spec.name);
    const workspace = join(dir, 'workspace');
    let cgroup: SandboxCgroup | undefined;
    let network: AttachedNetwork | undefined;
    let netnsPath: string | undefined;
    try {
      await mkdir(workspace, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o711);
      await chown(workspace, uid, uid);
      cgroup = await cgroups.create(`sb-${spec.name}`, { memoryBytes: spec.memoryMb * 1024 * 1024, vcpus: spec.vcpus, pids: spec.pidsMax });
      if (spec.network.mode === 'proxy') {
        network = await spec.network.attach();
        netnsPath = network.namespacePath;
      }
    } catch (error) {
      await network?.close().catch(() => undefined);
      await cgroup?.remove().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      this.#slots.release(uid);
      throw error;
    }
    return new BwrapSandbox({ driver: this, spec, uid, dir, workspace, cgroup, network, netnsPath, release: () => { this.#slots.release(uid); } });
  }

  /** The full host command line for one exec (also used by the benchmark's raw baseline). */
  commandLine(options: { uid: number; workspace: string; tmpfsMb: number; procsFiles: readonly string[]; netnsPath: string | undefined; env: Readonly<Record<string, string>>; cwd: string; argv: readonly string[] }): { command: string; args: string[] } {
    const etc = join(this.#stateDir, 'etc');
    const envArgs = Object.entries({ PATH, HOME: '/tmp', LANG: 'C.UTF-8', ...options.env }).flatMap(([key, value]) => ['--setenv', key, value]);
    const bwrapArgs = [
      this.#bwrap,
      '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
      ...(options.netnsPath ? [] : ['--unshare-net']),
      '--disable-userns',
      '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--hostname', 'aether',
      '--die-with-parent', '--new-session', '--clearenv', '--cap-drop', 'ALL',
      '--ro-bind', this.#usrDir, '/usr',
      '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
      '--ro-bind', etc, '/etc',
      '--ro-bind-try', join(this.#usrDir, '..', 'etc', 'alternatives'), '/etc/alternatives',
      '--ro-bind-try', '/etc/ssl', '/etc/ssl',
      '--proc', '/proc', '--dev', '/dev',
      '--size', String(options.tmpfsMb * 1024 * 1024), '--tmpfs', '/tmp',
      '--bind', options.workspace, '/workspace',
      '--remount-ro', '/',
      '--chdir', options.cwd,
      ...envArgs,
      '--seccomp', '3',
      '--',
      ...options.argv,
    ];
    const dropPrivileges = ['setpriv', `--reuid=${String(options.uid)}`, `--regid=${String(options.uid)}`, '--clear-groups', '--inh-caps=-all'];
    const enterNetns = options.netnsPath ? ['nsenter', `--net=${options.netnsPath}`] : [];
    return {
      command: '/bin/sh',
      args: ['-c', JOIN_CGROUPS, 'sh', String(options.procsFiles.length), ...options.procsFiles, ...enterNetns, ...dropPrivileges, ...bwrapArgs],
    };
  }

  get seccompProgram(): Buffer {
    return this.#seccomp;
  }
}

/** bwrap runs as the sandbox's uid, which must be able to reach its workspace through every parent. */
async function assertTraversable(dir: string): Promise<void> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) {
      throw new SandboxFailedError(`sandbox state directory ${dir} is not reachable by sandbox uids: ${current} lacks o+x`);
    }
    if (current === dirname(current)) return;
  }
}

interface BwrapSandboxParts {
  readonly driver: BwrapDriver;
  readonly spec: SandboxSpec;
  readonly uid: number;
  readonly dir: string;
  readonly workspace: string;
  readonly cgroup: SandboxCgroup;
  readonly network: AttachedNetwork | undefined;
  readonly netnsPath: string | undefined;
  readonly release: () => void;
}

class BwrapSandbox implements Sandbox {
  readonly driver = 'bwrap' as const;
  readonly isolation = 'namespaces' as const;
  readonly name: string;
  readonly #parts: BwrapSandboxParts;
  readonly #files = createFileOps((request) => this.exec(request));
  #running = 0;
  #destroyed: Promise<void> | undefined;

  constructor(parts: BwrapSandboxParts) {
    this.#parts = parts;
    this.name = parts.spec.name;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    if (this.#destroyed) throw new SandboxIsolationRefusedError('bwrap', 'a destroyed sandbox');
    const { driver, spec, uid, workspace, cgroup, network, netnsPath } = this.#parts;
    const proxyEnv = network ? { http_proxy: network.proxyUrl, https_proxy: network.proxyUrl, HTTP_PROXY: network.proxyUrl, HTTPS_PROXY: network.proxyUrl } : {};
    const line = driver.commandLine({ uid, workspace, tmpfsMb: spec.tmpfsMb, procsFiles: cgroup.procsFiles, netnsPath, env: { ...proxyEnv, ...request.env }, cwd: request.cwd ?? '/workspace', argv: request.argv });
    const oomBefore = await cgroup.oomKills();
    this.#running += 1;
    try {
      const run = await spawnCaptured({ command: line.command, args: line.args, env: {}, stdin: request.stdin, timeoutMs: request.timeoutMs, outputCapBytes: request.outputCapBytes, signal: request.signal, fd3Data: driver.seccompProgram });
      // bwrap's init dies with bwrap (--die-with-parent), taking the pid namespace with it; the
      // cgroup sweep catches anything that was still being torn down.
      if ((run.timedOut || run.truncated) && this.#running === 1) await cgroup.killAll();
      const oomKilled = (await cgroup.oomKills()) > oomBefore;
      return { ...run, oomKilled };
    } finally {
      this.#running -= 1;
    }
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
      const { cgroup, network, dir, release } = this.#parts;
      await cgroup.remove();
      await network?.close();
      await rm(dir, { recursive: true, force: true });
      release();
    })();
    return this.#destroyed;
  }
}
