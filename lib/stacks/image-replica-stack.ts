import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ImageRepository } from '../constructs/image-repository';

/** Properties of an ImageReplicaStack. */
export interface ImageReplicaStackProps extends cdk.StackProps {
  /** Names of the repositories to hold replicas, e.g. ["safe-deploy/storefront"]. */
  readonly repositoryNames: readonly string[];
  /** Images kept. */
  readonly imageCount: number;
  /** Accounts whose services pull from these replicas. */
  readonly pullAccounts: readonly string[];
}

/**
 * The service repositories in one more region of the pipeline account. ECR replication fills them
 * from the pipeline region; created here first, they get the same settings as the source (immutable
 * tags, scanning, encryption, retention, pull rights), which a repository ECR creates on its own
 * for a replica would not have. The pipeline stack depends on it, so self-mutation deploys it.
 */
export class ImageReplicaStack extends cdk.Stack {
  readonly repositories: ImageRepository[];

  constructor(scope: Construct, id: string, props: ImageReplicaStackProps) {
    super(scope, id, props);
    this.repositories = props.repositoryNames.map(
      (repositoryName) =>
        new ImageRepository(this, repositoryName.split('/').pop()!, {
          repositoryName,
          imageCount: props.imageCount,
          pullAccounts: [...props.pullAccounts],
        }),
    );
  }
}
