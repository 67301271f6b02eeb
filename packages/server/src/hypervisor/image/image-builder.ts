import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { ImageBuildFailedError } from '../errors.js';

/**
 * The AETHER-LINUX tool set of spec §05, as Debian packages. Left out: docker (no engine inside a
 * sandbox), llama.cpp and playwright (not packaged in Debian 12), nmap and wireshark (RESTRICTED
 * only: an operator adds them with `extraPackages`).
 */
export const AETHER_LINUX_PACKAGES: readonly string[] = [
  'bash', 'zsh', 'python3', 'python3-pandas', 'nodejs', 'gcc', 'g++', 'rustc', 'build-essential', 'git',
  'ffmpeg', 'imagemagick', 'jq', 'sqlite3', 'curl', 'httpie', 'busybox', 'ca-certificates',
];

export interface ImageBuildOptions {
  /** Where the root file system goes; set AETHER_HYPERVISOR_IMAGE to it afterwards. */
  readonly targetDir: string;
  readonly suite?: string;
  readonly mirror?: string;
  readonly extraPackages?: readonly string[];
  readonly debootstrapPath?: string;
  /** Receives debootstrap's output lines as they come. */
  readonly onOutput?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** What `.aether-image.json` in an image records, and every run that uses the image reports. */
export interface ImageManifest {
  readonly name: 'aether-linux';
  readonly suite: string;
  readonly mirror: string;
  readonly packages: readonly string[];
  readonly builtAt: string;
}

/** The debootstrap command line for an image build. */
export function debootstrapArgs(options: ImageBuildOptions, buildDir: string): string[] {
  const packages = [...AETHER_LINUX_PACKAGES, ...(options.extraPackages ?? [])];
  for (const name of packages) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new ImageBuildFailedError(`invalid package name ${name}`);
  return ['--variant=minbase', `--include=${packages.join(',')}`, options.suite ?? 'bookworm', buildDir, options.mirror ?? 'http://deb.debian.org/debian'];
}

/**
 * Builds the AETHER-LINUX root file system with debootstrap into a temporary directory and moves
 * it into place only when complete, with a manifest beside it.
 * @throws {ImageBuildFailedError} when debootstrap is missing or fails.
 */
export async function buildImage(options: ImageBuildOptions): Promise<ImageManifest> {
  const debootstrap = options.debootstrapPath ?? '/usr/sbin/debootstrap';
  if (!existsSync(debootstrap)) throw new ImageBuildFailedError(`${debootstrap} not found: install the Debian package debootstrap`);
  const target = resolve(options.targetDir);
  if (existsSync(target)) throw new ImageBuildFailedError(`${target} already exists; remove it or choose another directory`);
  const buildDir = `${target}.partial`;
  await rm(buildDir, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  const args = debootstrapArgs(options, buildDir);
  const code = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(debootstrap, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) options.onOutput?.(line);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('close', (status) => { resolvePromise(status ?? -1); });
  }).catch((error: unknown) => {
    throw new ImageBuildFailedError('debootstrap could not run', { cause: error });
  });
  if (code !== 0) {
    const log = await readFile(join(buildDir, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
    await rm(buildDir, { recursive: true, force: true });
    throw new ImageBuildFailedError(`debootstrap exited ${String(code)}: ${log.slice(-500)}`);
  }
  const manifest: ImageManifest = { name: 'aether-linux', suite: options.suite ?? 'bookworm', mirror: options.mirror ?? 'http://deb.debian.org/debian', packages: [...AETHER_LINUX_PACKAGES, ...(options.extraPackages ?? [])], builtAt: new Date().toISOString() };
  await writeFile(join(buildDir, '.aether-image.json'), JSON.stringify(manifest, null, 2));
  await rename(buildDir, target);
  return manifest;
}
