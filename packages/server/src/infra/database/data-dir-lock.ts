import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { ConflictError } from '../../shared/errors/index.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on an embedded database directory: PGlite is single-process, and two
 * processes writing one data directory would corrupt it. A lock left by a dead process is taken over.
 * @throws {ConflictError} when a live process holds the lock.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, 'aether.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new ConflictError(
          `The embedded database at ${dataDir} is in use by process ${String(holder)}; stop it first, or point AETHER_DATABASE_URL at PostgreSQL to run several processes`,
          { details: { data_dir: dataDir, pid: holder } },
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new ConflictError(`Could not lock the embedded database at ${dataDir}`, { details: { data_dir: dataDir } });
}
