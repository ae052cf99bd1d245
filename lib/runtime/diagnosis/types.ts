/** The kind of failure a diagnosis names; `classifyFailure`'s rules each yield one. */
export type FailureCause =
  | 'build-or-test'
  | 'permission-denied'
  | 'cloudformation-resource'
  | 'codedeploy-alarm-rollback'
  | 'lifecycle-hook'
  | 'ecs-health-check'
  | 'timeout'
  | 'missing-artifact'
  | 'source-connection'
  | 'unknown';

/** The explanation of a pipeline execution's failure (or of there being none). */
export interface Diagnosis {
  pipelineName: string;
  executionId?: string;
  /** Whether a failed execution was found. */
  found: boolean;
  stageName?: string;
  actionName?: string;
  /** The error as AWS wrote it, never rewritten. */
  error?: string;
  cause: FailureCause | 'none';
  /** One sentence: what went wrong. */
  summary: string;
  /** What to do about it. */
  fix: string;
  /** Console and log links, most useful first. */
  links: string[];
}

/** What diagnosis gathered about the failed action; input of `classifyFailure`. */
export interface FailureEvidence {
  /** Action category and provider, e.g. Build/CodeBuild, Deploy/CloudFormation. */
  readonly category?: string;
  readonly provider?: string;
  /** The action's error message. */
  readonly actionError?: string;
  /** The first resource that failed in the stack's last operation. */
  readonly stackEvent?: {
    readonly logicalId?: string;
    readonly resourceType?: string;
    readonly reason?: string;
    readonly stackName?: string;
  };
  /** The CodeDeploy deployment involved, if any. */
  readonly deployment?: {
    readonly deploymentId: string;
    readonly errorCode?: string;
    readonly errorMessage?: string;
    readonly rollbackMessage?: string;
    readonly failedHook?: string;
    readonly hookMessage?: string;
  };
  /** The CodeBuild build, if the action was one. */
  readonly build?: { readonly status?: string; readonly phase?: string; readonly message?: string };
  /** Things diagnosis could not look at (e.g. a stack in another account). */
  readonly notes?: string[];
}
