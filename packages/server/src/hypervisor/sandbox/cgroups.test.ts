import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CgroupManager, detectCgroupVersion } from './cgroups.js';

// A directory standing in for /sys/fs/cgroup: checks the files written, not the kernel's reaction
// (the escape suite checks that on real cgroups).
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgroot-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('detectCgroupVersion', () => {
  it('sees v2 by its root cgroup.controllers, v1 by its controller directories, else nothing', async () => {
    expect(detectCgroupVersion(root)).toBeUndefined();
    for (const controller of ['memory', 'pids', 'cpu']) {
      await mkdir(join(root, controller), { recursive: true });
      await writeFile(join(root, controller, 'cgroup.procs'), '');
    }
    expect(detectCgroupVersion(root)).toBe('v1');
    await writeFile(join(root, 'cgroup.controllers'), 'cpu memory pids');
    expect(detectCgroupVersion(root)).toBe('v2');
  });
});

describe('CgroupManager.create', () => {
  it('writes v2 limits: memory.max, swap off, pids.max and cpu.max', async () => {
    const manager = new CgroupManager({ version: 'v2', root, parent: 'aether' });
    const cgroup = await manager.create('sb1', { memoryBytes: 256 * 1024 * 1024, vcpus: 1.5, pids: 64 });
    const dir = join(root, 'aether', 'sb1');
    expect(await readFile(join(dir, 'memory.max'), 'utf8')).toBe(String(256 * 1024 * 1024));
    expect(await readFile(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(await readFile(join(dir, 'pids.max'), 'utf8')).toBe('64');
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('150000 100000');
    expect(cgroup.procsFiles).toEqual([join(dir, 'cgroup.procs')]);
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n');
    expect(await cgroup.oomKills()).toBe(2);
  });

  it('writes v1 limits per controller', async () => {
    const manager = new CgroupManager({ version: 'v1', root, parent: 'aether' });
    await mkdir(join(root, 'memory', 'aether', 'sb2'), { recursive: true });
    await writeFile(join(root, 'memory', 'aether', 'sb2', 'memory.memsw.limit_in_bytes'), '');
    const cgroup = await manager.create('sb2', { memoryBytes: 1024, vcpus: 2, pids: 10 });
    expect(await readFile(join(root, 'memory', 'aether', 'sb2', 'memory.limit_in_bytes'), 'utf8')).toBe('1024');
    expect(await readFile(join(root, 'memory', 'aether', 'sb2', 'memory.memsw.limit_in_bytes'), 'utf8')).toBe('1024');
    expect(await readFile(join(root, 'pids', 'aether', 'sb2', 'pids.max'), 'utf8')).toBe('10');
    expect(await readFile(join(root, 'cpu', 'aether', 'sb2', 'cpu.cfs_quota_us'), 'utf8')).toBe('200000');
    expect(cgroup.procsFiles).toHaveLength(3);
  });

  it('refuses a name that could leave the parent', async () => {
    const manager = new CgroupManager({ version: 'v2', root });
    await expect(manager.create('../x', { memoryBytes: 1, vcpus: 1, pids: 1 })).rejects.toMatchObject({ code: 'SANDBOX_FAILED' });
  });
});
