import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `npm run synth` as a real process: no AWS credentials or profile in its environment, config from a JSON file.
const infraDir = resolve(import.meta.dirname, '..');
const tsx = resolve(infraDir, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
const work = mkdtempSync(join(tmpdir(), 'earshot-synth-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function synth(config: unknown, outdir: string) {
  const file = join(work, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    CDK_OUTDIR: outdir,
    EARSHOT_DEPLOY_CONFIG: file,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return spawnSync(process.execPath, [tsx, 'bin/earshot.ts'], {
    cwd: infraDir,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('npm run synth', () => {
  it('writes both templates offline, with the file layered over cdk.json', () => {
    const out = join(work, 'ok');
    const run = synth({ region: 'eu-central-1', task: { maxTasks: 3 } }, out);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Earshot-foundation');
    const template = JSON.parse(readFileSync(join(out, 'Earshot.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const target = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::ApplicationAutoScaling::ScalableTarget',
    );
    expect(target?.Properties.MaxCapacity).toBe(3);
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    expect(manifest).toContain('aws://unknown-account/eu-central-1');
  });

  it('exits 1 with a readable message for a bad configuration', () => {
    const run = synth({ schedule: { start: '20:00', end: '08:00' } }, join(work, 'bad'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid Earshot deployment configuration');
    expect(run.stderr).toContain('end (08:00) must be after start (20:00)');
  });
});
