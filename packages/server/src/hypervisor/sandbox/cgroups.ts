import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { SandboxFailedError } from '../errors.js';

/** Limits applied to one sandbox's cgroup. */
export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly vcpus: number;
  readonly pids: number;
}

/** One sandbox's cgroup, in either hierarchy. */
export interface SandboxCgroup {
  /** Every `cgroup.procs` file a process must join (one per v1 controller, one on v2). */
  readonly procsFiles: readonly string[];
  /** The OOM kills counted so far in this cgroup. */
  oomKills(): Promise<number>;
  /** Pids currently in the cgroup. */
  pids(): Promise<number[]>;
  /** Kills every process in the cgroup and waits until it is empty (bounded). */
  killAll(): Promise<void>;
  /** Kills what is left and removes the cgroup directories. */
  remove(): Promise<void>;
}

export type CgroupVersion = 'v1' | 'v2';

const CPU_PERIOD_US = 100_000;
const V1_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** Which cgroup hierarchy a root uses: v2 when `cgroup.controllers` sits at the root. */
export function detectCgroupVersion(root = '/sys/fs/cgroup'): CgroupVersion | undefined {
  if (existsSync(join(root, 'cgroup.controllers'))) return 'v2';
  if (V1_CONTROLLERS.every((controller) => existsSync(join(root, controller, 'cgroup.procs')))) return 'v1';
  return undefined;
}

async function writeControl(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (error) {
    throw new SandboxFailedError(`cgroup write ${file}=${value} failed`, { cause: error });
  }
}

async function readPids(file: string): Promise<number[]> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function killUntilEmpty(procsFiles: readonly string[]): Promise<void> {
  // v1 has no cgroup.kill: SIGKILL every listed pid until the lists stay empty. A fork bomb is
  // capped by pids.max, so the loop converges.
  for (let round = 0; round < 200; round += 1) {
    const pids = new Set((await Promise.all(procsFiles.map(readPids))).flat());
    if (pids.size === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new SandboxFailedError(`cgroup ${procsFiles.join(',')} did not empty after SIGKILL`);
}

async function removeDir(dir: string): Promise<void> {
  // A runtime (runsc) may have nested its own cgroups below ours.
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const child of children) if (child.isDirectory()) await removeDir(join(dir, child.name));
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      // EBUSY while the last killed task is still being reaped
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new SandboxFailedError(`cgroup ${dir} could not be removed`);
}

/**
 * Creates and limits sandbox cgroups under `<root>/<parent>/<name>` on cgroup v1 (memory, pids,
 * cpu controllers) or v2 (one unified directory). Swap is disabled so the memory limit is real.
 */
export class CgroupManager {
  readonly version: CgroupVersion;
  readonly #root: string;
  readonly #parent: string;

  constructor(deps: { version: CgroupVersion; root?: string; parent?: string }) {
    this.version = deps.version;
    this.#root = deps.root ?? '/sys/fs/cgroup';
    this.#parent = deps.parent ?? 'aether';
  }

  async create(name: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    if (!/^[a-zA-Z0-9_-]+$/.test(name)) throw new SandboxFailedError(`bad cgroup name ${name}`);
    return this.version === 'v2' ? this.#createV2(name, limits) : this.#createV1(name, limits);
  }

  async #createV1(name: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    const dirs = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, join(this.#root, c, this.#parent, name)])) as Record<
      (typeof V1_CONTROLLERS)[number],
      string
    >;
    for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
    const memory = String(limits.memoryBytes);
    await writeControl(join(dirs.memory, 'memory.limit_in_bytes'), memory);
    if (existsSync(join(dirs.memory, 'memory.memsw.limit_in_bytes'))) {
      await writeControl(join(dirs.memory, 'memory.memsw.limit_in_bytes'), memory);
    }
    await writeControl(join(dirs.memory, 'memory.swappiness'), '0').catch(() => undefined);
    await writeControl(join(dirs.pids, 'pids.max'), String(limits.pids));
    await writeControl(join(dirs.cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
    await writeControl(join(dirs.cpu, 'cpu.cfs_quota_us'), String(Math.round(limits.vcpus * CPU_PERIOD_US)));
    const procsFiles = Object.values(dirs).map((dir) => join(dir, 'cgroup.procs'));
    return {
      procsFiles,
      oomKills: async () => {
        const text = await readFile(join(dirs.memory, 'memory.oom_control'), 'utf8').catch(() => '');
        return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
      },
      pids: async () => [...new Set((await Promise.all(procsFiles.map(readPids))).flat())],
      killAll: () => killUntilEmpty(procsFiles),
      remove: async () => {
        await killUntilEmpty(procsFiles);
        for (const dir of Object.values(dirs)) await removeDir(dir);
      },
    };
  }

  async #createV2(name: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    const parent = join(this.#root, this.#parent);
    await mkdir(parent, { recursive: true });
    // Controllers must be enabled on the parent for the child to get the interface files.
    await writeControl(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => undefined);
    const dir = join(parent, name);
    await mkdir(dir, { recursive: true });
    await writeControl(join(dir, 'memory.max'), String(limits.memoryBytes));
    await writeControl(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
    await writeControl(join(dir, 'pids.max'), String(limits.pids));
    await writeControl(join(dir, 'cpu.max'), `${String(Math.round(limits.vcpus * CPU_PERIOD_US))} ${String(CPU_PERIOD_US)}`);
    const procsFiles = [join(dir, 'cgroup.procs')];
    const kill = async (): Promise<void> => {
      if (existsSync(join(dir, 'cgroup.kill'))) await writeControl(join(dir, 'cgroup.kill'), '1').catch(() => undefined);
      await killUntilEmpty(procsFiles);
    };
    return {
      procsFiles,
      oomKills: async () => {
        const text = await readFile(join(dir, 'memory.events'), 'utf8').catch(() => '');
        return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
      },
      pids: () => readPids(procsFiles[0] ?? ''),
      killAll: kill,
      remove: async () => {
        await kill();
        await removeDir(dir);
      },
    };
  }
}
