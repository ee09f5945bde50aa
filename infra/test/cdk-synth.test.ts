import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `npm run synth` as a real process: no AWS credentials or profile in its environment, config from a JSON file.
const infraDir = resolve(import.meta.dirname, '..');
const tsx = resolve(infraDir, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
const work = mkdtempSync(join(tmpdir(), 'earshot-synth-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function synth(config: unknown, outdir: string, args: readonly string[] = []) {
  const file = join(work, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    CDK_OUTDIR: outdir,
    EARSHOT_DEPLOY_CONFIG: file,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // Asynchronous: a synchronous child would block this test worker for the whole synth (a minute or more on a busy
  // machine), long enough for vitest's own calls from the worker to its main process to time out (60 s).
  const child = spawn(process.execPath, [tsx, 'bin/earshot.ts', ...args], {
    cwd: infraDir,
    env,
    timeout: 120_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Each test runs a real synth process (the child is allowed 120 s): ~10 s alone, several times that on a busy machine. */
const SYNTH_TIMEOUT_MS = 240_000;

describe('npm run synth', () => {
  it(
    'writes both templates offline, with the file layered over cdk.json',
    async () => {
      const out = join(work, 'ok');
      const run = await synth({ trial: true, region: 'eu-central-1', task: { maxTasks: 3 } }, out);
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
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'synthesizes the production configuration offline with -c profile=lean and -c stackName=EarshotB',
    async () => {
      const out = join(work, 'lean');
      const domain = {
        apiDomain: 'api.earshot.example.com',
        hostedZoneId: 'Z0EXAMPLE0123456789',
        hostedZoneName: 'earshot.example.com',
      };
      const run = await synth({ domain }, out, [
        '-c',
        'profile=lean',
        '-c',
        'stackName=EarshotB',
        '-c',
        'imageTag=abc1234',
      ]);
      expect(run.stderr).not.toMatch(/Error/);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('EarshotB-foundation');
      const template = JSON.parse(readFileSync(join(out, 'EarshotB.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const types = Object.values(template.Resources).map((r) => r.Type);
      expect(types).not.toContain('AWS::EC2::EIP');
      expect(types).not.toContain('AWS::ServiceDiscovery::PrivateDnsNamespace');
      const task = Object.values(template.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition');
      expect(task?.Properties).toMatchObject({ Cpu: '256', Memory: '512' });
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'refuses to synthesize without a domain unless "trial" says so',
    async () => {
      const refused = await synth({}, join(work, 'nodomain'));
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('no domain: a production deployment needs domain.apiDomain');
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'synthesizes a trial, with a warning',
    async () => {
      const trial = await synth({ trial: true, task: { imageTag: 'abc1234' } }, join(work, 'trial'));
      expect(trial.status).toBe(0);
      expect(trial.stderr).toMatch(/WARNING Earshot: .*TRIAL|WARNING Earshot: .*trial/);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'exits 1 with a readable message for a bad configuration',
    async () => {
      const run = await synth({ trial: true, schedule: { start: '20:00', end: '08:00' } }, join(work, 'bad'));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('Invalid Earshot deployment configuration');
      expect(run.stderr).toContain('end (08:00) must be after start (20:00)');
    },
    SYNTH_TIMEOUT_MS,
  );
});
