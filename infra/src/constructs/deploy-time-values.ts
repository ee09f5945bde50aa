import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** AWS's managed prefix list of the addresses CloudFront connects to origins from. */
export const CLOUDFRONT_ORIGIN_FACING = 'com.amazonaws.global.cloudfront.origin-facing';

export interface DeployTimeValuesProps {
  /** An AL2023 arm64 image name to turn into this region's image id, or an `ami-…` id to use as it is. */
  readonly image: string;
  /** Changing it makes a new origin secret. @default 1 */
  readonly originSecretVersion?: number;
}

/**
 * Values CloudFormation learns at deploy time, so `cdk synth` needs no AWS access: the pinned image's id in this
 * region, CloudFront's origin-facing prefix list id, and a random origin secret. Each is an SDK call made once by
 * a custom resource, and again only when its input changes (a new image pin, a new secret version) — never on an
 * ordinary deploy, so the instance is not replaced and the secret does not move under CloudFront.
 */
export class DeployTimeValues extends Construct {
  /** The image id (a token, or the `ami-…` given). */
  public readonly imageId: string;
  public readonly cloudFrontPrefixListId: string;
  /** 48 letters and digits; CloudFront sends it, nginx checks it. */
  public readonly originSecret: string;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DeployTimeValuesProps) {
    super(scope, id);
    const version = props.originSecretVersion ?? 1;
    if (!Number.isInteger(version) || version < 1)
      throw new Error(`DeployTimeValues: originSecretVersion must be a positive integer, got ${version}`);
    if (!/^(ami-[0-9a-f]{8,17}|al2023-ami-[A-Za-z0-9._-]+-arm64)$/.test(props.image)) {
      throw new Error(
        `DeployTimeValues: image must be "ami-…" or an "al2023-ami-…-arm64" name, got "${props.image}"`,
      );
    }
    // One week of the lookups' own logs (the function is shared by the three resources).
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const lookup = (
      name: string,
      call: cr.AwsSdkCall,
      actions: string[],
      hideData = false,
    ): cr.AwsCustomResource =>
      new cr.AwsCustomResource(this, name, {
        onCreate: call,
        onUpdate: call,
        installLatestAwsSdk: false,
        logGroup: this.logGroup,
        // None of these actions has resource-level permissions.
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({ actions, resources: ['*'] }),
        ]),
        ...(hideData ? { logging: cr.Logging.withDataHidden() } : {}),
      });

    if (props.image.startsWith('ami-')) {
      this.imageId = props.image;
    } else {
      const image = lookup(
        'Image',
        {
          service: 'EC2',
          action: 'describeImages',
          parameters: {
            Owners: ['amazon'],
            Filters: [
              { Name: 'name', Values: [props.image] },
              { Name: 'architecture', Values: ['arm64'] },
            ],
            // AL2023 images are deprecated after a while; a pin stays valid (a deprecated image still launches).
            IncludeDeprecated: true,
          },
          physicalResourceId: cr.PhysicalResourceId.of(props.image),
          outputPaths: ['Images.0.ImageId'],
        },
        ['ec2:DescribeImages'],
      );
      this.imageId = image.getResponseField('Images.0.ImageId');
    }

    const prefixList = lookup(
      'CloudFrontPrefixList',
      {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING] }] },
        physicalResourceId: cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      ['ec2:DescribeManagedPrefixLists'],
    );
    this.cloudFrontPrefixListId = prefixList.getResponseField('PrefixLists.0.PrefixListId');

    const secret = lookup(
      'OriginSecret',
      {
        service: 'SecretsManager',
        action: 'getRandomPassword',
        parameters: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false },
        physicalResourceId: cr.PhysicalResourceId.of(`origin-secret-v${version}`),
        outputPaths: ['RandomPassword'],
      },
      ['secretsmanager:GetRandomPassword'],
      true,
    );
    this.originSecret = secret.getResponseField('RandomPassword');
  }
}
