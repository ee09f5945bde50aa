import { Aws, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { proxyFiles, type ProxyHostOptions } from '../proxy/files.js';
import { renderUserData } from '../proxy/user-data.js';
import { cloudFormationInit } from './proxy-config.js';
import { grantProxyAccess, type ProxyAccess } from './proxy-access.js';

export interface ProxyInstanceProps {
  readonly vpc: ec2.IVpc;
  /** Public subnet the instance lives in. */
  readonly publicSubnet: ec2.ISubnet;
  /** Private subnet whose default route goes through this instance (NAT). */
  readonly privateSubnet: ec2.Subnet;
  /** Image id (a deploy-time token from the pinned name is fine): arm64 Amazon Linux 2023. */
  readonly imageId: string;
  /** What runs on the instance: rendered into its metadata. The CIDR is taken from `privateSubnet`. */
  readonly host: Omit<ProxyHostOptions, 'cfn' | 'natSourceCidr' | 'region'>;
  /** What the instance's scripts may call in AWS (certificate backup, DNS record, task list, heartbeat). */
  readonly access: ProxyAccess;
  /** CloudFront's origin-facing managed prefix list: the only source allowed on the API port. */
  readonly cloudFrontPrefixListId: string;
  /**
   * A fixed address (Elastic IP, billed all month) instead of the one assigned at each start (billed only while
   * running; the instance then points `host.dns` at it at boot).
   * @default true
   */
  readonly elasticIp?: boolean;
  /** Instance type; must be ARM (Graviton). @default t4g.nano */
  readonly instanceType?: ec2.InstanceType;
  /** Root volume (gp3, encrypted, billed while stopped too); at least the image's snapshot. @default 8 */
  readonly rootVolumeGiB?: number;
  /** Swap file on the root volume. @default 1024 */
  readonly swapMiB?: number;
  /** How long CloudFormation waits for the first boot's signal. @default 25 minutes */
  readonly signalTimeout?: Duration;
  /** Topic notified when status checks fail. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The single t4g.nano of the seed: the private subnet's NAT and the nginx proxy CloudFront reaches the API through.
 * On-demand, stopped and started by schedule (EBS-backed stop/start is its lifecycle; see config.ts on Spot).
 * Its configuration is CloudFormation metadata applied in place; its user data never changes; its first boot
 * signals CloudFormation only when NAT and nginx answer.
 */
export class ProxyInstance extends Construct {
  public readonly instance: ec2.Instance;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The private subnet's default route through this instance (the tasks' only way out). */
  public readonly defaultRoute: ec2.CfnRoute;
  public readonly elasticIp?: ec2.CfnEIP;
  /** The Elastic IP's address, when there is one. */
  public readonly publicIp?: string;
  public readonly statusAlarm: cloudwatch.Alarm;
  public readonly recoveryAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ProxyInstanceProps) {
    super(scope, id);
    const instanceType = props.instanceType ?? new ec2.InstanceType('t4g.nano');
    if (instanceType.architecture !== ec2.InstanceArchitecture.ARM_64) {
      throw new Error(
        `ProxyInstance: instanceType must be an ARM (Graviton) type such as t4g.nano, got ${instanceType.toString()}`,
      );
    }
    const rootVolumeGiB = props.rootVolumeGiB ?? 8;
    const swapMiB = props.swapMiB ?? 1024;
    if (!Number.isInteger(rootVolumeGiB) || rootVolumeGiB < 2 || rootVolumeGiB > 64) {
      throw new Error(`ProxyInstance: rootVolumeGiB must be an integer from 2 to 64, got ${rootVolumeGiB}`);
    }
    if (swapMiB >= (rootVolumeGiB * 1024) / 2) {
      throw new Error(
        `ProxyInstance: a ${swapMiB} MiB swap file leaves too little of a ${rootVolumeGiB} GiB volume`,
      );
    }
    const withDomain = props.host.nginx.domain !== undefined;
    if (!props.elasticIp && props.elasticIp !== undefined && !props.host.dns) {
      throw new Error('ProxyInstance: without an Elastic IP the instance must update host.dns at boot');
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: withDomain
        ? 'Earshot proxy: HTTPS from CloudFront only, HTTP from anywhere for ACME; NAT egress'
        : 'Earshot proxy (trial): HTTP from CloudFront only; NAT egress',
      // Forwarded (NAT) traffic leaves through this interface to any destination, and nginx reaches the tasks.
      allowAllOutbound: true,
    });
    const cloudFront = ec2.Peer.prefixList(props.cloudFrontPrefixListId);
    if (withDomain) {
      this.securityGroup.addIngressRule(
        cloudFront,
        ec2.Port.tcp(443),
        'HTTPS: the API, from CloudFront only',
      );
      this.securityGroup.addIngressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(80),
        "HTTP: Let's Encrypt challenges; everything else is redirected to CloudFront",
      );
    } else {
      this.securityGroup.addIngressRule(cloudFront, ec2.Port.tcp(80), 'HTTP: the API, from CloudFront only');
    }

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description:
        'Earshot proxy instance: Session Manager access (no SSH key, no port 22) and its own scripts',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    grantProxyAccess(role, props.access);

    const imageId = props.imageId;
    // The instance's own logical id, for cfn-init and cfn-signal (known once the instance exists).
    const resource = Lazy.string({ produce: () => Stack.of(this).getLogicalId(this.instance.instance) });
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.publicSubnet] },
      instanceType,
      // The pinned image: never re-resolved on deploy (src/ami-pins.ts).
      machineImage: {
        getImage: () => ({
          imageId,
          osType: ec2.OperatingSystemType.LINUX,
          userData: ec2.UserData.forLinux(),
        }),
      },
      securityGroup: this.securityGroup,
      role,
      userData: ec2.UserData.custom(
        renderUserData({ stack: Aws.STACK_NAME, region: Aws.REGION, resource, swapMiB }),
      ),
      userDataCausesReplacement: false,
      // NAT: the instance forwards packets that are not addressed to it.
      sourceDestCheck: false,
      // An address from the first second of boot: packages come from the internet before any Elastic IP attaches.
      associatePublicIpAddress: true,
      requireImdsv2: true,
      detailedMonitoring: false,
      // Standard credits: the bill cannot grow past the hourly price (unlimited mode charges for surplus credits).
      creditSpecification: ec2.CpuCredits.STANDARD,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(rootVolumeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    const cfnInstance = this.instance.instance;
    const files = proxyFiles({
      ...props.host,
      natSourceCidr: props.privateSubnet.ipv4CidrBlock,
      region: Stack.of(this).region,
      cfn: { stack: Aws.STACK_NAME, resource },
    });
    cfnInstance.addMetadata('AWS::CloudFormation::Init', cloudFormationInit(files));
    cfnInstance.cfnOptions.creationPolicy = {
      resourceSignal: {
        count: 1,
        timeout: `PT${(props.signalTimeout ?? Duration.minutes(25)).toMinutes()}M`,
      },
    };

    if (props.elasticIp ?? true) {
      this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', {
        domain: 'vpc',
        instanceId: this.instance.instanceId,
      });
      this.publicIp = this.elasticIp.attrPublicIp;
    }

    props.privateSubnet.addRoute('DefaultRouteViaProxy', {
      routerType: ec2.RouterType.INSTANCE,
      routerId: this.instance.instanceId,
      destinationCidrBlock: '0.0.0.0/0',
      enablesInternetConnectivity: true,
    });
    this.defaultRoute = props.privateSubnet.node.findChild('DefaultRouteViaProxy') as ec2.CfnRoute;

    const statusMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName,
        dimensionsMap: { InstanceId: this.instance.instanceId },
        statistic: 'Maximum',
        // Status checks are published every minute even with basic monitoring.
        period: Duration.minutes(1),
      });
    // Missing data = the instance is stopped on schedule: not a failure (the heartbeat alarm covers active hours).
    this.statusAlarm = statusMetric('StatusCheckFailed').createAlarm(this, 'StatusCheckFailed', {
      alarmDescription: 'Earshot proxy/NAT instance fails its status checks: API and task egress are down',
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.statusAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    this.statusAlarm.addOkAction(new cwActions.SnsAction(props.alarmTopic));

    this.recoveryAlarm = statusMetric('StatusCheckFailed_System').createAlarm(this, 'SystemCheckRecovery', {
      alarmDescription: 'System status check failed: recover the proxy instance onto healthy hardware',
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.recoveryAlarm.addAlarmAction(new cwActions.Ec2Action(cwActions.Ec2InstanceAction.RECOVER));
  }

  /** The EC2 public DNS name of the Elastic IP (CloudFront origins need a name): the trial's origin. */
  public publicDnsName(): string {
    if (!this.publicIp) throw new Error('ProxyInstance: no Elastic IP, so no fixed public DNS name');
    const dashed = Fn.join('-', Fn.split('.', this.publicIp));
    const region = Stack.of(this).region;
    const suffix = region === 'us-east-1' ? '.compute-1.amazonaws.com' : `.${region}.compute.amazonaws.com`;
    return Fn.join('', ['ec2-', dashed, suffix]);
  }
}
