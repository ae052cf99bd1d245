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

/** The table's rows for `actions` of one service, all scoped alike, keyed by SDK command name. */
function rows(service: string, scope: ResourceScope, actions: readonly string[]): Record<string, ReadPermission> {
  return Object.fromEntries(actions.map((a) => [`${a}Command`, { action: `${service}:${a}`, scope }]));
}

/** By SDK command name. */
export const DIAGNOSIS_PERMISSIONS: Readonly<Record<string, ReadPermission>> = {
  ...rows('codepipeline', 'pipeline', [
    'GetPipeline',
    'GetPipelineState',
    'GetPipelineExecution',
    'ListPipelineExecutions',
    'ListActionExecutions',
  ]),
  // Authorised on the project, not the build.
  ...rows('codebuild', 'codebuild-project', ['BatchGetBuilds']),
  ...rows('cloudformation', 'stack', ['DescribeStackEvents', 'ListStackResources']),
  // GetDeployment takes a deployment id but is authorised on the deployment group.
  ...rows('codedeploy', 'deployment-group', ['GetDeployment', 'ListDeployments']),
  ...rows('codedeploy', 'none', ['ListDeploymentTargets', 'BatchGetDeploymentTargets']),
};

/** The IAM actions of the table, grouped by what they may be scoped to. */
export function actionsByScope(): Record<ResourceScope, string[]> {
  const out: Record<ResourceScope, string[]> = { pipeline: [], 'codebuild-project': [], stack: [], 'deployment-group': [], none: [] };
  for (const p of Object.values(DIAGNOSIS_PERMISSIONS)) if (!out[p.scope].includes(p.action)) out[p.scope].push(p.action);
  return out;
}
