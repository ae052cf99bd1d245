import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { TestApps } from '../support/app';

describe('ArtifactStore', () => {
  const apps = new TestApps();
  let template: Template;
  beforeAll(() => {
    const stack = new Stack(apps.create(), 'Store', { env: { account: '111111111111', region: 'us-east-1' } });
    new ArtifactStore(stack, 'Artifacts', { repositoryName: 'svc', retentionDays: 90, imageCount: 25, pullAccounts: ['222222222222', '222222222222', '333333333333'] });
    template = Template.fromStack(stack);
  });
  afterAll(() => apps.cleanup());

  test('the artifact bucket is KMS-encrypted, versioned, private, logged and expires old artifacts', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
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
      RepositoryName: 'svc',
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      EncryptionConfiguration: { EncryptionType: 'KMS' },
    });
    const repo = Object.values(template.findResources('AWS::ECR::Repository'))[0];
    const rules = JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules).toEqual([
      expect.objectContaining({ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1, countUnit: 'days' } }),
      expect.objectContaining({ rulePriority: 2, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 25 } }),
    ]);
  });

  test('stage accounts may pull, and only pull', () => {
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: {
        Statement: [
          {
            Sid: 'StageAccountsPull',
            Effect: 'Allow',
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
          },
        ],
      },
    });
  });

  test.each([
    [{ retentionDays: 7 }, 'ArtifactStore retentionDays: 7 is too short to roll back to: use a whole number of at least 30'],
    [{ imageCount: 1 }, 'ArtifactStore imageCount: 1 is too few to roll back to: keep at least 5 images'],
  ])('fails when %j', (props, message) => {
    const stack = new Stack(apps.create(), 'Bad');
    expect(() => new ArtifactStore(stack, 'Artifacts', { repositoryName: 'svc', ...props })).toThrow(message);
  });
});
