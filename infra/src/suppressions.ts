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
  for (const secret of [f.elevenLabsKey, f.apiKeyHashes]) {
    acknowledge(
      secret,
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

  acknowledge(
    service.proxy.securityGroup,
    'AwsSolutions-EC23',
    'The proxy is the public entry point of the API: 80 (ACME challenge, redirect) and 443 must be open to every client, as the seed specifies.',
  );
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
    'The instance is replaced by CloudFormation when its user data changes (the Elastic IP follows); termination protection would block that. It holds no state.',
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
      'Without a domain the API behaviours reach the proxy over HTTP (it has no certificate for its EC2 name); set domain.apiDomain for TLS end to end.',
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
    'The environment holds only non-secret settings (bucket, URLs, port); both secrets come from Secrets Manager.',
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
