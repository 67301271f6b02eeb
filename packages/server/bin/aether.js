#!/usr/bin/env node
// The `aether` command. A committed shim, so npm links it at install time even before the build.
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `aether needs Node >= 22.12, this is ${process.versions.node}: run it as "npx aether" or through npm scripts, which use the project's Node 24\n`,
  );
  process.exit(2);
}

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('aether is not built yet: run "npm run build" (or "npm start") in the repository first\n');
  process.exit(2);
}
await import(entry.href);
