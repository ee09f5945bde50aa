import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEarshotApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { HEALTH_CHECK_COMMAND } from '../src/constructs/backend-service.js';
import { parseCron } from '../src/cost/template-facts.js';
import { testApp } from './support/test-app.js';

// One synthesis of the default configuration (plus an e-mail) shared by every assertion in this file.
let service: Template;
let foundation: Template;

beforeAll(() => {
  const config = parseConfig({
    domain: {
      apiDomain: 'api.earshot.example.com',
      hostedZoneId: 'Z0EXAMPLE0123456789',
      hostedZoneName: 'earshot.example.com',
    },
    task: { imageTag: 'abc1234' },
    alerts: { email: 'ops@example.com', monthlyBudgetUsd: 25 },
  });
  const built = buildEarshotApp(config, { app: testApp() });
  service = Template.fromStack(built.service);
  foundation = Template.fromStack(built.foundation);
});

type Resource = { Properties: Record<string, unknown> };
const only = (t: Template, type: string): Resource => {
  const all = Object.values(t.findResources(type)) as Resource[];
  expect(all).toHaveLength(1);
  return all[0] as Resource;
};

describe('network', () => {
  it('has one VPC with one public and one private subnet and no NAT Gateway', () => {
    service.resourceCountIs('AWS::EC2::VPC', 1);
    service.resourceCountIs('AWS::EC2::Subnet', 2);
    service.resourceCountIs('AWS::EC2::NatGateway', 0);
    service.hasResourceProperties('AWS::EC2::Subnet', {
      MapPublicIpOnLaunch: false,
      Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Public' }]),
    });
    service.hasResourceProperties('AWS::EC2::Subnet', {
      Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]),
    });
  });

  it('puts both subnets in the same single AZ', () => {
    const azs = Object.values(service.findResources('AWS::EC2::Subnet')).map((s) =>
      JSON.stringify((s as Resource).Properties.AvailabilityZone),
    );
    expect(new Set(azs).size).toBe(1);
  });

  it('routes the private subnet to the proxy instance, and S3 and DynamoDB through free gateway endpoints', () => {
    service.hasResourceProperties('AWS::EC2::Route', {
      DestinationCidrBlock: '0.0.0.0/0',
      InstanceId: { Ref: Match.stringLikeRegexp('^ProxyInstance') },
    });
    const endpoints = Object.values(service.findResources('AWS::EC2::VPCEndpoint')).map(
      (e) => (e as Resource).Properties,
    );
    expect(endpoints.map((e) => e.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
    const services = endpoints.map((e) => JSON.stringify(e.ServiceName)).sort();
    expect(services[0]).toMatch(/\.dynamodb"/);
    expect(services[1]).toMatch(/\.s3"/);
  });
});

describe('proxy/NAT instance', () => {
  it('is a t4g.nano on arm64 Amazon Linux 2023 with source/dest check off, standard credits and basic monitoring', () => {
    const instance = only(service, 'AWS::EC2::Instance').Properties;
    expect(instance.InstanceType).toBe('t4g.nano');
    expect(instance.SourceDestCheck).toBe(false);
    expect(instance.CreditSpecification).toEqual({ CPUCredits: 'standard' });
    expect(instance.Monitoring).toBe(false);
    // The pinned image name (src/ami-pins.ts), turned into this region's id by a lookup that runs only when it changes.
    expect(JSON.stringify(instance.ImageId)).toContain('DeployTimeImage');
    expect(JSON.stringify(service.findResources('Custom::AWS'))).toMatch(/al2023-ami-2023[^"]*-arm64/);
    expect(JSON.stringify(instance.BlockDeviceMappings)).toContain('"VolumeType":"gp3"');
  });

  it('gets the first-boot user data and its configuration (NAT + nginx) as cfn-init metadata', () => {
    const userData = JSON.stringify(only(service, 'AWS::EC2::Instance').Properties.UserData);
    expect(userData).toContain('cfn_init nat');
    const metadata = JSON.stringify(
      (Object.values(service.findResources('AWS::EC2::Instance'))[0] as { Metadata: unknown }).Metadata,
    );
    expect(metadata).toContain('/etc/earshot/staged/usr/local/sbin/earshot-nat');
    expect(metadata).toContain('/etc/earshot/staged/etc/nginx/nginx.conf');
  });

  it('has a fixed Elastic IP', () => {
    service.hasResourceProperties('AWS::EC2::EIP', {
      Domain: 'vpc',
      InstanceId: { Ref: Match.stringLikeRegexp('^ProxyInstance') },
    });
  });

  it('opens only 80 (ACME) to the world, 443 to CloudFront only, and 443 from the tasks (NAT)', () => {
    const groups = Object.entries(service.findResources('AWS::EC2::SecurityGroup')).map(
      ([id, r]) => [id, (r as Resource).Properties] as const,
    );
    const idOf = (prefix: string) =>
      groups.find(([, g]) => String(g.GroupDescription).startsWith(prefix))![0];
    const proxy = idOf('Earshot proxy');
    const tasks = idOf('Earshot tasks');
    const rule = (r: Record<string, unknown>) => [r.CidrIp ?? r.CidrIpv6, r.FromPort, r.ToPort];
    // Rules written inside the groups: the world reaches the proxy on 80 only (ACME; the rest is redirected).
    const inline = Object.fromEntries(
      groups.map(([id, g]) => [id, ((g.SecurityGroupIngress ?? []) as Record<string, unknown>[]).map(rule)]),
    );
    expect(inline).toEqual({
      [proxy]: [['0.0.0.0/0', 80, 80]],
      [tasks]: [],
    });
    // Rules between groups: the tasks reach the proxy on 443 (NAT), the proxy reaches the tasks on 8080.
    const groupOf = (ref: unknown) => (ref as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const between = Object.values(service.findResources('AWS::EC2::SecurityGroupIngress'))
      .map((r) => (r as Resource).Properties)
      .filter((p) => p.SourceSecurityGroupId !== undefined)
      .map((p) => ({
        to: groupOf(p.GroupId),
        from: groupOf(p.SourceSecurityGroupId),
        ports: [p.FromPort, p.ToPort],
      }));
    expect(between).toEqual(
      expect.arrayContaining([
        { to: proxy, from: tasks, ports: [443, 443] },
        { to: tasks, from: proxy, ports: [8080, 8080] },
      ]),
    );
    expect(between).toHaveLength(2);
  });

  it('recovers the instance on a failed system check and reports status-check failures', () => {
    const alarms = Object.values(service.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as Resource).Properties,
    );
    const recovery = alarms.find((a) => a.MetricName === 'StatusCheckFailed_System');
    expect(recovery?.TreatMissingData).toBe('notBreaching');
    expect(JSON.stringify(recovery?.AlarmActions)).toContain(':automate:us-east-1:ec2:recover');
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StatusCheckFailed',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertsTopic') }],
    });
  });
});

