import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
// The server's own definition (plain data, no SDK): `earshot store init` creates the same table.
import { STORE_TABLE } from '../../../server/src/storage/dynamodb/table-definition.js';

export interface DataStoreProps {
  /**
   * Key prefix of the audio in the bucket (`EARSHOT_AUDIO=s3://<bucket>/<prefix>`; clips under `<prefix>/audio/`).
   * @default 'data'
   */
  readonly prefix?: string;
  /**
   * The server-wide retention maximum, in days (`EARSHOT_AUDIO_RETENTION_DAYS`): history items expire after at most
   * this (TTL), and audio objects are deleted after it by a lifecycle rule. Users may keep theirs for less.
   * @default 90
   */
  readonly audioExpirationDays?: number;
}

/** What the server needs to use the store: its environment and its permissions. */
export interface StoreBinding {
  /** `EARSHOT_STORE`: `dynamodb://<table>`. */
  readonly storeUrl: string;
  /** `EARSHOT_AUDIO`: `s3://<bucket>/<prefix>`. */
  readonly audioUrl: string;
  /** `EARSHOT_AUDIO_RETENTION_DAYS`. */
  readonly audioExpirationDays: number;
  /** Exactly the calls the server makes, on this table, its index and the audio prefix. */
  grantStore(grantee: iam.IGrantable): void;
}

/** The item and index calls the server makes (storage/dynamodb): no Scan, no BatchWrite, no table changes. */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const;
/** Audio objects: read, written by multipart upload (s3:PutObject covers its parts), deleted, aborted. */
export const AUDIO_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
] as const;

/**
 * The server's store, shared by every task so nothing is lost when they scale to zero: one on-demand DynamoDB table
 * (settings, history, usage and the daily budget; point-in-time recovery, KMS encryption, TTL expiry) and audio in a
 * private S3 bucket (S3-managed encryption, TLS-only, unversioned — the audio is a cache of what users asked for,
 * not a system of record; versions would be billed until a second rule removed them). Both are retained when the
 * stack is deleted.
 */
export class DataStore extends Construct implements StoreBinding {
  public readonly bucket: s3.Bucket;
  public readonly table: dynamodb.Table;
  public readonly prefix: string;
  public readonly audioExpirationDays: number;
  public readonly storeUrl: string;
  public readonly audioUrl: string;

  constructor(scope: Construct, id: string, props: DataStoreProps = {}) {
    super(scope, id);
    const prefix = props.prefix ?? 'data';
    if (!/^[a-z0-9][a-z0-9/_-]*[a-z0-9]$/.test(prefix) || prefix.includes('//')) {
      throw new Error(
        `DataStore: prefix must be a plain key prefix without leading/trailing "/", got "${prefix}"`,
      );
    }
    const days = props.audioExpirationDays ?? 90;
    if (!Number.isInteger(days) || days < 1)
      throw new Error(`DataStore: audioExpirationDays must be a positive integer, got ${days}`);
    this.prefix = prefix;
    this.audioExpirationDays = days;

    const { partitionKey, sortKey, historyIndex } = STORE_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: STORE_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addLocalSecondaryIndex({
      indexName: historyIndex.name,
      sortKey: { name: historyIndex.sortKey.name, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'ExpireOldAudio', prefix: `${prefix}/audio/`, expiration: Duration.days(days) },
        // A task stopped mid-upload leaves parts nobody completes; they are billed until aborted.
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
    });
    this.storeUrl = `dynamodb://${this.table.tableName}`;
    this.audioUrl = `s3://${this.bucket.bucketName}/${prefix}`;
  }

  grantStore(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_ACTIONS],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/${STORE_TABLE.historyIndex.name}`],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...AUDIO_ACTIONS],
      resourceArns: [this.bucket.arnForObjects(`${this.prefix}/audio/*`)],
    });
    // The readiness probe's one small object.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.prefix}/.earshot-ready`)],
    });
    // Without ListBucket S3 answers 403 instead of 404 for a clip that is gone; only under the audio prefix.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${this.prefix}/audio/*`] } },
      }),
    );
  }
}
