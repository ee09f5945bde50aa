import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll } from 'vitest';

const outdirs: string[] = [];

/**
 * A CDK app that synthesises into a folder of its own, removed when the test file ends. A bare `new App()` writes
 * each synthesis (10–22 MB with the assets) to a `cdk.out…` folder in the system's temp folder and leaves it there:
 * a few hundred MB per test run.
 */
export function testApp(): App {
  const outdir = mkdtempSync(join(tmpdir(), 'earshot-cdk-test-'));
  outdirs.push(outdir);
  return new App({ outdir });
}

afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
