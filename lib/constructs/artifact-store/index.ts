import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeRule } from '../../policy/acknowledgements';

/** Properties of an ArtifactStore. */
export interface ArtifactStoreProps {
  /**
   * Days a pipeline artifact (source, cloud assembly with the Lambda bundles) is kept. Rolling a
   * stage back to an execution needs that execution's artifacts.
   * @default 180
   */
  readonly retentionDays?: number;
}

/**
 * Where a release's pipeline artifacts live, built once per commit and promoted unchanged: a
 * versioned, KMS-encrypted, TLS-only S3 bucket (source, cloud assembly with the Lambda bundles),
 * retained when the stack is deleted, so a rollback target outlives it. Container images live in
 * one ImageRepository per service.
 */
export class ArtifactStore extends Construct {
  /** The pipeline's artifact bucket. */
  readonly bucket: s3.Bucket;
  /** The key that encrypts the bucket (and the pipeline's artifacts). */
  readonly key: kms.Key;
  /** Where the bucket's access logs go. */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 180;
    if (!Number.isInteger(retentionDays) || retentionDays < 30) {
      throw new Error(`ArtifactStore retentionDays: ${retentionDays} is too short to roll back to: use a whole number of at least 30`);
    }

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts safe-deploy pipeline artifacts',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.accessLogs = accessLogBucket(this, 'AccessLogs', retentionDays, 'the artifact bucket');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        // Each execution writes new keys, so current objects need an expiry of their own.
        { id: 'ExpireOldArtifacts', expiration: Duration.days(retentionDays), noncurrentVersionExpiration: Duration.days(30) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/**
 * A bucket for S3 server access logs: SSE-S3 (the only encryption log delivery supports), TLS-only,
 * private, versioned with old versions kept a day, logs kept `retentionDays`, retained on delete.
 */
export function accessLogBucket(scope: Construct, id: string, retentionDays: number, of: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(retentionDays), noncurrentVersionExpiration: Duration.days(1) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeRule(bucket, 's3Logging', `This is the access-log bucket of ${of}; logging it to itself would loop.`);
  acknowledgeRule(
    bucket,
    's3Kms',
    'S3 server access logging cannot deliver to a bucket encrypted with a KMS key; SSE-S3 is the encryption it supports.',
  );
  return bucket;
}
