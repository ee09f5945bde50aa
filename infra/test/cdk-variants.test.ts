import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEarshotApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { testApp } from './support/test-app.js';

// Every option switched on: custom domains in a hosted zone, GitHub deploy role, WAF, signed URLs.
const PEM =
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexampleexampleexampleexampleexampleexampleexampleexampleexampleexampleexample==\n-----END PUBLIC KEY-----';
let service: Template;
let foundation: Template;

beforeAll(() => {
  const config = parseConfig({
    stackName: 'Voice',
    domain: {
      apiDomain: 'api.example.com',
      consoleDomain: 'console.example.com',
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'example.com',
    },
    github: { repository: 'acme/earshot' },
    task: { size: '0.25vCPU-0.5GB', maxTasks: 4, imageTag: 'abc123' },
    schedule: {
      timeZone: 'Europe/Berlin',
      start: '00:05',
      end: '23:00',
      days: ['MON'],
      instanceLeadMinutes: 20,
    },
    cloudFront: { waf: true, signedUrls: true, signedUrlsPublicKeyPem: PEM },
    alerts: { email: 'ops@example.com' },
  });
  const built = buildEarshotApp(config, { app: testApp() });
  service = Template.fromStack(built.service);
  foundation = Template.fromStack(built.foundation);
});

type Props = Record<string, unknown>;
const props = (t: Template, type: string): Props[] =>
  Object.values(t.findResources(type)).map((r) => (r as { Properties: Props }).Properties);

describe('with a domain and hosted zone', () => {
  it('points the origin name at the Elastic IP, and the API and console names at CloudFront', () => {
    service.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'origin.api.example.com.',
      Type: 'A',
      ResourceRecords: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ProxyElasticIp'), 'PublicIp'] }],
    });
    for (const name of ['api.example.com.', 'console.example.com.']) {
      service.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: name,
        Type: 'A',
        AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
      });
    }
  });

  it('validates one certificate for both names by DNS (the stack is in us-east-1) and enforces TLS 1.2', () => {
    service.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.example.com',
      SubjectAlternativeNames: ['console.example.com'],
      ValidationMethod: 'DNS',
    });
    service.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['api.example.com', 'console.example.com'],
        ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021' }),
      }),
    });
  });

  it('serves the API through CloudFront on every name: API behaviours, the console origins allowed', () => {
    expect(JSON.stringify(props(service, 'AWS::CloudFront::Distribution'))).toContain('"PathPattern":"/mcp"');
    const env = JSON.stringify(props(service, 'AWS::ECS::TaskDefinition'));
    expect(env).toContain('{"Name":"EARSHOT_PUBLIC_URL","Value":"https://api.example.com"}');
    expect(env).toContain('https://console.example.com');
    expect(env).toContain('{"Name":"EARSHOT_ALLOWED_HOSTS","Value":"origin.api.example.com"}');
  });

  it("configures nginx on the instance for the origin name with Let's Encrypt", () => {
    const metadata = JSON.stringify(
      Object.values(service.findResources('AWS::EC2::Instance')).map(
        (r) => (r as { Metadata: unknown }).Metadata,
      ),
    );
    expect(metadata).toContain('server_name origin.api.example.com;');
    expect(metadata).toContain('return 301 https://api.example.com$request_uri;');
    expect(metadata).toContain('earshot-cert');
    expect(metadata).toMatch(/certbot/);
  });
});

describe('other options', () => {
  it('lets only main of acme/earshot assume the deploy role through GitHub OIDC', () => {
    foundation.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    foundation.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: {
                'token.actions.githubusercontent.com:sub': 'repo:acme/earshot:ref:refs/heads/main',
              },
            },
          }),
        ],
      }),
    });
  });

  it('runs the proxy on demand with IMDSv2, recovered on a failed system check', () => {
    service.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
    });
    const recovery = props(service, 'AWS::CloudWatch::Alarm').find(
      (a) => a.MetricName === 'StatusCheckFailed_System',
    );
    expect(JSON.stringify(recovery?.AlarmActions)).toContain(':ec2:recover');
  });

  it('uses the small task size, the pinned image tag and the max task count', () => {
    service.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '256', Memory: '512' });
    expect(JSON.stringify(props(service, 'AWS::ECS::TaskDefinition'))).toContain(':abc123');
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 4 });
    expect(props(service, 'AWS::ECS::Service')[0]?.ServiceName).toBeUndefined();
  });

  it('moves the instance start to the previous day when the lead crosses midnight, in the configured time zone', () => {
    const start = props(service, 'AWS::Scheduler::Schedule').find((s) =>
      JSON.stringify(s.Target).includes('ec2:startInstances'),
    );
    expect(start).toMatchObject({
      ScheduleExpression: 'cron(45 23 ? * SUN *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: Match.arrayWith([
        Match.objectLike({ Schedule: 'cron(5 0 ? * MON *)', Timezone: 'Europe/Berlin' }),
      ]),
    });
  });

  it('puts a CLOUDFRONT web ACL and a signed-URL key group in front of the console', () => {
    service.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
    });
    service.resourceCountIs('AWS::CloudFront::KeyGroup', 1);
    service.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: { 'Fn::GetAtt': [Match.stringLikeRegexp('WebAcl'), 'Arn'] },
        DefaultCacheBehavior: Match.objectLike({
          TrustedKeyGroups: [{ Ref: Match.stringLikeRegexp('SignerKeys') }],
        }),
      }),
    });
  });
});
