import { describe, expect, it } from 'vitest';

import { SandboxPathInvalidError } from '../errors.js';
import { resolveWorkspacePath } from './sandbox-paths.js';

describe('resolveWorkspacePath', () => {
  it('puts relative paths below /workspace and keeps absolute ones there', () => {
    expect(resolveWorkspacePath('a/b.txt')).toBe('/workspace/a/b.txt');
    expect(resolveWorkspacePath('/workspace/x/../y')).toBe('/workspace/y');
    expect(resolveWorkspacePath('./a//b')).toBe('/workspace/a/b');
  });

  it.each(['../etc/passwd', '/etc/passwd', 'a/../../x', '/workspace', '/workspace/..', '', 'a\0b', '/workspacefoo/x'])('refuses %j', (path) => {
    expect(() => resolveWorkspacePath(path)).toThrow(SandboxPathInvalidError);
  });
});
