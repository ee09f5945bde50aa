// Issue 10's defects, each as an assertion on the synthesized production templates (a domain with a hosted zone),
// and the lean profile's promises. Where a defect is about what runs on the instance, the real-process tests are
// named next to it (proxy-render, nginx-*, proxy-nat).
import { runInNewContext } from 'node:vm';
import { Template } from 'aws-cdk-lib/assertions';
import { FLAGS, SynthesisMessageLevel } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEarshotApp, FEATURE_FLAGS } from '../src/app.js';
import { parseConfig, type EarshotConfigInput } from '../src/config.js';
import { SPA_ROUTES_FUNCTION } from '../src/constructs/console-spa.js';
import { API_PATHS } from '../src/constructs/console-site.js';
import { testApp } from './support/test-app.js';

const domain = {
  apiDomain: 'api.earshot.example.com',
  hostedZoneId: 'Z0EXAMPLE0123456789',
  hostedZoneName: 'earshot.example.com',
};

interface Built {
  readonly service: Template;
  readonly foundation: Template;
  readonly stackName: string;
  readonly warnings: string[];
}

function build(raw: EarshotConfigInput): Built {
  const { app, service, foundation } = buildEarshotApp(parseConfig(raw), { app: testApp() });
  const assembly = app.synth();
  const warnings = assembly.stacks.flatMap((s) =>
    s.messages
      .filter((m) => m.level === SynthesisMessageLevel.WARNING)
      .map((m) => (typeof m.entry.data === 'string' ? m.entry.data : JSON.stringify(m.entry.data))),
  );
  return {
    service: Template.fromStack(service),
    foundation: Template.fromStack(foundation),
    stackName: service.stackName,
    warnings,
  };
}

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  CreationPolicy?: unknown;
};
const resources = (t: Template): Record<string, Resource> =>
  (t.toJSON() as { Resources: Record<string, Resource> }).Resources;
const ofType = (t: Template, type: string): [string, Resource][] =>
  Object.entries(resources(t)).filter(([, r]) => r.Type === type);
