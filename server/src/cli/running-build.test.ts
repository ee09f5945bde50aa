import { describe, expect, it } from 'vitest';
import { describeBuild } from './running-build.js';

describe("earshot doctor's line on what runs", () => {
  it('names the bundle, the sources through tsx, or another build, from where the code was loaded', () => {
    expect(describeBuild('file:///repo/server/dist/bundle/chunk-AB12.js')).toBe(
      'the bundle /repo/server/dist/bundle (npm run build made it)',
    );
    expect(describeBuild('file:///repo/server/src/cli/compile-cache.ts')).toMatch(
      /^the TypeScript sources through tsx, which starts slower: a source changed since the bundle was built/,
    );
    expect(describeBuild('file:///app/node_modules/earshot/dist/chunk-1.js')).toBe(
      'the build in /app/node_modules/earshot/dist',
    );
  });
});
