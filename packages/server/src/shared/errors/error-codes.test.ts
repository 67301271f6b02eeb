import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const sourceRoot = fileURLToPath(new URL('../..', import.meta.url));
const docs = readFileSync(fileURLToPath(new URL('../../../../../docs/errors.md', import.meta.url)), 'utf8');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

// Every `readonly code = 'X'` of an AppError subclass, with where it is declared.
const declared = sourceFiles(sourceRoot).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/readonly code = '([A-Z][A-Z0-9_]*)'/g)].map((match) => ({ code: match[1] ?? '', file: relative(sourceRoot, file) })),
);

describe('error codes', () => {
  it('are never shared by two error classes', () => {
    const seen = new Map<string, string>();
    const duplicates = declared.filter(({ code, file }) => {
      const first = seen.get(code);
      seen.set(code, file);
      return first !== undefined;
    });
    expect(duplicates).toEqual([]);
    expect(declared.length).toBeGreaterThan(20);
  });

  it('are each documented in docs/errors.md', () => {
    const undocumented = declared.filter(({ code }) => !docs.includes(`\`${code}\``));
    expect(undocumented).toEqual([]);
  });
});
