import type { IConstruct } from 'constructs';
import type { DeploymentTarget, TemplateIndex, TemplateResource, CfnValue } from '../template-index';

/** What a rule reads about one production stack. */
export interface StackContext {
  readonly index: TemplateIndex;
  /** The construct path of a resource, for messages (`Prod/orders-api/Live/Resource`). */
  readonly pathOf: (logicalId: string) => string;
}

/** A finding on a Lambda alias or ECS service; acknowledged on the target or on its deployment group. */
export interface TargetFinding {
  readonly description: string;
  readonly fix: string;
  /** Where in the target's template entry (`UpdatePolicy`, `Properties/DeploymentController`). */
  readonly location: string;
  /** The deployment group the finding is about, when it is about one: an acknowledgement there counts too. */
  readonly deploymentGroupId?: string;
}

/** A finding on a construct of the app (a Stage); acknowledged on that construct or an ancestor. */
export interface ConstructFinding {
  readonly construct: IConstruct;
  readonly description: string;
  readonly fix: string;
  readonly location: string;
}

/** A rule over each Lambda alias and ECS service of a production stack. */
export interface TargetRule {
  readonly id: string;
  /** What the rule requires, in one sentence. */
  readonly description: string;
  readonly check: (target: DeploymentTarget, stack: StackContext) => TargetFinding | undefined;
}

/** A rule over the whole app's construct tree (stage order). */
export interface AppRule {
  readonly id: string;
  /** What the rule requires, in one sentence. */
  readonly description: string;
  readonly check: (app: IConstruct) => ConstructFinding[];
}

/** `Lambda alias Prod/orders-api/Live/Resource`, `ECS service ...`: how messages name a target. */
export function describeTarget(target: DeploymentTarget, stack: StackContext): string {
  return `${target.kind === 'lambda-alias' ? 'Lambda alias' : 'ECS service'} ${stack.pathOf(target.logicalId)}`;
}

/**
 * The deployment group that releases the target as a canary would, if it is wired for it: an alias
 * with a CodeDeployLambdaAliasUpdate naming a group of its stack, or a CODE_DEPLOY-controlled service
 * listed by a group. Otherwise the canary rule reports the target, and the rules about the group's
 * alarms and rollback have nothing to read.
 */
export function canaryDeploymentGroup(
  target: DeploymentTarget,
  stack: StackContext,
): { readonly id: string; readonly properties: Record<string, CfnValue> } | undefined {
  const id = target.deploymentGroupId;
  if (id === undefined) return undefined;
  if (target.kind === 'ecs-service' && deploymentControllerOf(target.resource) !== 'CODE_DEPLOY') return undefined;
  return { id, properties: stack.index.get(id)?.Properties ?? {} };
}

/** The ECS service's DeploymentController type, if set. */
export function deploymentControllerOf(service: TemplateResource): string | undefined {
  return (service.Properties?.DeploymentController as { Type?: string } | undefined)?.Type;
}

/** Whether a CloudFormation `Enabled` flag is off (a boolean, or a string after a property override). */
function isDisabled(enabled: unknown): boolean {
  return enabled === false || enabled === 'false';
}

/** What a rule over a target's deployment group says about one property of the group. */
export interface DeploymentGroupRuleSpec<Id extends string> {
  readonly id: Id;
  /** What the rule requires, in one sentence. */
  readonly description: string;
  /** The deployment group's configuration the rule reads (`AlarmConfiguration`): it must be set and enabled. */
  readonly property: string;
  /** What else the enabled configuration must hold. */
  readonly requires: (configuration: Record<string, CfnValue>) => boolean;
  /** The finding's text, given the target (`Lambda alias ...`) and the group's construct path. */
  readonly message: (what: string, groupPath: string) => { readonly description: string; readonly fix: string };
}

/**
 * A rule over one configuration of the deployment group that releases each target as a canary: it
 * must be set, enabled, and hold what the rule requires. Targets without such a group are the canary
 * rule's findings, so this rule skips them.
 */
export function deploymentGroupRule<Id extends string>(spec: DeploymentGroupRuleSpec<Id>): TargetRule & { readonly id: Id } {
  return {
    id: spec.id,
    description: spec.description,
    check(target, stack) {
      const group = canaryDeploymentGroup(target, stack);
      const configuration = group?.properties[spec.property] as Record<string, CfnValue> | undefined;
      if (!group || (configuration !== undefined && !isDisabled(configuration.Enabled) && spec.requires(configuration))) return undefined;
      const message = spec.message(describeTarget(target, stack), stack.pathOf(group.id));
      return { deploymentGroupId: group.id, ...message, location: `Properties/${spec.property}` };
    },
  };
}
