import { posix } from 'node:path';

import { SandboxPathInvalidError } from '../errors.js';

/** The directory that persists inside every sandbox, and the only place file APIs reach. */
export const WORKSPACE = '/workspace';

/**
 * Turns a caller's path into an absolute path below `/workspace`, lexically. The file itself is
 * then opened inside the sandbox, so a symlink planted there resolves in the sandbox's own mount
 * namespace and cannot reach the host either.
 * @throws {SandboxPathInvalidError} for empty paths, NUL bytes, or paths that leave `/workspace`.
 */
export function resolveWorkspacePath(path: string): string {
  if (path.length === 0) throw new SandboxPathInvalidError(path, 'empty');
  if (path.includes('\0')) throw new SandboxPathInvalidError(path, 'contains NUL');
  if (path.length > 4096) throw new SandboxPathInvalidError(path.slice(0, 64), 'longer than 4096 bytes');
  const absolute = posix.isAbsolute(path) ? posix.normalize(path) : posix.normalize(posix.join(WORKSPACE, path));
  if (absolute === WORKSPACE || !absolute.startsWith(`${WORKSPACE}/`)) {
    throw new SandboxPathInvalidError(path, `must name a file below ${WORKSPACE}`);
  }
  return absolute;
}

/** Shell snippets run inside a sandbox for file I/O (argv[1] is the resolved path). */
export const READ_FILE_ARGV = (path: string): string[] => [
  '/bin/sh',
  '-c',
  'if [ ! -f "$1" ]; then exit 66; fi; exec cat -- "$1"',
  'sh',
  path,
];
export const WRITE_FILE_ARGV = (path: string): string[] => [
  '/bin/sh',
  '-c',
  'mkdir -p -- "$(dirname -- "$1")" && if [ -L "$1" ]; then rm -f -- "$1"; fi && cat > "$1"',
  'sh',
  path,
];
/** Exit status READ_FILE_ARGV uses for "no such regular file". */
export const READ_FILE_MISSING = 66;
