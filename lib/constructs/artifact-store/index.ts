import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // S3 server access logging cannot write to SSE-KMS buckets
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(retentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the artifact bucket; logging it to itself would loop.',
    });

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
