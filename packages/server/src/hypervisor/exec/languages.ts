import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ToolchainMissingError } from '../errors.js';

const execFileAsync = promisify(execFile);

export type Language = 'python' | 'javascript' | 'typescript' | 'rust' | 'c' | 'cpp' | 'bash';
export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'typescript', 'rust', 'c', 'cpp', 'bash'];

/** How one language is built and run inside a sandbox's /workspace. */
export interface LanguageSpec {
  readonly language: Language;
  /** The file the `source` field is written to. */
  readonly mainFile: string;
  /** Binaries (looked up under the sandbox's /usr/bin) and the Debian package providing each. */
  readonly toolchain: readonly { readonly binary: string; readonly debianPackage: string }[];
  readonly compile?: readonly string[];
  readonly run: readonly string[];
  /** Memory a default run gets; compilers need more than the MicroVM's 256 MB. */
  readonly defaultMemoryMb: number;
}

export const LANGUAGE_SPECS: Readonly<Record<Language, LanguageSpec>> = {
  python: { language: 'python', mainFile: 'main.py', toolchain: [{ binary: 'python3', debianPackage: 'python3' }], run: ['python3', '-I', 'main.py'], defaultMemoryMb: 256 },
  javascript: { language: 'javascript', mainFile: 'main.js', toolchain: [{ binary: 'node', debianPackage: 'nodejs' }], run: ['node', 'main.js'], defaultMemoryMb: 256 },
  // Node strips TypeScript types itself from 22.6 on; older Node on the host cannot run TS.
  typescript: { language: 'typescript', mainFile: 'main.ts', toolchain: [{ binary: 'node', debianPackage: 'nodejs (>= 22.6)' }], run: ['node', '--experimental-strip-types', '--no-warnings', 'main.ts'], defaultMemoryMb: 256 },
  rust: { language: 'rust', mainFile: 'main.rs', toolchain: [{ binary: 'rustc', debianPackage: 'rustc' }], compile: ['rustc', '-O', '-o', 'main', 'main.rs'], run: ['./main'], defaultMemoryMb: 1024 },
  c: { language: 'c', mainFile: 'main.c', toolchain: [{ binary: 'gcc', debianPackage: 'gcc' }], compile: ['gcc', '-O2', '-o', 'main', 'main.c', '-lm'], run: ['./main'], defaultMemoryMb: 512 },
  cpp: { language: 'cpp', mainFile: 'main.cpp', toolchain: [{ binary: 'g++', debianPackage: 'g++' }], compile: ['g++', '-O2', '-o', 'main', 'main.cpp'], run: ['./main'], defaultMemoryMb: 512 },
  bash: { language: 'bash', mainFile: 'main.sh', toolchain: [{ binary: 'bash', debianPackage: 'bash' }], run: ['bash', 'main.sh'], defaultMemoryMb: 256 },
};

/**
 * Checks that a language's toolchain exists in the file set sandboxes see (`usrDir`, the host's
 * /usr by default).
 * @throws {ToolchainMissingError} naming the Debian package to install.
 */
export async function assertToolchain(spec: LanguageSpec, usrDir: string): Promise<void> {
  for (const tool of spec.toolchain) {
    const path = join(usrDir, 'bin', tool.binary);
    if (!existsSync(path)) throw new ToolchainMissingError(spec.language, tool.binary, tool.debianPackage);
  }
  if (spec.language === 'typescript') {
    const version = (await execFileAsync(join(usrDir, 'bin', 'node'), ['--version'], { timeout: 5000 }).catch(() => ({ stdout: 'v0.0.0' }))).stdout.trim();
    const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 6)) throw new ToolchainMissingError('typescript', `node ${version} (needs >= 22.6 to strip types)`, 'nodejs (>= 22.6)');
  }
}
