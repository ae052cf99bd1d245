import { alarmsRule } from './alarms';
import { autoRollbackRule } from './auto-rollback';
import { canaryRule } from './canary';
import { preProductionRule } from './pre-production';
import type { AppRule, TargetRule } from './rule';

export { alarmsRule, autoRollbackRule, canaryRule, preProductionRule };
export type { AppRule, ConstructFinding, StackContext, TargetFinding, TargetRule } from './rule';

/** The rules over each Lambda alias and ECS service of a production stack, in the order their findings are listed. */
export const TARGET_RULES: readonly TargetRule[] = [canaryRule, alarmsRule, autoRollbackRule];

/** The rules over the app's construct tree. */
export const APP_RULES: readonly AppRule[] = [preProductionRule];
