import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** What the proxy instance's scripts call in AWS (infra/proxy/earshot-aws.py), each scoped as tightly as IAM allows. */
export interface ProxyAccess {
  /** The backup of /etc/letsencrypt: this one object, read and written. */
  readonly certBackup?: { readonly bucket: s3.IBucket; readonly key: string };
  /** The one A record the instance points at itself at boot (no Elastic IP): UPSERT of that name only. */
  readonly dnsRecord?: { readonly zone: route53.IHostedZone; readonly name: string };
  /** The ECS cluster whose tasks it lists (discovery through the ECS API). */
  readonly ecsClusterName?: string;
  /** The parameter holding the heartbeat URL, and the metric namespace the heartbeat writes to. */
  readonly heartbeat: { readonly parameterName: string; readonly namespace: string };
}

export function grantProxyAccess(role: iam.IRole, access: ProxyAccess): void {
  const stack = Stack.of(role);
  const add = (statement: iam.PolicyStatement): void => void role.addToPrincipalPolicy(statement);
  if (access.certBackup) {
    add(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [access.certBackup.bucket.arnForObjects(access.certBackup.key)],
      }),
    );
  }
  if (access.dnsRecord) {
    add(
      new iam.PolicyStatement({
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [access.dnsRecord.zone.hostedZoneArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [access.dnsRecord.name.toLowerCase()],
            'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          },
        },
      }),
    );
  }
  if (access.ecsClusterName) {
    const cluster = stack.formatArn({
      service: 'ecs',
      resource: 'cluster',
      resourceName: access.ecsClusterName,
    });
    add(
      new iam.PolicyStatement({
        actions: ['ecs:ListTasks'],
        // ListTasks has no resource type; the cluster condition scopes it.
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': cluster } },
      }),
    );
    add(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks'],
        resources: [
          stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${access.ecsClusterName}/*` }),
        ],
        conditions: { ArnEquals: { 'ecs:cluster': cluster } },
      }),
    );
  }
  add(
    new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: access.heartbeat.parameterName.replace(/^\//, ''),
        }),
      ],
    }),
  );
  add(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      // PutMetricData has no resource type; the namespace condition scopes it.
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': access.heartbeat.namespace } },
    }),
  );
}
