#!/usr/bin/env node
// The `aether` command. A committed shim, so npm links it at install time even before the build.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('aether is not built yet: run "npm run build" (or "npm start") in the repository first\n');
  process.exit(2);
}
await import(entry.href);
