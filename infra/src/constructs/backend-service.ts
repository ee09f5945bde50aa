import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import type { StoreBinding } from './data-store.js';

export const CONTAINER_PORT = 8080;

/** Liveness probe that needs nothing but node (the image has no curl or wget). */
export const HEALTH_CHECK_COMMAND = [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${CONTAINER_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
];

export interface BackendServiceProps {
  readonly vpc: ec2.IVpc;
  /** Where the tasks run: private, no public IP. */
  readonly privateSubnet: ec2.ISubnet;
  /** The proxy's security group: allowed in on the container port; tasks send NAT egress to it. */
  readonly proxySecurityGroup: ec2.ISecurityGroup;
  readonly repository: ecr.IRepository;
  /** @default 'latest' */
  readonly imageTag?: string;
  /** Fargate CPU units: 256 or 512. @default 512 */
  readonly cpu?: number;
  /** MiB: 512 with 256 CPU, 1024 with 512 CPU. @default 1024 */
  readonly memoryMiB?: number;
  /** Physical ECS service name (also the `Service` dimension of the EMF metrics). */
  readonly serviceName: string;
  /** The DynamoDB table and audio bucket (EARSHOT_STORE, EARSHOT_AUDIO), granted to the task role. */
  readonly store: StoreBinding;
  /** `EARSHOT_PUBLIC_URL`: where users reach the API. */
  readonly publicUrl: string;
  /** `EARSHOT_ALLOWED_ORIGINS`: the console origin(s). */
  readonly allowedOrigins: readonly string[];
  /**
   * `EARSHOT_ALLOWED_HOSTS`: Host names, besides the public URL's, that requests reach the task with. The server
   * refuses every other name (IP addresses pass), and nginx forwards the Host it received: when CloudFront
   * forwards the API to nginx, that is the proxy's public DNS name.
   * @default none
   */
  readonly allowedHosts?: readonly string[];
  readonly elevenLabsKey: secretsmanager.ISecret;
  readonly apiKeyHashes: secretsmanager.ISecret;
  /**
   * Private DNS namespace the proxy resolves; tasks register as `api.<namespace>` A records.
   * @default 'earshot.local'
   */
  readonly namespaceName?: string;
  /** @default ONE_WEEK */
  readonly logRetention?: logs.RetentionDays;
}

/** The Earshot server on Fargate (ARM64) in the private subnet, discovered by nginx through Cloud Map. */
export class BackendService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  /** `api.earshot.local`: the host nginx proxies to. */
  public readonly discoveryName: string;

  constructor(scope: Construct, id: string, props: BackendServiceProps) {
    super(scope, id);
    const cpu = props.cpu ?? 512;
    const memoryMiB = props.memoryMiB ?? 1024;
    const allowed: Record<number, number[]> = { 256: [512, 1024, 2048], 512: [1024, 2048, 3072, 4096] };
    if (!allowed[cpu]?.includes(memoryMiB)) {
      throw new Error(
        `BackendService: Fargate has no ${cpu} CPU / ${memoryMiB} MiB size; use 256/512 or 512/1024 (seed sizes)`,
      );
    }
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,254}$/.test(props.serviceName)) {
      throw new Error(
        `BackendService: serviceName "${props.serviceName}" must start with a letter (letters, digits, - and _)`,
      );
    }
    if (props.allowedOrigins.length === 0)
      throw new Error('BackendService: allowedOrigins needs the console origin');
    const namespaceName = props.namespaceName ?? 'earshot.local';

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      // Container Insights bills per metric; the dashboard uses the free AWS/ECS metrics and our EMF metrics.
      containerInsightsV2: ecs.ContainerInsights.DISABLED,
    });
    const namespace = this.cluster.addDefaultCloudMapNamespace({
      name: namespaceName,
      vpc: props.vpc,
      type: servicediscovery.NamespaceType.DNS_PRIVATE,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu,
      memoryLimitMiB: memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    // The only writable place: a task-local volume on /tmp (root file system is read-only).
    this.taskDefinition.addVolume({ name: 'tmp' });

    this.container = this.taskDefinition.addContainer('earshot', {
      image: ecs.ContainerImage.fromEcrRepository(props.repository, props.imageTag ?? 'latest'),
      essential: true,
      readonlyRootFilesystem: true,
      portMappings: [{ containerPort: CONTAINER_PORT, protocol: ecs.Protocol.TCP, name: 'http' }],
      environment: {
        NODE_ENV: 'production',
        HOST: '0.0.0.0',
        PORT: String(CONTAINER_PORT),
        EARSHOT_STORE: props.store.storeUrl,
        EARSHOT_AUDIO: props.store.audioUrl,
        // The bucket's lifecycle rule deletes audio after this: users may keep theirs for less, never more.
        EARSHOT_AUDIO_RETENTION_DAYS: String(props.store.audioExpirationDays),
        EARSHOT_PUBLIC_URL: props.publicUrl,
        EARSHOT_ALLOWED_ORIGINS: props.allowedOrigins.join(','),
        ...(props.allowedHosts?.length ? { EARSHOT_ALLOWED_HOSTS: props.allowedHosts.join(',') } : {}),
        // Every socket comes from nginx, which cuts slow clients itself: a per-client cap would cap all users.
        EARSHOT_MAX_CONNECTIONS_PER_CLIENT: '0',
        EARSHOT_DATA_DIR: '/tmp/earshot',
        EARSHOT_METRICS_SERVICE: props.serviceName,
      },
      secrets: {
        ELEVENLABS_API_KEY: ecs.Secret.fromSecretsManager(props.elevenLabsKey),
        EARSHOT_API_KEYS: ecs.Secret.fromSecretsManager(props.apiKeyHashes),
      },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'earshot', logGroup: this.logGroup }),
      healthCheck: {
        command: HEALTH_CHECK_COMMAND,
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // Fargate's maximum: a task being scaled in finishes the speech it is streaming.
      stopTimeout: Duration.seconds(120),
    });
    this.container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });

    props.store.grantStore(this.taskDefinition.taskRole);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Earshot tasks: only the proxy reaches them; HTTPS out through the NAT instance',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      props.proxySecurityGroup,
      ec2.Port.tcp(CONTAINER_PORT),
      'nginx on the proxy instance',
    );
    // ElevenLabs, ECR, Secrets Manager, CloudWatch Logs: all HTTPS, all through the NAT instance (S3 and DynamoDB
    // via their gateway endpoints).
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS egress through the NAT instance',
    );
    props.proxySecurityGroup.connections.allowFrom(
      this.securityGroup,
      ec2.Port.tcp(443),
      'NAT: HTTPS from the Earshot tasks',
    );

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      serviceName: props.serviceName,
      taskDefinition: this.taskDefinition,
      vpcSubnets: { subnets: [props.privateSubnet] },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      cloudMapOptions: {
        cloudMapNamespace: namespace,
        name: 'api',
        dnsRecordType: servicediscovery.DnsRecordType.A,
        // nginx re-resolves at this pace; short so a new task is reached quickly.
        dnsTtl: Duration.seconds(10),
      },
    });
    this.discoveryName = `api.${namespaceName}`;
  }
}