describe('backend service', () => {
  it('runs a Fargate ARM64 task of 0.5 vCPU / 1 GB with a read-only root and a writable /tmp', () => {
    service.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Volumes: [{ Name: 'tmp' }],
      ContainerDefinitions: [
        Match.objectLike({
          ReadonlyRootFilesystem: true,
          MountPoints: [{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }],
          StopTimeout: 120,
          HealthCheck: Match.objectLike({ Command: HEALTH_CHECK_COMMAND }),
          PortMappings: [Match.objectLike({ ContainerPort: 8080 })],
        }),
      ],
    });
  });

  it('passes the environment and both secrets from Secrets Manager', () => {
    const def =
      (
        only(service, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as Record<string, unknown>[]
      )[0] ?? {};
    const env = Object.fromEntries(
      (def.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      PORT: '8080',
      EARSHOT_DATA_DIR: '/tmp/earshot',
      EARSHOT_METRICS_SERVICE: 'Earshot',
      EARSHOT_PUBLIC_URL: 'https://api.earshot.example.com',
    });
    expect(JSON.stringify(env.EARSHOT_STORE)).toMatch(
      /^\{"Fn::Join":\["",\["dynamodb:\/\/",\{"Ref":"DataTable/,
    );
    expect(JSON.stringify(env.EARSHOT_AUDIO)).toMatch(/s3:\/\/.*"Ref":"DataBucket.*\/data"/);
    // The server's retention maximum is the bucket's lifecycle rule (see 'data store').
    expect(env.EARSHOT_AUDIO_RETENTION_DAYS).toBe('90');
    expect(JSON.stringify(env.EARSHOT_ALLOWED_ORIGINS)).toContain('DomainName');
    expect(env.EARSHOT_PUBLIC_URL).toBeDefined();
    // CloudFront forwards the API with the origin's name as Host: the server must serve it.
    expect(env.EARSHOT_ALLOWED_HOSTS).toBe('origin.api.earshot.example.com');
    expect(env.EARSHOT_MAX_CONNECTIONS_PER_CLIENT).toBe('0');
    expect((def.Secrets as { Name: string }[]).map((s) => s.Name).sort()).toEqual([
      'EARSHOT_API_KEYS',
      'ELEVENLABS_API_KEY',
    ]);
    foundation.resourceCountIs('AWS::SecretsManager::Secret', 2);
  });

  it('logs to CloudWatch with 7-day retention', () => {
    service.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('runs in the private subnet without a public IP and registers A records in its own namespace', () => {
    service.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          AssignPublicIp: 'DISABLED',
          Subnets: [{ Ref: Match.stringLikeRegexp('PrivateSubnet') }],
        }),
      },
    });
    expect(only(service, 'AWS::ECS::Service').Properties.DesiredCount).toBeUndefined();
    service.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', {
      Name: Match.stringLikeRegexp('^earshot-[0-9a-f]{6}\\.earshot\\.local$'),
    });
    service.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'api',
      DnsConfig: Match.objectLike({ DnsRecords: [{ TTL: 10, Type: 'A' }] }),
    });
  });

  it('lets the task role make exactly the store calls: items of its table and index, audio under data/audio/', () => {
    const policies = Object.entries(service.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.includes('BackendTaskTaskRole'))
      .map(([, p]) => (p as Resource).Properties.PolicyDocument as { Statement: Statement[] });
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Statement.map((statement) => ({
      actions: [statement.Action].flat().sort(),
      resources: [statement.Resource].flat(),
      condition: statement.Condition,
    }));
    const table = { 'Fn::GetAtt': [expect.stringMatching(/^DataTable/), 'Arn'] };
    const bucket = { 'Fn::GetAtt': [expect.stringMatching(/^DataBucket/), 'Arn'] };
    const objects = (key: string) => ({ 'Fn::Join': ['', [bucket, key]] });
    expect(statements).toEqual([
      {
        actions: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        // The table and its byTime index: no other table, no wildcard.
        resources: [table, { 'Fn::Join': ['', [table, '/index/byTime']] }],
        condition: undefined,
      },
      {
        actions: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        resources: [objects('/data/audio/*')],
        condition: undefined,
      },
      { actions: ['s3:PutObject'], resources: [objects('/data/.earshot-ready')], condition: undefined },
      {
        actions: ['s3:ListBucket'],
        resources: [bucket],
        condition: { StringLike: { 's3:prefix': ['data/audio/*'] } },
      },
    ]);
    expect(JSON.stringify(policies)).not.toMatch(/"\*"|dynamodb:\*|s3:\*|cloudwatch:/);
  });
});

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

