/**
 * The AWS calls deployctl's diagnosis makes (lib/runtime/diagnosis/gather.ts), each with the IAM action it needs
 * and what the action may be scoped to (IAM service authorization reference). The pipeline's
 * notifier runs the same diagnosis, so its role is granted from this table rather than from a
 * second hand-written list; test/runtime/diagnose.test.ts checks that every call the diagnosis makes
 * is listed here.
 */

/** What an action's Resource can name. */
export type ResourceScope = 'pipeline' | 'codebuild-project' | 'stack' | 'deployment-group' | 'none';

export interface ReadPermission {
  readonly action: string;
  readonly scope: ResourceScope;
}

/** By SDK command name. */
export const DIAGNOSIS_PERMISSIONS: Readonly<Record<string, ReadPermission>> = {
  GetPipelineCommand: { action: 'codepipeline:GetPipeline', scope: 'pipeline' },
  GetPipelineStateCommand: { action: 'codepipeline:GetPipelineState', scope: 'pipeline' },
  GetPipelineExecutionCommand: { action: 'codepipeline:GetPipelineExecution', scope: 'pipeline' },
  ListPipelineExecutionsCommand: { action: 'codepipeline:ListPipelineExecutions', scope: 'pipeline' },
  ListActionExecutionsCommand: { action: 'codepipeline:ListActionExecutions', scope: 'pipeline' },
  // Authorised on the project, not the build.
  BatchGetBuildsCommand: { action: 'codebuild:BatchGetBuilds', scope: 'codebuild-project' },
  DescribeStackEventsCommand: { action: 'cloudformation:DescribeStackEvents', scope: 'stack' },
  ListStackResourcesCommand: { action: 'cloudformation:ListStackResources', scope: 'stack' },
  // Takes a deployment id but is authorised on the deployment group.
  GetDeploymentCommand: { action: 'codedeploy:GetDeployment', scope: 'deployment-group' },
  ListDeploymentsCommand: { action: 'codedeploy:ListDeployments', scope: 'deployment-group' },
  ListDeploymentTargetsCommand: { action: 'codedeploy:ListDeploymentTargets', scope: 'none' },
  BatchGetDeploymentTargetsCommand: { action: 'codedeploy:BatchGetDeploymentTargets', scope: 'none' },
};

/** The IAM actions of the table, grouped by what they may be scoped to. */
export function actionsByScope(): Record<ResourceScope, string[]> {
  const out: Record<ResourceScope, string[]> = { pipeline: [], 'codebuild-project': [], stack: [], 'deployment-group': [], none: [] };
  for (const p of Object.values(DIAGNOSIS_PERMISSIONS)) if (!out[p.scope].includes(p.action)) out[p.scope].push(p.action);
  return out;
}
