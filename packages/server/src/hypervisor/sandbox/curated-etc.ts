import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The uid and gid every sandboxed program runs as, inside its sandbox. */
export const SANDBOX_UID = 1000;

/** Curated /etc: just enough for libc, no shadow, no host users, no resolver (no DNS inside). */
export async function writeCuratedEtc(dir: string, usrDir = '/usr'): Promise<void> {
  // The loader cache must match the /usr the sandbox sees: the host's, or the image's.
  const ldCache = join(usrDir, '..', 'etc', 'ld.so.cache');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFile(join(dir, 'passwd'), `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nsandbox:x:${String(SANDBOX_UID)}:${String(SANDBOX_UID)}:sandbox:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
  await writeFile(join(dir, 'group'), `root:x:0:\nsandbox:x:${String(SANDBOX_UID)}:\nnogroup:x:65534:\n`);
  await writeFile(join(dir, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  await writeFile(join(dir, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files\n');
  await writeFile(join(dir, 'resolv.conf'), '');
  await writeFile(join(dir, 'hostname'), 'aether\n');
  if (existsSync(ldCache)) await copyFile(ldCache, join(dir, 'ld.so.cache'));
  for (const sub of ['alternatives', 'ssl']) await mkdir(join(dir, sub), { recursive: true });
}

