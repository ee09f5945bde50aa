import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'infra/cdk.out/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      // Types come from the root tsconfig.json solution, which holds every file (tests, infra, web with its DOM lib).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
      // Off: `async` without `await` is how we implement promise-returning interfaces and Fastify handlers (a throw becomes a rejection).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.test.ts', 'bench/**', '**/cli/**', 'infra/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    // Off in tests: vitest types asymmetric matchers (expect.any, expect.stringContaining) as `any` to fit any slot.
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['packages/flite/src/worker.js'],
    // Off here: plain-JS worker whose WebAssembly global and messages are deliberately `any` (Node's types lack WebAssembly).
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    // Browser code for the player page.
    files: ['server/public/**/*.js', 'web/**/*.{js,ts}'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
