// Resolve hook for bench/built-code.mjs: a module under packages/server/src/ resolves to its
// compiled twin under packages/server/dist/ when there is one.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../packages/server/src/', import.meta.url));
const compiled = fileURLToPath(new URL('../packages/server/dist/', import.meta.url));
const twins = new Map();

function compiledTwin(url) {
  if (!url.startsWith('file:')) return undefined;
  const path = fileURLToPath(url);
  if (!path.startsWith(source) || !path.endsWith('.ts') || path.includes('/testing/') || path.endsWith('.test.ts')) return undefined;
  let twin = twins.get(path);
  if (twin === undefined) {
    const candidate = `${compiled}${path.slice(source.length, -'.ts'.length)}.js`;
    twin = existsSync(candidate) ? pathToFileURL(candidate).href : null;
    twins.set(path, twin);
  }
  return twin ?? undefined;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const twin = compiledTwin(resolved.url);
  return twin === undefined ? resolved : { ...resolved, url: twin, format: 'module' };
}
