import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { taskResources, type EarshotConfig } from './config.js';
import { Alerts } from './constructs/alerts.js';
import { BackendService, CONTAINER_PORT } from './constructs/backend-service.js';
import { ConsoleSite } from './constructs/console-site.js';
import { DataStore } from './constructs/data-store.js';
import { Foundation } from './constructs/foundation.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { ProxyInstance } from './constructs/proxy-instance.js';
import { ServiceSchedule } from './constructs/service-schedule.js';
import { renderProxyUserData } from './proxy/render.js';

/** The VPC's DNS resolver at its fixed link-local address. */
const VPC_RESOLVER = '169.254.169.253';

export interface FoundationStackProps extends StackProps {
  readonly config: EarshotConfig;
}

/** ECR repository, secrets and the GitHub deploy role: deployed first, so an image and secrets exist before tasks. */
export class FoundationStack extends Stack {
  public readonly foundation: Foundation;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, props);
    this.foundation = new Foundation(this, 'Foundation', { keepImages: 5, github: props.config.github });
    new CfnOutput(this, 'RepositoryUri', { value: this.foundation.repository.repositoryUri });
    new CfnOutput(this, 'ElevenLabsSecretArn', { value: this.foundation.elevenLabsKey.secretArn });
    new CfnOutput(this, 'ApiKeysSecretArn', { value: this.foundation.apiKeyHashes.secretArn });
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
  public readonly proxy: ProxyInstance;
  public readonly backend: BackendService;
  public readonly schedule: ServiceSchedule;
  public readonly data: DataStore;
  public readonly console: ConsoleSite;
  public readonly alerts: Alerts;
  public readonly monitoring: Monitoring;
  /** Where browsers and agents reach the API. */
  public readonly apiUrl: string;
  public readonly config: EarshotConfig;

  constructor(scope: Construct, id: string, props: EarshotStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const domain = config.domain;
    const serviceName = `${config.stackName.toLowerCase()}-server`;
    const zone =
      domain?.hostedZoneId && domain.hostedZoneName
        ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
            hostedZoneId: domain.hostedZoneId,
            zoneName: domain.hostedZoneName,
          })
        : undefined;

    this.alerts = new Alerts(this, 'Alerts', {
      monthlyBudgetUsd: config.alerts.monthlyBudgetUsd,
      email: config.alerts.email,
    });
    this.network = new Network(this, 'Network');
    this.data = new DataStore(this, 'Data', {
      prefix: 'data',
      audioExpirationDays: config.data.audioExpirationDays,
    });

    // nginx only passes Origin through (the server checks it); it is told the console origin when that is a fixed name.
    const discoveryHost = 'api.earshot.local';
    this.proxy = new ProxyInstance(this, 'Proxy', {
      vpc: this.network.vpc,
      publicSubnet: this.network.publicSubnet,
      privateSubnet: this.network.privateSubnet,
      spot: config.instance.spot,
      alarmTopic: this.alerts.topic,
      userData: renderProxyUserData({
        domain: domain?.apiDomain,
        letsEncryptEmail: domain ? (domain.letsEncryptEmail ?? config.alerts.email) : undefined,
        upstreamHost: discoveryHost,
        upstreamPort: CONTAINER_PORT,
        resolver: VPC_RESOLVER,
        consoleOrigin: domain?.consoleDomain ? `https://${domain.consoleDomain}` : undefined,
      }),
    });

    // Without a domain the console and the API share CloudFront's HTTPS name; with one, browsers reach nginx directly.
    const apiDomainUrl = domain ? `https://${domain.apiDomain}` : undefined;
    this.console = new ConsoleSite(this, 'Console', {
      apiBaseUrl: apiDomainUrl,
      apiThroughCloudFront: domain ? undefined : this.proxy.publicDnsName,
      assetsPath: props.consoleAssetsPath,
      domainName: domain?.consoleDomain,
      certificate: domain?.consoleCertificateArn
        ? acm.Certificate.fromCertificateArn(this, 'ConsoleCertificate', domain.consoleCertificateArn)
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
    this.apiUrl = apiDomainUrl ?? this.console.origin;

    const size = taskResources(config);
    this.backend = new BackendService(this, 'Backend', {
      vpc: this.network.vpc,
      privateSubnet: this.network.privateSubnet,
      proxySecurityGroup: this.proxy.securityGroup,
      repository: props.foundation.repository,
      imageTag: config.task.imageTag,
      cpu: size.cpu,
      memoryMiB: size.memoryMiB,
      serviceName,
      store: this.data,
      publicUrl: this.apiUrl,
      allowedOrigins: [this.console.origin],
      // Through CloudFront the API arrives with the proxy's name as Host (CloudFront sends its origin's name).
      allowedHosts: domain ? [] : [this.proxy.publicDnsName],
      elevenLabsKey: props.foundation.elevenLabsKey,
      apiKeyHashes: props.foundation.apiKeyHashes,
      namespaceName: 'earshot.local',
    });
    if (this.backend.discoveryName !== discoveryHost)
      throw new Error('EarshotStack: discovery name mismatch');
    // Tasks pull their image through the NAT instance: create the route first.
    this.backend.service.node.addDependency(this.proxy);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      service: this.backend.service,
      serviceName,
      logGroup: this.backend.logGroup,
      instance: this.proxy.instance,
      instanceAlarms: [this.proxy.statusAlarm, this.proxy.recoveryAlarm],
      topic: this.alerts.topic,
      connectionsHighThreshold: config.alerts.connectionsHighThreshold,
    });

    this.schedule = new ServiceSchedule(this, 'Schedule', {
      service: this.backend.service,
      serviceName,
      instance: this.proxy.instance,
      timeZone: config.schedule.timeZone,
      start: config.schedule.start,
      end: config.schedule.end,
      days: config.schedule.days,
      instanceLeadMinutes: config.schedule.instanceLeadMinutes,
      instanceLagMinutes: config.schedule.instanceLagMinutes,
      maxTasks: config.task.maxTasks,
      targetConnectionsPerTask: config.task.targetConnectionsPerTask,
      activeHoursAlarms: [this.monitoring.noTaskAlarm],
    });

    if (domain && zone) {
      new route53.ARecord(this, 'ApiRecord', {
        zone,
        recordName: domain.apiDomain,
        target: route53.RecordTarget.fromIpAddresses(this.proxy.publicIp),
      });
    }

    new CfnOutput(this, 'ConsoleUrl', { value: this.console.origin });
    new CfnOutput(this, 'ApiUrl', {
      value: this.apiUrl,
      description: 'EARSHOT_URL for `earshot mcp`; /mcp for HTTP MCP clients',
    });
    new CfnOutput(this, 'ProxyPublicIp', {
      value: this.proxy.publicIp,
      description: "Point the API domain's A record here",
    });
    new CfnOutput(this, 'ConsoleBucketName', { value: this.console.bucket.bucketName });
    new CfnOutput(this, 'DistributionId', { value: this.console.distribution.distributionId });
    new CfnOutput(this, 'DataBucketName', { value: this.data.bucket.bucketName });
    new CfnOutput(this, 'DataTableName', {
      value: this.data.table.tableName,
      description: 'EARSHOT_STORE=dynamodb://<this>',
    });
    new CfnOutput(this, 'ProxyInstanceId', { value: this.proxy.instance.instanceId });
  }
}