describe('scheduling', () => {
  it('scales tasks between 0 and max with time-zoned scheduled actions', () => {
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: 2,
      ScheduledActions: [
        {
          ScheduledActionName: 'TasksUp',
          Schedule: 'cron(0 8 ? * MON,TUE,WED,THU,FRI *)',
          Timezone: 'UTC',
          ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 2 },
        },
        {
          ScheduledActionName: 'TasksDown',
          Schedule: 'cron(0 20 ? * MON,TUE,WED,THU,FRI *)',
          Timezone: 'UTC',
          ScalableTargetAction: { MinCapacity: 0, MaxCapacity: 0 },
        },
      ],
    });
  });

  it('tracks the PlayerConnections EMF metric per task', () => {
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 50,
        CustomizedMetricSpecification: Match.objectLike({
          Namespace: 'Earshot',
          MetricName: 'PlayerConnections',
          Statistic: 'Average',
          Dimensions: [{ Name: 'Service', Value: 'Earshot' }],
        }),
      }),
    });
  });

  it('starts the instance before the tasks scale up and stops it after they scale down', () => {
    const schedules = Object.values(service.findResources('AWS::Scheduler::Schedule')).map(
      (r) => (r as Resource).Properties,
    );
    const byAction = (a: string) =>
      schedules.find((s) => JSON.stringify(s.Target).includes(`aws-sdk:ec2:${a}`));
    const start = byAction('startInstances');
    const stop = byAction('stopInstances');
    expect(start?.ScheduleExpressionTimezone).toBe('UTC');
    const scaling = only(service, 'AWS::ApplicationAutoScaling::ScalableTarget').Properties
      .ScheduledActions as { Schedule: string }[];
    const up = parseCron(scaling[0]?.Schedule ?? '').minuteOfDay;
    const down = parseCron(scaling[1]?.Schedule ?? '').minuteOfDay;
    expect(parseCron(String(start?.ScheduleExpression)).minuteOfDay).toBe(up - 10);
    expect(parseCron(String(stop?.ScheduleExpression)).minuteOfDay).toBe(down + 15);
    expect(JSON.stringify((start?.Target as { Input: unknown }).Input)).toMatch(/InstanceIds.*ProxyInstance/);
  });

  it('arms the "no running task" alarm only during active hours', () => {
    const schedules = Object.values(service.findResources('AWS::Scheduler::Schedule')).map(
      (r) => (r as Resource).Properties,
    );
    const expr = (a: string) =>
      String(schedules.find((s) => JSON.stringify(s.Target).includes(`cloudwatch:${a}`))?.ScheduleExpression);
    expect(parseCron(expr('setAlarmState')).minuteOfDay).toBe(8 * 60 + 15);
    expect(parseCron(expr('enableAlarmActions')).minuteOfDay).toBe(8 * 60 + 16);
    expect(parseCron(expr('disableAlarmActions')).minuteOfDay).toBe(20 * 60);
  });
});

