import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { ValidationError } from '../../shared/errors/index.js';

/** Reads the 32-byte master key from its file, refusing a file that others can read. */
export async function readMasterKeyFile(file: string): Promise<Buffer | undefined> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((mode & 0o077) !== 0) {
    throw new ValidationError(`master key file ${file} must not be readable by group or others (chmod 600 it)`, { file });
  }
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  if (key.length !== 32) throw new ValidationError(`master key file ${file} must hold 64 hex characters`, { file });
  return key;
}

/** Creates the master key file with mode 0600 if it does not exist, and returns the key. */
export async function ensureMasterKeyFile(file: string): Promise<Buffer> {
  const existing = await readMasterKeyFile(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then that key wins.
  try {
    await writeFile(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const winner = await readMasterKeyFile(file);
      if (winner) return winner;
    }
    throw error;
  }
  await chmod(file, 0o600);
  return key;
}
