/* eslint-disable no-console -- this guard replaces console methods to catch unexpected output */
import { afterEach, beforeEach } from 'vitest';

// A test that writes to the console unexpectedly fails (openai-agents' console guard):
// modules log through the Logger port, and only cli/ prints, through an injected writer.
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
let written: string[] = [];
const originals = new Map<(typeof methods)[number], (...args: unknown[]) => void>();

beforeEach(() => {
  written = [];
  for (const method of methods) {
    originals.set(method, console[method]);
    console[method] = (...args: unknown[]) => {
      written.push(`console.${method}: ${args.map(String).join(' ')}`);
    };
  }
});

afterEach(() => {
  for (const [method, original] of originals) console[method] = original;
  if (written.length > 0) {
    throw new Error(`test wrote to the console:\n${written.join('\n')}`);
  }
});
