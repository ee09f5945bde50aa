import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { taskResources, type EarshotConfig } from './config.js';
import { Alerts } from './constructs/alerts.js';
import { BackendService, CONTAINER_PORT } from './constructs/backend-service.js';
import { ConsoleSite } from './constructs/console-site.js';
import { DataStore } from './constructs/data-store.js';
import { DeployTimeValues } from './constructs/deploy-time-values.js';
import { ecsSecretOf, Foundation } from './constructs/foundation.js';
import { Monitoring, PROXY_METRIC_NAMESPACE } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { ProxyInstance } from './constructs/proxy-instance.js';
import { ServiceSchedule } from './constructs/service-schedule.js';
import { imageOf, physicalSlug, profileOf } from './profiles.js';

/** The VPC's DNS resolver at its fixed link-local address. */
const VPC_RESOLVER = '169.254.169.253';
/** Where the proxy keeps its backup of /etc/letsencrypt, in the data bucket (not under the store's prefix). */
const CERT_BACKUP_KEY = 'proxy/letsencrypt.tar.gz';
/** What the origin record says until the proxy, without an Elastic IP, points it at itself at boot (TEST-NET-1). */
export const ORIGIN_PLACEHOLDER_IP = '192.0.2.1';

export const TRIAL_WARNING =
  'Trial mode (no domain): CloudFront reaches the proxy over plain HTTP, so API keys cross that leg in clear ' +
  'text. For real use set domain.apiDomain with domain.hostedZoneId and domain.hostedZoneName.';

/** Prefix of the stack's SSM parameters (the lean profile's secrets, the heartbeat URL). */
export const parameterPrefix = (config: EarshotConfig): string => `/earshot/${config.stackName}`;

export interface FoundationStackProps extends StackProps {
  readonly config: EarshotConfig;
}

/** ECR repository, secrets and the GitHub deploy role: deployed first, so an image and secrets exist before tasks. */
export class FoundationStack extends Stack {
  public readonly foundation: Foundation;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, props);
    this.foundation = new Foundation(this, 'Foundation', {
      keepImages: 5,
      github: props.config.github,
      secretStore: profileOf(props.config).secretStore,
      parameterPrefix: parameterPrefix(props.config),
    });
    new CfnOutput(this, 'RepositoryUri', { value: this.foundation.repository.repositoryUri });
    const secrets = { ElevenLabs: this.foundation.elevenLabsKey, ApiKeys: this.foundation.apiKeyHashes };
    for (const [name, secret] of Object.entries(secrets)) {
      if (secret.kind === 'secrets-manager')
        new CfnOutput(this, `${name}SecretArn`, { value: secret.secret.secretArn });
      else new CfnOutput(this, `${name}ParameterName`, { value: secret.parameterName });
    }
    if (this.foundation.deployRole)
      new CfnOutput(this, 'DeployRoleArn', { value: this.foundation.deployRole.roleArn });
  }
}

export interface EarshotStackProps extends StackProps {
  readonly config: EarshotConfig;
  readonly foundation: Foundation;
  /** Built console to upload (`web/dist`), when it exists. */
  readonly consoleAssetsPath?: string;
}

/** Everything that runs: network, proxy/NAT instance, Fargate service, schedule, store, console, monitoring. */
export class EarshotStack extends Stack {
  public readonly network: Network;
  public readonly values: DeployTimeValues;
  public readonly proxy: ProxyInstance;
  public readonly backend: BackendService;
  public readonly schedule: ServiceSchedule;
  public readonly data: DataStore;
  public readonly console: ConsoleSite;
  public readonly alerts: Alerts;
  public readonly monitoring: Monitoring;
  /** Where agents reach the API (`EARSHOT_URL`). */
  public readonly apiUrl: string;
  public readonly config: EarshotConfig;

