import { CfnCondition, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface ProxyInstanceProps {
  readonly vpc: ec2.IVpc;
  /** Public subnet the instance lives in. */
  readonly publicSubnet: ec2.ISubnet;
  /** Private subnet whose default route goes through this instance (NAT). */
  readonly privateSubnet: ec2.Subnet;
  /** Full user data script (NAT setup + nginx), rendered by `renderProxyUserData`. */
  readonly userData: string;
  /**
   * Instance type; must be an ARM (Graviton) type because the image is the arm64 Amazon Linux 2023.
   * @default t4g.nano
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * Run as a persistent Spot instance that stops (rather than terminates) on interruption.
   * @default false
   */
  readonly spot?: boolean;
  /**
   * Root volume size in GiB (gp3, encrypted). Billed while the instance is stopped, too.
   * @default 8
   */
  readonly rootVolumeGiB?: number;
  /** Topic notified when status checks fail. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The single t4g.nano of the seed: nginx reverse proxy (TLS, WebSocket, SSE) and NAT for the private subnet.
 * Status-check alarms recover it automatically; scheduled start/stop lives in `ServiceSchedule`.
 */
export class ProxyInstance extends Construct {
  public readonly instance: ec2.Instance;
  public readonly securityGroup: ec2.SecurityGroup;
  /**
   * Fixed public address. Chosen over an auto-assigned one although it bills $0.005/h around the clock (about $3.65 a
   * month) instead of only while running: an auto-assigned address changes at every scheduled stop/start, which
   * breaks the DNS record of the API and CloudFront's origin.
   */
  public readonly elasticIp: ec2.CfnEIP;
  public readonly publicIp: string;
  /** EC2 public DNS name of the Elastic IP (CloudFront origins need a name, not an address). */
  public readonly publicDnsName: string;
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
    if (!Number.isInteger(rootVolumeGiB) || rootVolumeGiB < 8 || rootVolumeGiB > 64) {
      throw new Error(
        `ProxyInstance: rootVolumeGiB must be an integer from 8 (the AL2023 image size) to 64, got ${rootVolumeGiB}`,
      );
    }
    if (props.userData.trim() === '')
      throw new Error('ProxyInstance: userData is empty; render it with renderProxyUserData');

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Earshot proxy: HTTP(S) from anywhere; NAT egress for the private subnet',
      // Forwarded (NAT) traffic leaves through this interface to any destination, and nginx reaches the tasks.
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(80),
      "HTTP: Let's Encrypt challenge, redirect to HTTPS",
    );
    this.securityGroup.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: API, MCP and player WebSocket',
    );

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Earshot proxy instance: Session Manager access (no SSH key, no port 22)',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.publicSubnet] },
      instanceType,
      // Resolved at deploy time from the public SSM parameter: no lookup at synth.
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      securityGroup: this.securityGroup,
      role,
      userData: ec2.UserData.custom(props.userData),
      // New nginx config → new instance (the Elastic IP and the route follow it).
      userDataCausesReplacement: true,
      // NAT: the instance forwards packets that are not addressed to it.
      sourceDestCheck: false,
      // Public address from the first second of boot so the user data can install packages before the EIP attaches.
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

    if (props.spot) {
      // Replaces the IMDSv2 template ec2.Instance made, so it requires IMDSv2 itself.
      const template = new ec2.LaunchTemplate(this, 'SpotTemplate', {
        requireImdsv2: true,
        spotOptions: {
          requestType: ec2.SpotRequestType.PERSISTENT,
          interruptionBehavior: ec2.SpotInstanceInterruption.STOP,
        },
      });
      this.instance.instance.launchTemplate = {
        launchTemplateId: template.launchTemplateId,
        version: template.latestVersionNumber,
      };
    }

    this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', {
      domain: 'vpc',
      instanceId: this.instance.instanceId,
    });
    this.publicIp = this.elasticIp.attrPublicIp;
    const dashed = Fn.join('-', Fn.split('.', this.publicIp));
    const region = Stack.of(this).region;
    // us-east-1 names its public DNS differently from every other region.
    const suffix = (r: string) =>
      r === 'us-east-1' ? '.compute-1.amazonaws.com' : `.${r}.compute.amazonaws.com`;
    this.publicDnsName = Token.isUnresolved(region)
      ? Fn.conditionIf(
          new CfnCondition(this, 'InUsEast1', { expression: Fn.conditionEquals(region, 'us-east-1') })
            .logicalId,
          Fn.join('', ['ec2-', dashed, '.compute-1.amazonaws.com']),
          Fn.join('', ['ec2-', dashed, '.', region, '.compute.amazonaws.com']),
        ).toString()
      : Fn.join('', ['ec2-', dashed, suffix(region)]);

    props.privateSubnet.addRoute('DefaultRouteViaProxy', {
      routerType: ec2.RouterType.INSTANCE,
      routerId: this.instance.instanceId,
      destinationCidrBlock: '0.0.0.0/0',
      enablesInternetConnectivity: true,
    });

    const statusMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName,
        dimensionsMap: { InstanceId: this.instance.instanceId },
        statistic: 'Maximum',
        // Status checks are published every minute even with basic monitoring.
        period: Duration.minutes(1),
      });
    // Missing data = the instance is stopped on schedule: not a failure.
    this.statusAlarm = statusMetric('StatusCheckFailed').createAlarm(this, 'StatusCheckFailed', {
      alarmDescription: 'Earshot proxy/NAT instance fails its status checks: API and task egress are down',
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.statusAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    this.statusAlarm.addOkAction(new cwActions.SnsAction(props.alarmTopic));

    // EC2 cannot "recover" Spot instances; reboot is the closest automatic action there.
    this.recoveryAlarm = statusMetric('StatusCheckFailed_System').createAlarm(this, 'SystemCheckRecovery', {
      alarmDescription: props.spot
        ? 'System status check failed: reboot the Spot proxy instance'
        : 'System status check failed: recover the proxy instance onto healthy hardware',
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.recoveryAlarm.addAlarmAction(
      new cwActions.Ec2Action(
        props.spot ? cwActions.Ec2InstanceAction.REBOOT : cwActions.Ec2InstanceAction.RECOVER,
      ),
    );
  }
}
