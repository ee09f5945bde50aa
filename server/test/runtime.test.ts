// The repo pins a supported Node LTS as the `node` dev dependency, so `npm start` and `npm test` run on it even on a
// machine whose system Node is older (npm scripts put node_modules/.bin first on PATH).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const rootManifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
};

describe('runtime', () => {
  it('tests run on the Node the repo pins, a supported LTS (22 or 24), not the system Node', () => {
    const pinned = rootManifest.devDependencies.node;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(process.versions.node).toBe(pinned);
    expect([22, 24]).toContain(Number(pinned!.split('.')[0]));
  });
});