  constructor(scope: Construct, id: string, props: EarshotStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const profile = profileOf(config);
    const domain = config.domain;
    // The `Service` dimension of the server's metrics: the stack name, unique per account and region.
    const metricsService = config.stackName;
    const slug = physicalSlug(config.stackName);
    const zone =
      domain?.hostedZoneId && domain.hostedZoneName
        ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
            hostedZoneId: domain.hostedZoneId,
            zoneName: domain.hostedZoneName,
          })
        : undefined;
    if (!domain) Annotations.of(this).addWarningV2('earshot:trial', TRIAL_WARNING);

    this.alerts = new Alerts(this, 'Alerts', {
      monthlyBudgetUsd: config.alerts.monthlyBudgetUsd,
      email: config.alerts.email,
    });
    this.network = new Network(this, 'Network');
    this.data = new DataStore(this, 'Data', {
      prefix: 'data',
      audioExpirationDays: config.data.audioExpirationDays,
    });
    this.values = new DeployTimeValues(this, 'DeployTime', {
      image: imageOf(config),
      originSecretVersion: config.cloudFront.originSecretVersion,
    });

    // Tasks are found through Cloud Map DNS (default) or the ECS API (lean: no private zone to pay for).
    const clusterName = profile.discovery === 'ecs-api' ? config.stackName : undefined;
    const namespaceName = profile.discovery === 'cloud-map-dns' ? `${slug}.earshot.local` : undefined;
    const heartbeatParameter = `${parameterPrefix(config)}/heartbeat-url`;
    const s = config.schedule;
    this.proxy = new ProxyInstance(this, 'Proxy', {
      vpc: this.network.vpc,
      publicSubnet: this.network.publicSubnet,
      privateSubnet: this.network.privateSubnet,
      imageId: this.values.imageId,
      cloudFrontPrefixListId: this.values.cloudFrontPrefixListId,
      elasticIp: profile.elasticIp,
      rootVolumeGiB: profile.rootVolumeGiB,
      swapMiB: profile.swapMiB,
      alarmTopic: this.alerts.topic,
      host: {
        nginx: {
          domain: domain?.originDomain,
          publicHost: domain?.apiDomain,
          letsEncryptEmail: domain ? (domain.letsEncryptEmail ?? config.alerts.email) : undefined,
          upstreamHost: namespaceName ? `api.${namespaceName}` : `tasks.${slug}.earshot.local`,
          upstreamPort: CONTAINER_PORT,
          resolver: VPC_RESOLVER,
        },
        originSecret: this.values.originSecret,
        discovery: clusterName ? { kind: 'ecs', cluster: clusterName } : { kind: 'dns' },
        certBackup: domain ? { bucket: this.data.bucket.bucketName, key: CERT_BACKUP_KEY } : undefined,
        dns:
          !profile.elasticIp && domain?.hostedZoneId
            ? { zoneId: domain.hostedZoneId, name: domain.originDomain }
            : undefined,
        heartbeat: {
          urlParameter: heartbeatParameter,
          namespace: PROXY_METRIC_NAMESPACE,
          service: metricsService,
        },
        patch: { timeZone: s.timeZone, day: s.patch.day, start: s.patch.start, minutes: s.patch.minutes },
        extraPackages: profile.image === 'minimal' ? ['amazon-ssm-agent'] : [],
      },
      access: {
        certBackup: domain ? { bucket: this.data.bucket, key: CERT_BACKUP_KEY } : undefined,
        dnsRecord: !profile.elasticIp && zone && domain ? { zone, name: domain.originDomain } : undefined,
        ecsClusterName: clusterName,
        heartbeat: { parameterName: heartbeatParameter, namespace: PROXY_METRIC_NAMESPACE },
      },
    });

    // CloudFront reaches the proxy by this name: the Elastic IP, or (lean) whatever address the proxy wrote at boot.
    if (domain && zone) {
      const origin = new route53.ARecord(this, 'OriginRecord', {
        zone,
        recordName: domain.originDomain,
        target: route53.RecordTarget.fromIpAddresses(this.proxy.publicIp ?? ORIGIN_PLACEHOLDER_IP),
        ttl: Duration.seconds(60),
        comment: this.proxy.publicIp
          ? 'Earshot: the proxy (Elastic IP)'
          : 'Earshot: the proxy rewrites this at every boot (earshot-dns); CloudFormation only creates and deletes it',
      });
      // The proxy's first UPSERT must come after CloudFormation created the record.
      if (!this.proxy.publicIp) this.proxy.instance.node.addDependency(origin);
    }

    this.console = new ConsoleSite(this, 'Console', {
      apiOrigin: {
        domainName: domain ? domain.originDomain : this.proxy.publicDnsName(),
        protocol: domain ? 'https' : 'http',
        secret: this.values.originSecret,
      },
      assetsPath: props.consoleAssetsPath,
      domainNames: domain
        ? [domain.apiDomain, ...(domain.consoleDomain ? [domain.consoleDomain] : [])]
        : undefined,
      certificate: domain?.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn)
        : undefined,
      hostedZone: zone,
      waf: config.cloudFront.waf
        ? config.cloudFront.webAclArn
          ? { webAclArn: config.cloudFront.webAclArn }
          : { create: true }
        : undefined,
      signedUrlsPublicKeyPem: config.cloudFront.signedUrls
        ? config.cloudFront.signedUrlsPublicKeyPem
        : undefined,
    });
    this.apiUrl = domain ? `https://${domain.apiDomain}` : this.console.cloudFrontOrigin;
    const consoleUrl = domain?.consoleDomain
      ? `https://${domain.consoleDomain}`
      : this.console.cloudFrontOrigin;
    new ssm.StringParameter(this, 'HeartbeatUrl', {
      parameterName: heartbeatParameter,
      stringValue: `${this.apiUrl}/healthz`,
      description:
        'Earshot: the URL the proxy fetches through CloudFront every minute (earshot-aws heartbeat)',
    });

    const size = taskResources(config);
    this.backend = new BackendService(this, 'Backend', {
      vpc: this.network.vpc,
      privateSubnet: this.network.privateSubnet,
      proxySecurityGroup: this.proxy.securityGroup,
      repository: props.foundation.repository,
      imageTag: config.task.imageTag ?? UNSET_IMAGE_TAG,
      cpu: size.cpu,
      memoryMiB: size.memoryMiB,
      serviceName: metricsService,
      clusterName,
      store: this.data,
      publicUrl: this.apiUrl,
      proxySecret: this.values.originSecret,
      // Every name the console can be opened on (each alias of the distribution serves it).
      allowedOrigins: [
        this.console.cloudFrontOrigin,
        ...(domain ? [`https://${domain.apiDomain}`] : []),
        ...(domain?.consoleDomain ? [`https://${domain.consoleDomain}`] : []),
      ],
      // CloudFront sends the origin's name as Host; nginx passes it on.
      allowedHosts: [domain ? domain.originDomain : this.proxy.publicDnsName()],
      elevenLabsKey: ecsSecretOf(this, 'ElevenLabsKey', props.foundation.elevenLabsKey),
      apiKeyHashes: ecsSecretOf(this, 'ApiKeyHashes', props.foundation.apiKeyHashes),
      namespaceName,
    });
    if (!config.task.imageTag) {
      Annotations.of(this).addWarningV2(
        'earshot:imageTag',
        `No task.imageTag: the service would run "${UNSET_IMAGE_TAG}", which does not exist. Deploy with ` +
          '-c imageTag=<the commit SHA you pushed> (the deploy workflow does).',
      );
    }
    // The first tasks pull their image through the NAT: wait for the instance's signal (NAT and nginx answer)
    // and for the private subnet's default route through it.
    this.backend.service.node.addDependency(this.proxy.instance, this.proxy.defaultRoute);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      service: this.backend.service,
      serviceName: metricsService,
      logGroup: this.backend.logGroup,
      instance: this.proxy.instance,
      instanceAlarms: [this.proxy.statusAlarm, this.proxy.recoveryAlarm],
      topic: this.alerts.topic,
      connectionsHighThreshold: config.alerts.connectionsHighThreshold,
    });

    this.schedule = new ServiceSchedule(this, 'Schedule', {
      service: this.backend.service,
      serviceName: metricsService,
      instance: this.proxy.instance,
      timeZone: s.timeZone,
      start: s.start,
      end: s.end,
      days: s.days,
      instanceLeadMinutes: s.instanceLeadMinutes,
      instanceLagMinutes: s.instanceLagMinutes,
      patchWindow: s.patch,
      maxTasks: config.task.maxTasks,
      targetConnectionsPerTask: config.task.targetConnectionsPerTask,
      activeHoursAlarms: [this.monitoring.noTaskAlarm, this.monitoring.proxyUnreachableAlarm],
    });

    new CfnOutput(this, 'ConsoleUrl', { value: consoleUrl });
    new CfnOutput(this, 'ApiUrl', {
      value: this.apiUrl,
      description: 'EARSHOT_URL for `earshot mcp`; /mcp for HTTP MCP clients',
    });
    if (this.proxy.publicIp) {
      new CfnOutput(this, 'ProxyPublicIp', {
        value: this.proxy.publicIp,
        description: domain && !zone ? `Point ${domain.originDomain} (A record) here` : 'The Elastic IP',
      });
    }
    new CfnOutput(this, 'ClusterName', { value: this.backend.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.backend.service.serviceName });
    new CfnOutput(this, 'ConsoleBucketName', { value: this.console.bucket.bucketName });
    new CfnOutput(this, 'DistributionId', { value: this.console.distribution.distributionId });
    new CfnOutput(this, 'DistributionDomainName', {
      value: this.console.distribution.distributionDomainName,
    });
    new CfnOutput(this, 'DataBucketName', { value: this.data.bucket.bucketName });
    new CfnOutput(this, 'DataTableName', {
      value: this.data.table.tableName,
      description: 'EARSHOT_STORE=dynamodb://<this>',
    });
    new CfnOutput(this, 'ProxyInstanceId', { value: this.proxy.instance.instanceId });
  }
}

/** The tag a stack synthesized without `task.imageTag` names: it never exists, so nothing unknown ever runs. */
export const UNSET_IMAGE_TAG = 'unset-pass-imageTag';