describe('data store', () => {
  it("is one on-demand DynamoDB table with the server's keys and index, point-in-time recovery, KMS encryption, TTL, retained", () => {
    const tables = Object.values(service.findResources('AWS::DynamoDB::Table')) as (Resource & {
      DeletionPolicy: string;
    })[];
    expect(tables).toHaveLength(1);
    expect(tables[0]!.DeletionPolicy).toBe('Retain');
    expect(tables[0]!.Properties).toEqual({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'PK', AttributeType: 'S' },
        { AttributeName: 'SK', AttributeType: 'S' },
        { AttributeName: 'ts', AttributeType: 'S' },
      ],
      LocalSecondaryIndexes: [
        {
          IndexName: 'byTime',
          KeySchema: [
            { AttributeName: 'PK', KeyType: 'HASH' },
            { AttributeName: 'ts', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // KMS with the AWS-managed key (aws/dynamodb): no key to pay for or rotate.
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      Tags: expect.any(Array),
    });
  });

  it("is the table `earshot store init` creates (both read the server's table-definition.ts)", async () => {
    // Loaded at run time only: table.ts belongs to the server's project (it imports the AWS SDK).
    const tableModule = '../../server/src/storage/dynamodb/table.js';
    const { createTableInput } = (await import(tableModule)) as {
      createTableInput: (name: string) => Record<string, unknown>;
    };
    const input = createTableInput('t');
    const deployed = (Object.values(service.findResources('AWS::DynamoDB::Table'))[0] as Resource).Properties;
    expect(deployed.KeySchema).toEqual(input.KeySchema);
    expect(deployed.AttributeDefinitions).toEqual(input.AttributeDefinitions);
    expect(deployed.LocalSecondaryIndexes).toEqual(input.LocalSecondaryIndexes);
    expect(deployed.BillingMode).toBe(input.BillingMode);
  });

  it('keeps audio in a bucket that is private, encrypted, TLS-only, unversioned, retained, and expires old audio', () => {
    const buckets = Object.entries(service.findResources('AWS::S3::Bucket')).filter(([id]) =>
      id.startsWith('Data'),
    );
    expect(buckets).toHaveLength(1);
    const [, bucket] = buckets[0] as [
      string,
      { Properties: Record<string, unknown>; DeletionPolicy: string },
    ];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        { Id: 'ExpireOldAudio', Prefix: 'data/audio/', ExpirationInDays: 90, Status: 'Enabled' },
        {
          Id: 'AbortIncompleteUploads',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
          Status: 'Enabled',
        },
      ],
    });
  });

  it('denies non-TLS access to both buckets', () => {
    const policies = Object.values(service.findResources('AWS::S3::BucketPolicy')).map((p) =>
      JSON.stringify(p),
    );
    expect(policies).toHaveLength(2);
    for (const p of policies) expect(p).toContain('"aws:SecureTransport":"false"');
  });
});

