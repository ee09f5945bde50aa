import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '..', '..');
interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions: Record<string, string>;
  readonly jobs: Record<string, { readonly steps: Step[]; readonly container?: string }>;
}
const load = (name: string): Workflow =>
  parse(readFileSync(resolve(root, '.github/workflows', name), 'utf8'), {
    strict: true,
    uniqueKeys: true,
  }) as Workflow;

describe('GitHub Actions workflows', () => {
  it('test.yml runs the CI script (apt nginx/Chromium, npm ci, type-check, lint, npm test) and an offline synth', () => {
    const wf = load('test.yml');
    expect(Object.keys(wf.on)).toEqual(['push', 'pull_request']);
    expect(wf.permissions).toEqual({ contents: 'read' });
    const job = wf.jobs.test;
    expect(job?.container).toMatch(/^node:\d+-bookworm$/);
    const runs = (job?.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('./.ci/run');
    expect(runs).toContain('npm run synth -- -c earshotConfigFile=config/example.json -c profile=lean');
    expect(runs).toContain('npm run cost -- -c earshotConfigFile=config/example.json');
    expect(readFileSync(resolve(root, '.ci/run'), 'utf8')).toMatch(
      /apt-get install[\s\S]*npm ci[\s\S]*npm run typecheck\nnpm run lint\nnpm test/,
    );
  });

  it('deploy.yml uses OIDC, deploys the foundation, pushes an arm64 image, then deploys the service with that tag', () => {
    const wf = load('deploy.yml');
    expect(wf.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    const steps = wf.jobs.deploy?.steps ?? [];
    const index = (pred: (s: Step) => boolean) => {
      const i = steps.findIndex(pred);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    const creds = index((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') === true);
    expect(steps[creds]?.with?.['role-to-assume']).toBe('${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    const foundation = index((s) => /cdk deploy "\$\{STACK\}-foundation"/.test(s.run ?? ''));
    const push = index((s) => s.uses?.startsWith('docker/build-push-action@') === true);
    expect(steps[push]?.with).toMatchObject({ platforms: 'linux/arm64', push: true, file: 'Dockerfile' });
    // The commit SHA only: no mutable tag is pushed, and the service is deployed with that tag.
    expect(String(steps[push]?.with?.tags)).not.toContain(':latest');
    const config = index((s) => (s.run ?? '').includes('> "${EARSHOT_DEPLOY_CONFIG}"'));
    expect(config).toBeLessThan(index((s) => /cdk deploy/.test(s.run ?? '')));
    const web = index((s) => (s.run ?? '').includes('npm run build -w web'));
    const service = index((s) => /cdk deploy "\$\{STACK\}" .*-c imageTag=/s.test(s.run ?? ''));
    expect(creds).toBeLessThan(foundation);
    expect(foundation).toBeLessThan(push);
    expect(push).toBeLessThan(service);
    expect(web).toBeLessThan(service);
  });

  it('rejects YAML that is not valid (the parser is strict)', () => {
    expect((): unknown => parse('a: 1\na: 2\n', { uniqueKeys: true })).toThrow();
  });
});
