import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * IPv4 range of the VPC.
   * @default '10.20.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Prefix length of each of the two subnets.
   * @default 24
   */
  readonly subnetMask?: number;
}

/**
 * One VPC, one AZ, one public subnet (the proxy/NAT instance) and one private subnet (Fargate tasks).
 * No NAT Gateway ($0.045/h + $0.045/GB): the private subnet's default route is added by `ProxyInstance`.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly publicSubnet: ec2.ISubnet;
  public readonly privateSubnet: ec2.Subnet;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const cidr = props.cidr ?? '10.20.0.0/16';
    const mask = props.subnetMask ?? 24;
    const vpcMask = Number(/^\d+\.\d+\.\d+\.\d+\/(\d+)$/.exec(cidr)?.[1] ?? NaN);
    if (!Number.isInteger(vpcMask) || vpcMask < 16 || vpcMask > 26) {
      throw new Error(`Network: cidr must be an IPv4 CIDR between /16 and /26, got "${cidr}"`);
    }
    if (!Number.isInteger(mask) || mask <= vpcMask || mask > 28) {
      throw new Error(
        `Network: subnetMask must be longer than the VPC's /${vpcMask} and at most /28, got ${mask}`,
      );
    }

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: 1,
      natGateways: 0,
      // The default security group is unused; restricting it needs a Lambda-backed custom resource, so we leave it.
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: mask, mapPublicIpOnLaunch: false },
        // PRIVATE_WITH_EGRESS with natGateways: 0 means "egress provided elsewhere": the proxy instance route.
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: mask },
      ],
    });
    const [pub] = this.vpc.publicSubnets;
    const [priv] = this.vpc.privateSubnets;
    if (!pub || !(priv instanceof ec2.Subnet))
      throw new Error('Network: expected one public and one private subnet');
    this.publicSubnet = pub;
    this.privateSubnet = priv;
    // Free: the store's audio and ECR image layers (stored in S3), and the store's table, bypass the NAT instance.
    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnets: [priv] }],
    });
    this.vpc.addGatewayEndpoint('DynamoDb', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [{ subnets: [priv] }],
    });
  }
}
