import { refOf } from '../intrinsics';
import type { DeploymentTarget, TemplateIndex } from '../template-index';
import { canaryDeploymentGroup, deploymentControllerOf, describeTarget, StackContext, TargetFinding, TargetRule } from './rule';

const ID = 'SafeDeploy-Canary';

/** A production Lambda alias or ECS service is released by a CodeDeploy deployment group with a canary or linear config. */
export const canaryRule = {
  id: ID,
  description:
    'A production Lambda alias or ECS service is released by a CodeDeploy deployment group of its stack with a canary or linear config.',
  check(target: DeploymentTarget, stack: StackContext): TargetFinding | undefined {
    const what = describeTarget(target, stack);
    const group = canaryDeploymentGroup(target, stack);
    if (!group) return unwired(target, what);
    const platform = target.kind === 'ecs-service' ? 'ECS' : 'Lambda';
    const config = deploymentConfigKind(group.properties.DeploymentConfigName, stack.index, platform);
    if (!config.allAtOnce) return undefined;
    const groupPath = stack.pathOf(group.id);
    return {
      deploymentGroupId: group.id,
      description: `${what} is deployed by ${groupPath} with ${config.name}: the new version takes all traffic at once, with no canary.`,
      fix: `Use a canary or linear deployment config (e.g. ${platform === 'ECS' ? 'Ecs' : 'Lambda'}DeploymentConfig.CANARY_10PERCENT_5MINUTES) on ${groupPath}.`,
      location: 'Properties/DeploymentConfigName',
    };
  },
} satisfies TargetRule;

/** The finding on a target no deployment group of its stack releases as a canary would. */
function unwired(target: DeploymentTarget, what: string): TargetFinding {
  if (target.kind === 'ecs-service') {
    const controller = deploymentControllerOf(target.resource);
    const why =
      controller !== 'CODE_DEPLOY'
        ? `DeploymentController is ${controller ?? 'ECS (default)'}, not CODE_DEPLOY`
        : 'no AWS::CodeDeploy::DeploymentGroup in its stack lists it in ECSServices';
    return {
      description: `${what} has no CodeDeploy canary deployment group (${why}): a new task definition would replace all tasks without a canary.`,
      fix: `Give the service deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } and a codedeploy.EcsDeploymentGroup with a canary or linear config (e.g. EcsDeploymentConfig.CANARY_10PERCENT_5MINUTES), or acknowledge ${ID} with a reason.`,
      location: 'Properties/DeploymentController',
    };
  }
  if (!target.resource.UpdatePolicy?.CodeDeployLambdaAliasUpdate) {
    return {
      description: `${what} has no CodeDeploy canary deployment group (no UpdatePolicy.CodeDeployLambdaAliasUpdate): a new version would take 100% of production traffic at once.`,
      fix: `Deploy the alias through a codedeploy.LambdaDeploymentGroup with a canary or linear config (e.g. LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES), or acknowledge ${ID} on the alias with a reason.`,
      location: 'UpdatePolicy',
    };
  }
  return {
    description: `${what} names a deployment group that is not in its stack, so its canary, alarms and rollback cannot be checked.`,
    fix: 'Define the CodeDeploy deployment group in the same stack as the alias, or acknowledge the rule with a reason.',
    location: 'UpdatePolicy/CodeDeployLambdaAliasUpdate/DeploymentGroupName',
  };
}

/** Classifies a deployment config reference: predefined name, or a custom config in the template. */
function deploymentConfigKind(ref: unknown, index: TemplateIndex, platform: 'Lambda' | 'ECS'): { name: string; allAtOnce: boolean } {
  if (ref === undefined)
    return { name: `no DeploymentConfigName (CodeDeploy's default, CodeDeployDefault.${platform}AllAtOnce)`, allAtOnce: true };
  if (typeof ref === 'string') return { name: ref, allAtOnce: /AllAtOnce/i.test(ref) };
  const custom = index.referenced(ref);
  if (custom?.Type === 'AWS::CodeDeploy::DeploymentConfig') {
    const type = (custom.Properties?.TrafficRoutingConfig as { Type?: string } | undefined)?.Type;
    return {
      name: `custom deployment config ${refOf(ref)} (${type ?? 'no TrafficRoutingConfig'})`,
      allAtOnce: !type || type === 'AllAtOnce',
    };
  }
  return { name: JSON.stringify(ref), allAtOnce: false };
}
