import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { Alerts } from '../src/constructs/alerts.js';
import { BackendService, type BackendServiceProps } from '../src/constructs/backend-service.js';
import { ConsoleSite } from '../src/constructs/console-site.js';
import { DataStore } from '../src/constructs/data-store.js';
import { Foundation } from '../src/constructs/foundation.js';
import { Network } from '../src/constructs/network.js';
import { ProxyInstance, type ProxyInstanceProps } from '../src/constructs/proxy-instance.js';
import { testApp } from './support/test-app.js';

// Each construct checks its props up front and says what is wrong.
const stack = () => new Stack(testApp(), 'T', { env: { region: 'us-east-1' } });

describe('construct prop checks', () => {
  it('Network rejects a bad CIDR or subnet mask', () => {
    expect(() => new Network(stack(), 'N', { cidr: '10.0.0.0' })).toThrow('cidr must be an IPv4 CIDR');
    expect(() => new Network(stack(), 'N', { cidr: '10.0.0.0/24', subnetMask: 24 })).toThrow(
      'subnetMask must be longer',
    );
  });

  it('ProxyInstance wants an ARM type, a sane volume and, without an Elastic IP, a DNS record to update', () => {
    const s = stack();
    const net = new Network(s, 'N');
    const base: ProxyInstanceProps = {
      vpc: net.vpc,
      publicSubnet: net.publicSubnet,
      privateSubnet: net.privateSubnet,
      imageId: 'ami-0123456789abcdef0',
      cloudFrontPrefixListId: 'pl-3b927c52',
      alarmTopic: new sns.Topic(s, 'T'),
      host: {
        nginx: { upstreamHost: 'api.earshot.local', upstreamPort: 8080, resolver: '169.254.169.253' },
        originSecret: 'a'.repeat(32),
        discovery: { kind: 'dns' },
        heartbeat: { urlParameter: '/earshot/heartbeat-url', namespace: 'Earshot/Proxy', service: 'Earshot' },
        patch: { timeZone: 'UTC', day: 'SUN', start: '03:00', minutes: 60 },
      },
      access: { heartbeat: { parameterName: '/earshot/heartbeat-url', namespace: 'Earshot/Proxy' } },
    };
    expect(
      () => new ProxyInstance(s, 'P1', { ...base, instanceType: new ec2.InstanceType('t3.nano') }),
    ).toThrow('must be an ARM (Graviton) type');
    expect(() => new ProxyInstance(s, 'P2', { ...base, rootVolumeGiB: 1 })).toThrow(
      'rootVolumeGiB must be an integer from 2',
    );
    expect(() => new ProxyInstance(s, 'P3', { ...base, rootVolumeGiB: 2, swapMiB: 1024 })).toThrow(
      'leaves too little',
    );
    expect(() => new ProxyInstance(s, 'P4', { ...base, elasticIp: false })).toThrow('must update host.dns');
  });

  it('BackendService accepts only the seed sizes and a valid service name', () => {
    const s = stack();
    const net = new Network(s, 'N');
    const props: BackendServiceProps = {
      vpc: net.vpc,
      privateSubnet: net.privateSubnet,
      proxySecurityGroup: new ec2.SecurityGroup(s, 'SG', { vpc: net.vpc }),
      repository: new ecr.Repository(s, 'R'),
      serviceName: 'earshot-server',
      imageTag: 'abc123',
      store: new DataStore(s, 'D'),
      publicUrl: 'https://api.example.com',
      proxySecret: 'a-test-secret-of-enough-length',
      allowedOrigins: ['https://console.example.com'],
      elevenLabsKey: ecs.Secret.fromSecretsManager(new secretsmanager.Secret(s, 'K1')),
      apiKeyHashes: ecs.Secret.fromSecretsManager(new secretsmanager.Secret(s, 'K2')),
    };
    expect(() => new BackendService(s, 'B1', { ...props, cpu: 512, memoryMiB: 512 })).toThrow(
      'Fargate has no 512 CPU / 512 MiB size',
    );
    expect(() => new BackendService(s, 'B2', { ...props, serviceName: '1bad name' })).toThrow(
      'must start with a letter',
    );
    expect(() => new BackendService(s, 'B3', { ...props, allowedOrigins: [] })).toThrow(
      'allowedOrigins needs the console origin',
    );
  });

  it('DataStore, Foundation, Alerts and ConsoleSite reject bad values', () => {
    expect(() => new DataStore(stack(), 'D', { prefix: '/data/' })).toThrow(
      'prefix must be a plain key prefix',
    );
    expect(() => new DataStore(stack(), 'D', { audioExpirationDays: 0 })).toThrow(
      'audioExpirationDays must be a positive integer',
    );
    expect(() => new Foundation(stack(), 'F', { keepImages: 0 })).toThrow('keepImages must be 1–100');
    expect(
      () => new Foundation(stack(), 'F', { github: { repository: 'nope', ref: 'refs/heads/main' } }),
    ).toThrow('must be "owner/repo"');
    expect(() => new Alerts(stack(), 'A', { monthlyBudgetUsd: 0 })).toThrow(
      'monthlyBudgetUsd must be positive',
    );
    expect(() => new Alerts(stack(), 'A', { monthlyBudgetUsd: 10, email: 'x' })).toThrow(
      'is not an e-mail address',
    );
    const apiOrigin = {
      domainName: 'origin.example.com',
      protocol: 'https' as const,
      secret: 'a'.repeat(32),
    };
    expect(() => new ConsoleSite(stack(), 'C', { apiOrigin: { ...apiOrigin, domainName: '' } })).toThrow(
      'apiOrigin.domainName is empty',
    );
    expect(() => new ConsoleSite(stack(), 'C', { apiOrigin, domainNames: ['c.example.com'] })).toThrow(
      'need a certificate or a hosted zone',
    );
  });
});
