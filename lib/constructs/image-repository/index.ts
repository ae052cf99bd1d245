import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Properties of an ImageRepository. */
export interface ImageRepositoryProps {
  /** Repository name, e.g. "safe-deploy/storefront". */
  readonly repositoryName: string;
  /**
   * Images kept, newest first; older ones expire. Rolling back needs the previous image.
   * @default 20
   */
  readonly imageCount?: number;
  /**
   * Accounts (other than this one) whose services pull images from the repository.
   * @default - none
   */
  readonly pullAccounts?: string[];
  /**
   * In those accounts, only roles under this IAM path may pull (the services' task execution roles,
   * see `pullRolePath`): not every principal of the account.
   * @default '/safe-deploy/'
   */
  readonly pullRolePath?: string;
}

/** The IAM path of an app's task execution roles, which its image repositories let pull. */
export function pullRolePath(appName: string): string {
  return `/safe-deploy/${appName}/`;
}

/**
 * An ECR repository for one service's images, built once and promoted unchanged: scanned on push,
 * immutable tags (a tag is a content hash, so it always means the same bytes), KMS-encrypted,
 * keeping the last N images, retained when its stack is deleted so a rollback target outlives it.
 */
export class ImageRepository extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const imageCount = props.imageCount ?? 20;
    if (!Number.isInteger(imageCount) || imageCount < 5) {
      throw new Error(`ImageRepository imageCount: ${imageCount} is too few to roll back to: keep at least 5 images`);
    }
    this.repository = new ecr.Repository(this, 'Resource', {
      repositoryName: props.repositoryName,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.KMS,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'Untagged layers of failed pushes',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: Duration.days(1),
        },
        {
          rulePriority: 2,
          description: `Keep the last ${imageCount} images to roll back to`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: imageCount,
        },
      ],
    });
    const pullAccounts = [...new Set(props.pullAccounts ?? [])].sort();
    if (pullAccounts.length > 0) {
      const path = props.pullRolePath ?? '/safe-deploy/';
      if (!/^\/([\x21-\x7e]+\/)?$/.test(path))
        throw new Error(
          `ImageRepository pullRolePath: ${JSON.stringify(path)} is not an IAM path: start and end with "/", e.g. "/safe-deploy/my-app/"`,
        );
      const partition = Stack.of(this).partition;
      this.repository.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'StageTaskExecutionRolesPull',
          // The accounts as principals (a role ARN must exist when the policy is set, and the stage
          // accounts' roles are created later), narrowed to their task execution roles by path.
          principals: pullAccounts.map((a) => new iam.AccountPrincipal(a)),
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          conditions: { StringLike: { 'aws:PrincipalArn': pullAccounts.map((a) => `arn:${partition}:iam::${a}:role${path}*`) } },
        }),
      );
    }
  }
}

/** Properties of ImageReplication. */
export interface ImageReplicationProps {
  /** Repositories whose names start with this are replicated, e.g. "safe-deploy/". */
  readonly repositoryPrefix: string;
  /** Regions of this account to replicate to (not this stack's). */
  readonly regions: readonly string[];
  /** This account. */
  readonly account: string;
}

/**
 * Registry replication of the service images to the other regions of this account, so every
 * target pulls from a repository in its own region. CloudFormation owns the registry's whole
 * replication configuration (one per account and region): creating it fails if the registry
 * already has replication rules, and deleting the stack removes them all.
 */
export class ImageReplication extends Construct {
  readonly configuration: ecr.CfnReplicationConfiguration;

  constructor(scope: Construct, id: string, props: ImageReplicationProps) {
    super(scope, id);
    const regions = [...new Set(props.regions)].sort();
    // ECR allows 25 destinations per replication configuration.
    if (regions.length === 0 || regions.length > 25) {
      throw new Error(`ImageReplication regions: ${regions.length} regions: replicate to 1 to 25 (ECR's limit of destinations)`);
    }
    this.configuration = new ecr.CfnReplicationConfiguration(this, 'Resource', {
      replicationConfiguration: {
        rules: [
          {
            destinations: regions.map((region) => ({ region, registryId: props.account })),
            repositoryFilters: [{ filter: props.repositoryPrefix, filterType: 'PREFIX_MATCH' }],
          },
        ],
      },
    });
  }
}
