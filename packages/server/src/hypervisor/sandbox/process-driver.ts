import { constants } from 'node:fs';
import { mkdir, open, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import type { Logger } from '../../shared/ports/index.js';
import { PayloadTooLargeError } from '../../shared/errors/index.js';
import { SandboxFileNotFoundError, SandboxIsolationRefusedError, SandboxPathInvalidError } from '../errors.js';
import type { DriverProbe, ExecRequest, ExecResult, Sandbox, SandboxDriver, SandboxSpec } from './sandbox-driver.js';
import { resolveWorkspacePath } from './sandbox-paths.js';
import { spawnCaptured } from './spawn-capture.js';

/**
 * The laptop fallback: a plain child process in its own process group and working directory,
 * with a cleared environment, a wall-time limit and an output cap. It isolates NOTHING else, so it
 * refuses every spec that requires isolation (SecureVM, RESTRICTED and CRITICAL work) and warns
 * on every sandbox it creates.
 */
export class ProcessDriver implements SandboxDriver {
  readonly name = 'process' as const;
  readonly isolation = 'none' as const;
  readonly #stateDir: string;
  readonly #log: Logger;

  constructor(deps: { stateDir: string; logger: Logger }) {
    this.#stateDir = deps.stateDir;
    this.#log = deps.logger.child({ module: 'hypervisor.process-driver' });
  }

  probe(): Promise<DriverProbe> {
    return Promise.resolve({ driver: this.name, isolation: this.isolation, available: true, detail: 'no isolation: development only' });
  }

  settle(): Promise<void> {
    return Promise.resolve();
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    if (spec.requiredIsolation !== 'none') throw new SandboxIsolationRefusedError(this.name, spec.requiredIsolation);
    if (spec.network.mode !== 'none') throw new SandboxIsolationRefusedError(this.name, 'network-policy');
    this.#log.warn('sandbox.unisolated', { sandbox: spec.name, reason: 'process driver: no namespaces, no cgroups, host filesystem visible' });
    const dir = join(this.#stateDir, spec.name);
    const workspace = join(dir, 'workspace');
    await mkdir(workspace, { recursive: true, mode: 0o700 });
    return new ProcessSandbox(spec.name, dir, workspace);
  }
}

class ProcessSandbox implements Sandbox {
  readonly driver = 'process' as const;
  readonly isolation = 'none' as const;
  readonly name: string;
  readonly #dir: string;
  readonly #workspace: string;
  readonly #groups = new Set<number>();

  constructor(name: string, dir: string, workspace: string) {
    this.name = name;
    this.#dir = dir;
    this.#workspace = workspace;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const cwd = request.cwd === undefined || request.cwd === '/workspace' ? this.#workspace : request.cwd.replace(/^\/workspace\//, `${this.#workspace}/`);
    const [command, ...args] = request.argv;
    if (command === undefined) throw new SandboxIsolationRefusedError('process', 'an empty argv');
    let group: number | undefined;
    const run = await spawnCaptured({
      command,
      args,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: this.#workspace, LANG: 'C.UTF-8', ...request.env },
      stdin: request.stdin,
      timeoutMs: request.timeoutMs,
      outputCapBytes: request.outputCapBytes,
      signal: request.signal,
      cwd,
      detached: true,
      kill: (pid) => {
        group = pid;
        process.kill(-pid, 'SIGKILL');
      },
    }).catch((error: unknown) => ({ exitCode: 127, stdout: Buffer.alloc(0), stderr: Buffer.from(String(error)), timedOut: false, truncated: false, durationMs: 0 }));
    if (group !== undefined) this.#groups.delete(group);
    return { ...run, oomKilled: false };
  }

  // No mount namespace here: the host path is checked after resolving links, and the final
  // component is opened with O_NOFOLLOW.
  async writeFile(path: string, data: Uint8Array | string): Promise<void> {
    const target = await this.#hostPath(path, true);
    const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  }

  async readFile(path: string, options?: { readonly maxBytes?: number }): Promise<Buffer> {
    const target = await this.#hostPath(path, false);
    const handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
      if (['ENOENT', 'ELOOP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw new SandboxFileNotFoundError(path);
      throw error;
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new SandboxFileNotFoundError(path);
      const maxBytes = options?.maxBytes ?? 64 * 1024 * 1024;
      if (info.size > maxBytes) throw new PayloadTooLargeError(`${path} is larger than ${String(maxBytes)} bytes`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async #hostPath(path: string, create: boolean): Promise<string> {
    const inside = resolveWorkspacePath(path);
    const target = join(this.#workspace, inside.slice('/workspace/'.length));
    const parent = dirname(target);
    if (create) await mkdir(parent, { recursive: true });
    const realParent = await realpath(parent).catch(() => {
      throw new SandboxFileNotFoundError(path);
    });
    const realRoot = await realpath(this.#workspace);
    if (realParent !== realRoot && !realParent.startsWith(`${realRoot}/`)) throw new SandboxPathInvalidError(path, 'resolves outside /workspace');
    return join(realParent, basename(target));
  }

  processes(): Promise<number[]> {
    return Promise.resolve([]);
  }

  async destroy(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}
