import { readFileSync } from 'node:fs';
import {
  CfnResource,
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolatingResource,
  PolicyViolation,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { alarmsRule, APP_RULES, autoRollbackRule, canaryRule, preProductionRule, StackContext, TARGET_RULES } from './rules';
import { stageMarkerOf, StageType } from './stage-type';
import { CfnTemplate, TemplateIndex } from './template-index';

/** The rules of the safety policy, as used in `Validations.of(x).acknowledge({ id, reason })`. */
export const SAFETY_RULES = {
  canary: canaryRule.id,
  alarms: alarmsRule.id,
  autoRollback: autoRollbackRule.id,
  preProduction: preProductionRule.id,
} as const;

/** Options of the safety policy. */
export interface SafetyPolicyChecksProps {
  /**
   * How to treat stacks outside any Stage marked with `markStageType`.
   * @default 'ignore' - only marked production stages are checked
   */
  readonly unmarked?: 'production' | 'ignore';
  /** Shortest acknowledgement reason accepted; shorter ones do not suppress. @default 20 */
  readonly minReasonLength?: number;
}

/**
 * A CDK validation plugin (same mechanism as cdk-nag 3) that fails synth when production can
 * release without a safety net: a Lambda alias or ECS service with no canary deployment group,
 * a deployment group without alarms or without rollback on alarm, or a production stage with no
 * pre-production stage before it. It reads the synthesized templates (so property overrides
 * count) and the construct tree (stage markers, acknowledgements).
 *
 *   Validations.of(app).addPlugins(new SafetyPolicyChecks());
 *
 * Acknowledge a finding next to the resource, with a reason:
 *   Validations.of(alias).acknowledge({ id: 'SafeDeploy-Canary', reason: '...' });
 */
export class SafetyPolicyChecks implements IPolicyValidationPlugin {
  readonly name = 'SafeDeploy';
  readonly version = '1.0.0';
  readonly ruleIds = Object.values(SAFETY_RULES);
  private readonly unmarked: 'production' | 'ignore';
  private readonly minReasonLength: number;

  constructor(props: SafetyPolicyChecksProps = {}) {
    this.unmarked = props.unmarked ?? 'ignore';
    this.minReasonLength = props.minReasonLength ?? 20;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations: PolicyViolation[] = [];
    const app = context.appConstruct;
    const byPath = new Map<string, IConstruct>(app.node.findAll().map((c) => [c.node.path, c]));
    for (const st of context.stackTemplates) {
      const stack = byPath.get(st.stackConstructPath);
      if (!stack || !Stack.isStack(stack)) continue;
      const type: StageType | undefined = stageMarkerOf(stack)?.type ?? (this.unmarked === 'production' ? 'production' : undefined);
      if (type !== 'production') continue;
      const template = JSON.parse(readFileSync(st.templatePath, 'utf-8')) as CfnTemplate;
      violations.push(...this.checkStack(stack, new TemplateIndex(template), st.templatePath));
    }
    for (const rule of APP_RULES) {
      for (const finding of rule.check(app)) {
        if (this.isAcknowledged(finding.construct, rule.id)) continue;
        violations.push(violation(rule.id, finding, { constructPath: finding.construct.node.path, locations: [finding.location] }));
      }
    }
    return { success: violations.every((v) => v.severity !== 'error'), violations };
  }

  /** Every target rule over every Lambda alias and ECS service of a production stack. */
  private checkStack(stack: Stack, index: TemplateIndex, templatePath: string): PolicyViolation[] {
    const constructs = new Map<string, CfnResource>();
    for (const c of stack.node.findAll()) {
      if (CfnResource.isCfnResource(c) && Stack.of(c) === stack) constructs.set(stack.resolve(c.logicalId) as string, c);
    }
    const context: StackContext = { index, pathOf: (id) => constructs.get(id)?.node.path ?? `${stack.node.path}/${id}` };
    const acknowledged = (id: string | undefined, rule: string) =>
      id !== undefined && constructs.has(id) && this.isAcknowledged(constructs.get(id)!, rule);
    const out: PolicyViolation[] = [];
    for (const target of index.deploymentTargets()) {
      for (const rule of TARGET_RULES) {
        const finding = rule.check(target, context);
        if (!finding || acknowledged(target.logicalId, rule.id) || acknowledged(finding.deploymentGroupId, rule.id)) continue;
        const where = { resourceLogicalId: target.logicalId, templatePath, constructPath: context.pathOf(target.logicalId) };
        out.push(violation(rule.id, finding, { ...where, locations: [finding.location] }));
      }
    }
    return out;
  }

  /** Same mechanism as cdk-nag: an acknowledgement on the construct or an ancestor, with a real reason. */
  private isAcknowledged(construct: IConstruct, rule: string): boolean {
    for (let c: IConstruct | undefined = construct; c; c = c.node.scope) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          const bare = id.replace(/^(annotation|SafeDeploy)::/i, '');
          if (bare === rule && typeof reason === 'string' && reason.trim().length >= this.minReasonLength) return true;
        }
      }
    }
    return false;
  }
}

type Finding = { readonly description: string; readonly fix: string };

function violation(ruleName: string, finding: Finding, resource: PolicyViolatingResource): PolicyViolation {
  return { ruleName, description: finding.description, fix: finding.fix, severity: 'error', violatingResources: [resource] };
}
