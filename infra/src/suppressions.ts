import { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { acknowledge } from './nag.js';
import type { EarshotStack, FoundationStack } from './stacks.js';

/**
 * Every accepted cdk-nag (AwsSolutions) finding, scoped to the construct it concerns, with the reason it is accepted.
 * `docs/deploy.md` lists the same table.
 */
export function applyNagSuppressions(foundation: FoundationStack, service: EarshotStack): void {
  const f = foundation.foundation;
  for (const ref of [f.elevenLabsKey, f.apiKeyHashes]) {
    if (ref.kind !== 'secrets-manager') continue;
    acknowledge(
      ref.secret,
      'AwsSolutions-SMG4',
      'Third-party API keys (ElevenLabs) and Earshot key hashes cannot be rotated by a Lambda: they are replaced by hand when a key changes.',
    );
  }
  if (f.deployRole) {
    acknowledge(
      f.deployRole,
      'AwsSolutions-IAM5',
      'ecr:GetAuthorizationToken has no resource-level permissions; it must be granted on "*". Pushes are limited to the one repository.',
      ['Resource::*'],
    );
    acknowledge(
      f.deployRole,
      'AwsSolutions-IAM5',
      'The role may only assume the CDK bootstrap roles of this account and region (cdk-hnb659fds-*), which is what `cdk deploy` needs.',
      [
        `Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-hnb659fds-*-<AWS::AccountId>-${foundation.region}`,
      ],
    );
  }

  acknowledge(
    service.network.vpc,
    'AwsSolutions-VPC7',
    'Flow logs would cost more than the rest of the monitoring for a two-subnet VPC whose only public entry is the proxy; nginx access logs on the instance cover the traffic that matters.',
  );
  acknowledge(
    service.data.bucket,
    'AwsSolutions-S1',
    'Only the task role reads and writes the store; server access logs would need another bucket and cost more than the data. CloudTrail data events can be enabled if an audit is needed.',
  );
  acknowledge(
    service.console.bucket,
    'AwsSolutions-S1',
    'The bucket is only read by CloudFront through origin access control; it holds the public console build. Access is visible in CloudFront metrics.',
  );

  if (service.config.domain) {
    acknowledge(
      service.proxy.securityGroup,
      'AwsSolutions-EC23',
      "Only port 80 is open to the world, for Let's Encrypt's HTTP-01 challenges (its validation servers have no published addresses); nginx redirects everything else there to CloudFront. The API port admits CloudFront's origin-facing prefix list only.",
    );
  }
  acknowledge(
    service.proxy,
    'AwsSolutions-IAM4',
    'AmazonSSMManagedInstanceCore is the documented minimum for Session Manager; it replaces SSH (no key pair, no port 22).',
    ['Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore'],
  );
  acknowledge(
    service.proxy.instance,
    'AwsSolutions-EC28',
    'The seed asks for basic monitoring: detailed monitoring costs $2.10/month per instance; status checks are per-minute anyway.',
  );
  acknowledge(
    service.proxy.instance,
    'AwsSolutions-EC29',
    'CloudFormation replaces the instance when its image pin changes (src/ami-pins.ts, a deliberate commit); termination protection would block that. Its only state, the certificate, is backed up to S3 and restored.',
  );

  const distribution = service.console.distribution;
  acknowledge(
    distribution,
    'AwsSolutions-CFR1',
    'Earshot is used by a small team wherever they are; there is no country to block.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR2',
    'WAF is a configuration option (cloudFront.waf), off by default as in the seed: $5+/month for a console of static files.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR3',
    'Standard logs need a logging bucket with ACLs and cost per request; CloudFront metrics suffice at this traffic.',
  );
  if (!service.config.domain?.consoleDomain) {
    acknowledge(
      distribution,
      'AwsSolutions-CFR4',
      'Without a custom domain CloudFront serves its *.cloudfront.net certificate, whose TLS policy cannot be chosen; with a domain the policy is TLSv1.2_2021.',
    );
  }
  if (!service.config.domain) {
    acknowledge(
      distribution,
      'AwsSolutions-CFR5',
      'The explicit trial mode (no domain): the API behaviours reach the proxy over HTTP (it has no certificate for its EC2 name); synth and deploy warn. Production (domain set) is HTTPS end to end.',
    );
  }

  const deployment = bucketDeploymentFunction(service);
  if (deployment) {
    acknowledge(
      deployment,
      'AwsSolutions-IAM4',
      'CDK BucketDeployment Lambda: AWSLambdaBasicExecutionRole only lets it write its own logs.',
      ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    );
    acknowledge(
      deployment,
      'AwsSolutions-IAM5',
      'CDK BucketDeployment Lambda: copies from the CDK asset bucket into the console bucket and invalidates the distribution (CreateInvalidation has no resource-level scope); CDK generates these grants.',
      [
        ...S3_OBJECT_ACTIONS,
        `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${service.region}/*`,
        `Resource::<${logicalId(service.console.bucket)}.Arn>/*`,
        'Resource::*',
      ],
    );
    acknowledge(
      deployment,
      'AwsSolutions-L1',
      'The runtime of the CDK BucketDeployment Lambda is chosen by aws-cdk-lib and upgraded with it.',
    );
  }

  const backend = service.backend;
  acknowledge(
    backend.cluster,
    'AwsSolutions-ECS4',
    "Container Insights bills per metric per task; the dashboard uses the free AWS/ECS metrics and the server's EMF metrics.",
  );
  acknowledge(
    backend.taskDefinition,
    'AwsSolutions-ECS2',
    'The environment holds only non-secret settings (bucket, URLs, port); both secrets come from Secrets Manager or SSM SecureString parameters.',
  );
  acknowledge(
    backend.taskDefinition.taskRole,
    'AwsSolutions-IAM5',
    'The store reads, writes and deletes audio objects (one per history item, named by its id) under the audio/ prefix of its own bucket: exact actions, the object wildcard scoped to that prefix.',
    [`Resource::<${logicalId(service.data.bucket)}.Arn>/${service.data.prefix}/audio/*`],
  );
  if (backend.taskDefinition.executionRole) {
    acknowledge(
      backend.taskDefinition.executionRole,
      'AwsSolutions-IAM5',
      'ecr:GetAuthorizationToken has no resource-level permissions; the image pull itself is scoped to the repository.',
      ['Resource::*'],
    );
  }
  acknowledge(
    service.values,
    'AwsSolutions-IAM5',
    'ec2:DescribeImages, ec2:DescribeManagedPrefixLists and secretsmanager:GetRandomPassword have no resource-level permissions; each deploy-time lookup policy holds only its one read-only action.',
    ['Resource::*'],
  );
  acknowledgeProxyRole(service);
  for (const stack of [foundation, service]) acknowledgeAwsCustomResources(stack);
}

function acknowledgeProxyRole(service: EarshotStack): void {
  const role = service.proxy.instance.role;
  acknowledge(
    role,
    'AwsSolutions-IAM5',
    'cloudwatch:PutMetricData (the heartbeat) and ecs:ListTasks (discovery, lean) have no resource type; both are scoped by condition keys (cloudwatch:namespace = Earshot, ecs:cluster = this cluster).',
    ['Resource::*'],
  );
  if (service.config.profile === 'lean') {
    acknowledge(
      role,
      'AwsSolutions-IAM5',
      'ecs:DescribeTasks on the tasks of this one cluster (task ids are not known in advance), with an ecs:cluster condition.',
      [
        `Resource::arn:<AWS::Partition>:ecs:${service.region}:<AWS::AccountId>:task/${service.config.stackName}/*`,
      ],
    );
  }
}

/**
 * The Lambda function that CDK's AwsCustomResource runs (one per stack): deploy-time lookups (image id, CloudFront
 * prefix list, origin secret) in the service stack, the SecureString parameters in the lean foundation stack.
 */
function acknowledgeAwsCustomResources(stack: Stack): void {
  const fn = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!fn) return;
  acknowledge(
    fn,
    'AwsSolutions-IAM4',
    "CDK's AwsCustomResource function: AWSLambdaBasicExecutionRole only lets it write its own logs.",
    ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
  );
  acknowledge(
    fn,
    'AwsSolutions-L1',
    "The runtime of CDK's AwsCustomResource function is chosen by aws-cdk-lib and upgraded with it.",
  );
}

/** The wildcard actions of CDK's `grantReadWrite` on objects. */
const S3_OBJECT_ACTIONS = [
  'Action::s3:GetObject*',
  'Action::s3:GetBucket*',
  'Action::s3:List*',
  'Action::s3:DeleteObject*',
  'Action::s3:Abort*',
];

function logicalId(construct: IConstruct): string {
  const cfn = construct.node.defaultChild;
  if (!(cfn instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(cfn);
}

function bucketDeploymentFunction(stack: Stack): IConstruct | undefined {
  return stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
}
