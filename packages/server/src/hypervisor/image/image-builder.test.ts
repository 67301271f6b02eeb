import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ImageBuildFailedError } from '../errors.js';
import { AETHER_LINUX_PACKAGES, buildImage, debootstrapArgs } from './image-builder.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aether-image-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('debootstrapArgs', () => {
  it('asks for a minbase bookworm with the spec §05 tools', () => {
    const args = debootstrapArgs({ targetDir: '/x', extraPackages: ['nmap'] }, '/x.partial');
    expect(args[0]).toBe('--variant=minbase');
    expect(args[1]).toBe(`--include=${[...AETHER_LINUX_PACKAGES, 'nmap'].join(',')}`);
    expect(args.slice(2)).toEqual(['bookworm', '/x.partial', 'http://deb.debian.org/debian']);
  });

  it('refuses a package name that could smuggle an option', () => {
    expect(() => debootstrapArgs({ targetDir: '/x', extraPackages: ['--foo'] }, '/x.partial')).toThrow(ImageBuildFailedError);
  });
});

// A stand-in debootstrap (a shell script) checks the orchestration: partial directory, manifest,
// atomic rename, failure cleanup. Real debootstrap needs a Debian mirror, which tests do not reach.
describe('buildImage', () => {
  it('says which package to install when debootstrap is missing', async () => {
    await expect(buildImage({ targetDir: join(dir, 'img'), debootstrapPath: join(dir, 'none') })).rejects.toThrow(/debootstrap/);
  });

  it('moves a finished build into place with its manifest', async () => {
    const fake = join(dir, 'debootstrap');
    await writeFile(fake, '#!/bin/sh\nmkdir -p "$4/usr/bin" && echo built\n');
    await chmod(fake, 0o755);
    const lines: string[] = [];
    const manifest = await buildImage({ targetDir: join(dir, 'img'), debootstrapPath: fake, onOutput: (line) => lines.push(line) });
    expect(manifest).toMatchObject({ name: 'aether-linux', suite: 'bookworm' });
    expect(JSON.parse(await readFile(join(dir, 'img', '.aether-image.json'), 'utf8'))).toMatchObject({ name: 'aether-linux' });
    expect(lines).toContain('built');
    await expect(buildImage({ targetDir: join(dir, 'img'), debootstrapPath: fake })).rejects.toThrow(/already exists/);
  });

  it('removes a failed build and reports the exit status', async () => {
    const fake = join(dir, 'debootstrap');
    await writeFile(fake, '#!/bin/sh\nmkdir -p "$4"; exit 3\n');
    await chmod(fake, 0o755);
    await expect(buildImage({ targetDir: join(dir, 'img'), debootstrapPath: fake })).rejects.toThrow(/exited 3/);
  });
});