describe('console', () => {
  it('serves a private bucket through CloudFront with origin access control and an SPA function', () => {
    service.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    service.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        CustomErrorResponses: Match.absent(),
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          FunctionAssociations: [Match.objectLike({ EventType: 'viewer-request' })],
        }),
      }),
    });
    const policy = JSON.stringify(
      Object.values(service.findResources('AWS::S3::BucketPolicy')).find((p) =>
        JSON.stringify(p).includes('cloudfront.amazonaws.com'),
      ),
    );
    expect(policy).toContain('AWS:SourceArn');
  });

  it('sends CSP, HSTS and the other security headers', () => {
    service.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: {
            ContentSecurityPolicy: Match.stringLikeRegexp("^default-src 'self'; connect-src 'self'"),
            Override: true,
          },
          StrictTransportSecurity: Match.objectLike({
            AccessControlMaxAgeSec: 63072000,
            IncludeSubdomains: true,
          }),
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
        }),
      }),
    });
  });

  it('routes the API paths to the proxy over CloudFront, to its origin name', () => {
    const dist = JSON.stringify(only(service, 'AWS::CloudFront::Distribution'));
    for (const path of ['/api/*', '/ws', '/mcp', '/healthz'])
      expect(dist).toContain(`"PathPattern":"${path}"`);
    expect(dist).toContain('"DomainName":"origin.api.earshot.example.com"');
  });

  it('deploys a runtime config.json (the API is on the same distribution, so its base URL is the page origin)', () => {
    service.resourceCountIs('Custom::CDKBucketDeployment', 1);
    service.hasResourceProperties('Custom::CDKBucketDeployment', { Prune: false, DistributionPaths: ['/*'] });
    // Nothing deploy-time in it: no markers to substitute.
    expect(only(service, 'Custom::CDKBucketDeployment').Properties.SourceMarkers).toBeUndefined();
  });
});

describe('registry, monitoring, budget', () => {
  it('keeps the last 5 images in ECR', () => {
    const repo = only(foundation, 'AWS::ECR::Repository').Properties;
    const rules = JSON.parse(
      String((repo.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText),
    ) as { rules: { selection: Record<string, unknown> }[] };
    expect(rules.rules[0]?.selection).toMatchObject({ countType: 'imageCountMoreThan', countNumber: 5 });
  });

  it('alarms on error rate, error logs, no running task, connections, instance health and an unreachable proxy', () => {
    service.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('has not answered through CloudFront'),
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' }),
      ]),
      Threshold: 10,
    });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ErrorLogLines',
      Namespace: 'Earshot',
      Threshold: 5,
    });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CPUUtilization',
      Namespace: 'AWS/ECS',
      Statistic: 'SampleCount',
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PlayerConnections',
      Threshold: 200,
    });
    service.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ $.level >= 50 }' });
    service.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    service.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('has a monthly cost budget notifying on actual and forecasted spend', () => {
    const budget = only(service, 'AWS::Budgets::Budget').Properties;
    expect(budget.Budget).toMatchObject({
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: 25, Unit: 'USD' },
    });
    const notes = budget.NotificationsWithSubscribers as {
      Notification: Record<string, unknown>;
      Subscribers: { SubscriptionType: string }[];
    }[];
    expect(notes.map((n) => [n.Notification.NotificationType, n.Notification.Threshold])).toEqual([
      ['ACTUAL', 80],
      ['ACTUAL', 100],
      ['FORECASTED', 100],
    ]);
    expect(notes[0]?.Subscribers.map((s) => s.SubscriptionType)).toEqual(['SNS', 'EMAIL']);
  });

  it('creates no GitHub role unless a repository is configured', () => {
    foundation.resourceCountIs('AWS::IAM::Role', 0);
  });
});
