import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const protocolSource = fileURLToPath(new URL('./packages/protocol/src/index.ts', import.meta.url));

// Tests run against the protocol's sources, so no build step is needed before `npm test`.
const alias = { '@aether/protocol': protocolSource };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          exclude: ['packages/*/src/**/*.int.test.ts', '**/node_modules/**'],
          setupFiles: ['packages/server/test/setup/console-guard.ts'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts', 'packages/server/test/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          setupFiles: ['packages/server/test/setup/console-guard.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
