// ESLint flat config: typescript-eslint strictTypeChecked plus the house rules of STYLE.md §2.13.
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import n from 'eslint-plugin-n';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs', 'packages/dashboard/vite.config.ts'],
  },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX, n },
    // Cycle detection follows only our own files; parsing bundled dependencies is slow and pointless.
    // The legacy default resolver named "node" loads the `node` devDependency (the Node binary
    // package) instead of a resolver and crashes on packages like @google/genai; name it explicitly.
    settings: { 'import-x/ignore': ['node_modules'], 'import-x/resolver-next': [createNodeResolver()] },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off', // noUncheckedIndexedAccess already forces the checks it flags
      '@typescript-eslint/no-extraneous-class': 'off',
      // Handlers implement Promise-returning ports; an async body without await is the clearest form.
      '@typescript-eslint/require-await': 'off',
      'max-params': ['error', 3],
      'no-console': 'error',
      'n/no-process-env': 'error',
      'n/prefer-node-protocol': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['packages/server/src/cli/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['packages/server/src/app/config.ts', '**/testing/**', 'bench/**', '**/*.test.ts', '**/*.int.test.ts', 'packages/server/test/**'],
    rules: { 'n/no-process-env': 'off' },
  },
  {
    files: ['**/*.test.ts', '**/*.int.test.ts', 'packages/server/test/**', '**/testing/**', '**/*.contract.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'max-params': 'off',
    },
  },
  {
    // Dashboard: features import only shared code, never each other (STYLE.md §2.12).
    files: ['packages/dashboard/src/**'],
    rules: { 'n/no-process-env': 'off' },
  },
);
