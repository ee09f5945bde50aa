import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface DataStoreProps {
  /**
   * Key prefix the server writes under (`EARSHOT_STORE=s3://<bucket>/<prefix>`).
   * @default 'data'
   */
  readonly prefix?: string;
  /**
   * Days before stored audio (`<prefix>/audio/`) is deleted. Settings and history records never expire.
   * @default 90
   */
  readonly audioExpirationDays?: number;
}

/**
 * The server's store, so nothing is lost when tasks scale to zero: settings, history records and audio.
 * Private (all public access blocked), S3-managed encryption, TLS-only. Not versioned: the store rewrites small
 * settings objects, and versions of audio would be billed until a second rule removed them; the data is a cache of
 * what users asked for, not a system of record. Retained when the stack is deleted.
 */
export class DataStore extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly prefix: string;
  /** `s3://bucket/prefix`, the value of `EARSHOT_STORE`. */
  public readonly storeUrl: string;

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
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
    });
    this.storeUrl = `s3://${this.bucket.bucketName}/${prefix}`;
  }
}
