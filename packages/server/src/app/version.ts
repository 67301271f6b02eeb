import { readFileSync } from 'node:fs';

// The server package's own version, read once from its package.json (src/ and dist/ sit beside it).
function readVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

export const VERSION = readVersion();
