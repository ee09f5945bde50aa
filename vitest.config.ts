import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript sources under this condition, so tests need no build.
    conditions: ['@earshot/source'],
  },
  ssr: { resolve: { conditions: ['@earshot/source'] } },
  test: {
    include: ['**/src/**/*.test.ts', '**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'infra/cdk.out/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll ends as soon as its condition holds; the default 1 s limit failed browser tests when a full run
    // kept both cores busy (a page's first speech took longer than that to start).
    expect: { poll: { timeout: 10_000 } },
    // Two cores: real servers, nginx and Chromium run inside tests, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
