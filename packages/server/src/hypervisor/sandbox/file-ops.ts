import { PayloadTooLargeError } from '../../shared/errors/index.js';
import { SandboxFailedError, SandboxFileNotFoundError } from '../errors.js';
import type { ExecRequest, ExecResult } from './sandbox-driver.js';
import { READ_FILE_ARGV, READ_FILE_MISSING, resolveWorkspacePath, WRITE_FILE_ARGV } from './sandbox-paths.js';

const DEFAULT_MAX_READ = 64 * 1024 * 1024;
const FILE_OP_TIMEOUT_MS = 30_000;

/**
 * File I/O done by a process inside the sandbox itself: the path is resolved in the sandbox's
 * mount namespace as the sandbox's uid, so `..` and symlinks cannot reach anything on the host.
 */
export function createFileOps(exec: (request: ExecRequest) => Promise<ExecResult>): {
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readFile(path: string, options?: { readonly maxBytes?: number }): Promise<Buffer>;
} {
  return {
    async writeFile(path, data) {
      const target = resolveWorkspacePath(path);
      const result = await exec({ argv: WRITE_FILE_ARGV(target), stdin: data, timeoutMs: FILE_OP_TIMEOUT_MS, outputCapBytes: 4096 });
      if (result.exitCode !== 0) {
        throw new SandboxFailedError(`writing ${target} failed (${String(result.exitCode)}): ${result.stderr.toString('utf8').slice(0, 500)}`);
      }
    },
    async readFile(path, options) {
      const target = resolveWorkspacePath(path);
      const maxBytes = options?.maxBytes ?? DEFAULT_MAX_READ;
      const result = await exec({ argv: READ_FILE_ARGV(target), timeoutMs: FILE_OP_TIMEOUT_MS, outputCapBytes: maxBytes + 1 });
      if (result.exitCode === READ_FILE_MISSING) throw new SandboxFileNotFoundError(target);
      if (result.truncated || result.stdout.length > maxBytes) throw new PayloadTooLargeError(`${target} is larger than ${String(maxBytes)} bytes`);
      if (result.exitCode !== 0) {
        throw new SandboxFailedError(`reading ${target} failed (${String(result.exitCode)}): ${result.stderr.toString('utf8').slice(0, 500)}`);
      }
      return result.stdout;
    },
  };
}