const one = (t: Template, type: string): [string, Resource] => {
  const found = ofType(t, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

/** Properties that name a resource in the account (two stacks in one account and region must not share one). */
const PHYSICAL_NAME_KEYS = new Set([
  'LaunchTemplateName',
  'ServiceName',
  'ClusterName',
  'Name',
  'LogGroupName',
  'BucketName',
  'TableName',
  'FunctionName',
  'RoleName',
  'TopicName',
  'AlarmName',
  'RepositoryName',
  'SecretName',
  'GroupName',
  'ScheduleGroupName',
  'BudgetName',
  'DashboardName',
]);

/**
 * Names scoped to something of their own stack (a record in the configured zone is the configuration's choice, a
 * Cloud Map service lives in the stack's namespace): not account-wide.
 */
const SCOPED_TYPES = new Set([
  'AWS::Route53::RecordSet',
  'AWS::ServiceDiscovery::Service',
  'AWS::EC2::VPCEndpoint',
]);
/** A reference to another resource of the template (whose own name is checked where it is defined). */
const isReference = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && ('Ref' in value || 'Fn::GetAtt' in value);

/** Every top-level physical name in the templates, as "Type.Key=value", resolved or not. */
function physicalNames(templates: readonly Template[]): Set<string> {
  const names = new Set<string>();
  for (const t of templates) {
    for (const r of Object.values(resources(t))) {
      if (SCOPED_TYPES.has(r.Type)) continue;
      for (const [key, value] of Object.entries(r.Properties ?? {})) {
        if (PHYSICAL_NAME_KEYS.has(key) && !isReference(value))
          names.add(`${r.Type}.${key}=${JSON.stringify(value)}`);
      }
    }
  }
  return names;
}

let prod: Built;
let lean: Built;
let second: Built;
let trial: Built;

beforeAll(() => {
  prod = build({ domain, task: { imageTag: 'abc1234' } });
  lean = build({ domain, profile: 'lean', task: { imageTag: 'abc1234' } });
  // A second deployment names its own API (the zone may be the same).
  second = build({
    domain: { ...domain, apiDomain: 'b.earshot.example.com' },
    stackName: 'EarshotB',
    task: { imageTag: 'abc1234' },
  });
  trial = build({ trial: true, task: { imageTag: 'abc1234' } });
});

describe('1. a second stack in the same account and region', () => {
  it('shares no physical name with the first, in either profile', () => {
    for (const profile of ['default', 'lean'] as const) {
      const a = profile === 'default' ? prod : lean;
      const b =
        profile === 'default'
          ? second
          : build({
              domain: { ...domain, apiDomain: 'b.earshot.example.com' },
              profile,
              stackName: 'EarshotB',
              task: { imageTag: 'x' },
            });
      const first = physicalNames([a.service, a.foundation]);
      expect(first.size, `${profile}: names found`).toBeGreaterThan(3);
      const shared = [...physicalNames([b.service, b.foundation])].filter((name) => first.has(name));
      expect(shared, `${profile}: ${shared.join(', ')}`).toEqual([]);
    }
  });

  it('names the launch template per stack and leaves the ECS service and cluster names to CloudFormation', () => {
    const [, template] = one(prod.service, 'AWS::EC2::LaunchTemplate');
    expect(template.Properties?.LaunchTemplateName).not.toBe('InstanceLaunchTemplate');
    expect(String(template.Properties?.LaunchTemplateName)).toMatch(/^Earshot/);
    expect(one(second.service, 'AWS::EC2::LaunchTemplate')[1].Properties?.LaunchTemplateName).toMatch(
      /^EarshotB/,
    );
    expect(one(prod.service, 'AWS::ECS::Service')[1].Properties?.ServiceName).toBeUndefined();
  });

  it('sets only feature flags that aws-cdk-lib really has', () => {
    for (const flag of Object.keys(FEATURE_FLAGS)) expect(FLAGS, flag).toHaveProperty([flag]);
    expect(FEATURE_FLAGS['@aws-cdk/aws-ec2:uniqueImdsv2TemplateName']).toBe(true);
  });
});

describe('2. first boot', () => {
  it('the instance has a creation signal; the service waits for it and for the private default route', () => {
    const [instanceId, instance] = one(prod.service, 'AWS::EC2::Instance');
    expect(instance.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT25M' } });
    const route = ofType(prod.service, 'AWS::EC2::Route').find(
      ([, r]) => r.Properties?.DestinationCidrBlock === '0.0.0.0/0' && r.Properties.InstanceId !== undefined,
    );
    expect(route).toBeDefined();
    const [, service] = one(prod.service, 'AWS::ECS::Service');
    expect(service.DependsOn).toEqual(expect.arrayContaining([instanceId, route![0]]));
  });

  it('boots from constant user data that signals, with the configuration in cfn-init metadata (NAT first)', () => {
    const [, instance] = one(prod.service, 'AWS::EC2::Instance');
    const userData = JSON.stringify(instance.Properties?.UserData);
    expect(userData).toContain('cfn-signal');
    expect(userData).toContain('retry nat 5 10 cfn_init nat');
    const raw = resources(prod.service);
    const [id] = one(prod.service, 'AWS::EC2::Instance');
    const init = (raw[id] as unknown as { Metadata: Record<string, { configSets: unknown }> }).Metadata[
      'AWS::CloudFormation::Init'
    ];
    expect(init?.configSets).toEqual({ nat: ['nat'], proxy: ['proxy'], update: ['nat', 'proxy'] });
  });
});

describe('3. CloudFront and API errors', () => {
  it('has no distribution-wide custom error response; the SPA fallback runs on the default behaviour only', () => {
    const [, distribution] = one(prod.service, 'AWS::CloudFront::Distribution');
    const config = distribution.Properties?.DistributionConfig as {
      CustomErrorResponses?: unknown[];
      DefaultCacheBehavior: { FunctionAssociations?: unknown[] };
      CacheBehaviors: { PathPattern: string; FunctionAssociations?: unknown[] }[];
    };
    expect(config.CustomErrorResponses ?? []).toEqual([]);
    expect(config.DefaultCacheBehavior.FunctionAssociations).toHaveLength(1);
    for (const path of API_PATHS) {
      const behavior = config.CacheBehaviors.find((b) => b.PathPattern === path);
      expect(behavior, path).toBeDefined();
      expect(behavior?.FunctionAssociations ?? [], path).toEqual([]);
    }
  });

  it('the function sends console routes to index.html and leaves files alone', () => {
    // cloudfront-js-2.0 is ES5.1-style JavaScript with a `handler`; evaluate the very source that is deployed.
    // In a fresh V8 context of its own, as CloudFront runs it apart from everything else.
    const handler = runInNewContext(`${SPA_ROUTES_FUNCTION}; handler`) as (e: unknown) => { uri: string };
    const uri = (path: string) => handler({ request: { uri: path } }).uri;
    expect(uri('/history')).toBe('/index.html');
    expect(uri('/settings/voices')).toBe('/index.html');
    expect(uri('/assets/index-abc.js')).toBe('/assets/index-abc.js');
    expect(uri('/config.json')).toBe('/config.json');
  });
});

describe('4. long MCP calls', () => {
  it('sets the API origin read timeout deliberately (60 s, beaten by the server keepalive every 20 s)', () => {
    const [, distribution] = one(prod.service, 'AWS::CloudFront::Distribution');
    const origins = (distribution.Properties?.DistributionConfig as { Origins: Record<string, unknown>[] })
      .Origins;
    const api = origins.find((o) => o.CustomOriginConfig !== undefined) as {
      CustomOriginConfig: { OriginReadTimeout: number };
    };
    expect(api.CustomOriginConfig.OriginReadTimeout).toBe(60);
  });
});

describe('5. deploys do not replace the proxy', () => {
  it('no template resolves the AMI from ami-amazon-linux-latest at deploy time', () => {
    for (const b of [prod, lean, second, trial]) {
      for (const t of [b.service, b.foundation]) {
        expect(JSON.stringify(t.toJSON())).not.toContain('ami-amazon-linux-latest');
        expect(JSON.stringify((t.toJSON() as { Parameters?: unknown }).Parameters ?? {})).not.toContain(
          'SsmParameterValue',
        );
      }
    }
    const [, instance] = one(prod.service, 'AWS::EC2::Instance');
    expect(JSON.stringify(instance.Properties?.ImageId)).toContain('DeployTimeImage');
    const [, lookup] = ofType(prod.service, 'Custom::AWS').find(([id]) => id.startsWith('DeployTimeImage'))!;
    expect(JSON.stringify(lookup.Properties)).toContain('al2023-ami-2023');
  });

  it('the user data is the same whatever the configuration (so a configuration change never replaces it)', () => {
    const userData = (b: Built) =>
      JSON.stringify(one(b.service, 'AWS::EC2::Instance')[1].Properties?.UserData);
    const other = build({
      domain: { ...domain, letsEncryptEmail: 'x@example.com' },
      task: { imageTag: 'zzz' },
    });
    expect(userData(other)).toBe(userData(prod));
  });

  it('keeps certificate state across a replacement: the instance may read and write its one backup object', () => {
    const policies = JSON.stringify(ofType(prod.service, 'AWS::IAM::Policy').map(([, p]) => p.Properties));
    expect(policies).toContain('proxy/letsencrypt.tar.gz');
  });
});

describe('6. patching', () => {
  it('starts the instance for a weekly patch window in the off-hours', () => {
    const schedules = ofType(prod.service, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties ?? {});
    const patch = schedules.filter((s) => JSON.stringify(s).toLowerCase().includes('patch'));
    expect(patch.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(patch)).toContain('cron(0 3 ? * SUN *)');
  });
});

describe('7. nothing reaches the API around CloudFront', () => {
  const ingress = (b: Built) => [
    ...ofType(b.service, 'AWS::EC2::SecurityGroup').flatMap(
      ([, g]) => (g.Properties?.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? [],
    ),
    ...ofType(b.service, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties ?? {}),
  ];

  it('no proxy ingress on 443 from 0.0.0.0/0; 443 only from the CloudFront prefix list; 80 open for ACME', () => {
    for (const b of [prod, lean, second]) {
      const rules = ingress(b);
      const world = rules.filter((r) => r.CidrIp === '0.0.0.0/0' || r.CidrIpv6 === '::/0');
      expect(world.map((r) => r.FromPort)).toEqual([80]);
      // 443 from the tasks' security group is the NAT (egress through the instance), not the API.
      const https = rules.filter((r) => r.FromPort === 443 && r.SourceSecurityGroupId === undefined);
      expect(https.length).toBeGreaterThan(0);
      for (const r of https) expect(JSON.stringify(r.SourcePrefixListId)).toContain('CloudFrontPrefixList');
    }
  });

  it('CloudFront reaches the origin name over HTTPS and sends the origin secret', () => {
    const [, distribution] = one(prod.service, 'AWS::CloudFront::Distribution');
    const origins = (distribution.Properties?.DistributionConfig as { Origins: Record<string, unknown>[] })
      .Origins;
    const api = origins.find((o) => o.CustomOriginConfig !== undefined) as {
      DomainName: string;
      CustomOriginConfig: { OriginProtocolPolicy: string };
      OriginCustomHeaders: { HeaderName: string }[];
    };
    expect(api.DomainName).toBe('origin.api.earshot.example.com');
    expect(api.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(api.OriginCustomHeaders.map((h) => h.HeaderName)).toEqual(['X-Earshot-Origin-Verify']);
  });

  it('a trial (no domain) is explicit, keeps the API port CloudFront-only, and synth warns about it', () => {
    expect(trial.warnings.join('\n')).toMatch(/trial/i);
    expect(prod.warnings.join('\n')).not.toMatch(/trial/i);
    const world = ingress(trial).filter((r) => r.CidrIp === '0.0.0.0/0');
    expect(world).toEqual([]);
  });
});

describe('8. Spot lifecycle', () => {
  it('runs the proxy on demand: no Spot options anywhere', () => {
    for (const b of [prod, lean])
      expect(JSON.stringify(b.service.toJSON())).not.toMatch(/InstanceMarketOptions|SpotOptions/);
  });
});

describe('also', () => {
  it('deploys the image by the given immutable tag, never latest', () => {
    const [, task] = one(prod.service, 'AWS::ECS::TaskDefinition');
    const image = JSON.stringify((task.Properties?.ContainerDefinitions as { Image: unknown }[])[0]?.Image);
    expect(image).toContain(':abc1234');
    expect(image).not.toContain(':latest');
  });

  it("a reload moves only the users nginx now sends elsewhere: the tasks get the proxy's secret, the proxy a root-only header file", () => {
    const [, task] = one(prod.service, 'AWS::ECS::TaskDefinition');
    const environment = (
      task.Properties?.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[]
    )[0]!.Environment;
    const secret = environment.find((entry) => entry.Name === 'EARSHOT_PROXY_SECRET');
    expect(secret).toBeDefined();
    // The same deploy-time value CloudFront sends (X-Earshot-Origin-Verify), never a literal in the template.
    expect(JSON.stringify(secret!.Value)).toContain('OriginSecret');
    // CloudFront and nginx each append to X-Forwarded-For: per-address limits count clients, not nginx.
    expect(environment.find((entry) => entry.Name === 'EARSHOT_TRUSTED_PROXY_HOPS')?.Value).toBe('2');
    const [, instance] = one(prod.service, 'AWS::EC2::Instance');
    const init = (
      instance as unknown as {
        Metadata: Record<string, { proxy: { files: Record<string, { mode: string }> } }>;
      }
    ).Metadata['AWS::CloudFormation::Init']!;
    expect(init.proxy.files['/etc/earshot/staged/etc/earshot/proxy-secret.header']?.mode).toBe('000600');
    const metadata = JSON.stringify(init);
    expect(metadata).toContain('worker_shutdown_timeout 6h;');
  });

  it('alarms when the proxy is unreachable during active hours, to the alerts topic', () => {
    const alarm = ofType(prod.service, 'AWS::CloudWatch::Alarm').find(([id]) =>
      id.includes('ProxyUnreachable'),
    );
    expect(alarm).toBeDefined();
    expect(JSON.stringify(alarm![1].Properties?.AlarmActions)).toContain('AlertsTopic');
    const schedules = JSON.stringify(
      ofType(prod.service, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties),
    );
    expect(schedules).toContain('ProxyUnreachable');
  });
});

describe('the lean profile', () => {
  it('runs a 0.25 vCPU / 0.5 GB task with no Elastic IP, no Secrets Manager secret and no private DNS namespace', () => {
    const [, task] = one(lean.service, 'AWS::ECS::TaskDefinition');
    expect(task.Properties).toMatchObject({ Cpu: '256', Memory: '512' });
    for (const t of [lean.service, lean.foundation]) {
      expect(ofType(t, 'AWS::EC2::EIP')).toEqual([]);
      expect(ofType(t, 'AWS::SecretsManager::Secret')).toEqual([]);
      expect(ofType(t, 'AWS::ServiceDiscovery::PrivateDnsNamespace')).toEqual([]);
    }
    // The default profile keeps the seed's pieces.
    expect(ofType(prod.service, 'AWS::EC2::EIP')).toHaveLength(1);
    expect(ofType(prod.foundation, 'AWS::SecretsManager::Secret')).toHaveLength(2);
  });

  it('lets the proxy UPSERT only its own origin A record, and boots the minimal image on a smaller volume', () => {
    const policies = ofType(lean.service, 'AWS::IAM::Policy').map(([, p]) => JSON.stringify(p.Properties));
    const dns = policies.find((p) => p.includes('route53:ChangeResourceRecordSets'));
    expect(dns).toContain(
      '"route53:ChangeResourceRecordSetsNormalizedRecordNames":["origin.api.earshot.example.com"]',
    );
    expect(dns).toContain('"route53:ChangeResourceRecordSetsActions":["UPSERT"]');
    const [, instance] = one(lean.service, 'AWS::EC2::Instance');
    expect(JSON.stringify(instance.Properties?.BlockDeviceMappings)).toContain('"VolumeSize":4');
    const [, lookup] = ofType(lean.service, 'Custom::AWS').find(([id]) => id.startsWith('DeployTimeImage'))!;
    expect(JSON.stringify(lookup.Properties)).toContain('al2023-ami-minimal');
  });

  it('keeps the secrets as SSM SecureString parameters the task reads', () => {
    const [, task] = one(lean.service, 'AWS::ECS::TaskDefinition');
    const secrets = JSON.stringify(
      (task.Properties?.ContainerDefinitions as { Secrets: unknown }[])[0]?.Secrets,
    );
    expect(secrets).toContain(':parameter/');
    expect(secrets).not.toContain('secretsmanager');
  });
});
