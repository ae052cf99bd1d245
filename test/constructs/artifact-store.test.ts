import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { ImageReplication, ImageRepository } from '../../lib/constructs/image-repository';
import { TestApps } from '../support/app';

describe('ArtifactStore', () => {
  const apps = new TestApps();
  let template: Template;
  beforeAll(() => {
    const stack = new Stack(apps.create(), 'Store', { env: { account: '111111111111', region: 'us-east-1' } });
    new ArtifactStore(stack, 'Artifacts', { retentionDays: 90 });
    new ImageRepository(stack, 'Svc', {
      repositoryName: 'safe-deploy/svc',
      imageCount: 25,
      pullAccounts: ['333333333333', '222222222222', '222222222222'],
    });
    template = Template.fromStack(stack);
  });
  afterAll(() => apps.cleanup());

  test('the artifact bucket is KMS-encrypted, versioned, private, logged and expires old artifacts', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'artifacts/' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'ExpireOldArtifacts', Status: 'Enabled', ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
          { Id: 'AbortIncompleteUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
        ],
      },
    });
  });

  test('both buckets refuse plain HTTP', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  test('buckets, key and repository survive stack deletion', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::ECR::Repository']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
  });

  test('the key rotates', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the repository scans on push, has immutable tags, is KMS-encrypted and keeps the last N releases', () => {
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: 'safe-deploy/svc',
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      EncryptionConfiguration: { EncryptionType: 'KMS' },
    });
    const repo = Object.values(template.findResources('AWS::ECR::Repository'))[0];
    const rules = JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules).toEqual([
      expect.objectContaining({
        rulePriority: 1,
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1, countUnit: 'days' },
      }),
      expect.objectContaining({ rulePriority: 2, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 25 } }),
    ]);
  });

  test('stage accounts may pull, and only pull', () => {
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: {
        Statement: [
          {
            Sid: 'StageTaskExecutionRolesPull',
            Effect: 'Allow',
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
            // Only the task execution roles (by their path) of those accounts, not every principal.
            Condition: {
              StringLike: {
                'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/safe-deploy/*', 'arn:aws:iam::333333333333:role/safe-deploy/*'],
              },
            },
          },
        ],
      },
    });
  });

  test('fails when artifacts would not outlive a rollback', () => {
    expect(() => new ArtifactStore(new Stack(apps.create(), 'Bad'), 'Artifacts', { retentionDays: 7 })).toThrow(
      'ArtifactStore retentionDays: 7 is too short to roll back to: use a whole number of at least 30',
    );
  });

  test('fails when too few images would be kept', () => {
    expect(() => new ImageRepository(new Stack(apps.create(), 'Bad'), 'Svc', { repositoryName: 'svc', imageCount: 1 })).toThrow(
      'ImageRepository imageCount: 1 is too few to roll back to: keep at least 5 images',
    );
  });
});

describe('ImageReplication', () => {
  const apps = new TestApps();
  afterAll(() => apps.cleanup());

  test("replicates the app's repositories (by prefix) to the other regions of the same account", () => {
    const stack = new Stack(apps.create(), 'Store', { env: { account: '111111111111', region: 'us-east-1' } });
    new ImageReplication(stack, 'Replication', {
      repositoryPrefix: 'safe-deploy/',
      regions: ['us-west-2', 'eu-west-1', 'us-west-2'],
      account: '111111111111',
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::ReplicationConfiguration', {
      ReplicationConfiguration: {
        Rules: [
          {
            Destinations: [
              { Region: 'eu-west-1', RegistryId: '111111111111' },
              { Region: 'us-west-2', RegistryId: '111111111111' },
            ],
            RepositoryFilters: [{ Filter: 'safe-deploy/', FilterType: 'PREFIX_MATCH' }],
          },
        ],
      },
    });
  });

  test("fails when there are more regions than ECR's 25 destinations", () => {
    const stack = new Stack(apps.create(), 'Store');
    const regions = Array.from({ length: 26 }, (_, i) => `r-${i}`);
    expect(() => new ImageReplication(stack, 'Replication', { repositoryPrefix: 'x/', regions, account: '111111111111' })).toThrow(
      "ImageReplication regions: 26 regions: replicate to 1 to 25 (ECR's limit of destinations)",
    );
  });
});
