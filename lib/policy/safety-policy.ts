import { readFileSync } from 'node:fs';
import {
  CfnResource,
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolation,
  Stack,
  Stage,
  Validations,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { stageMarkerOf, StageType } from './stage-type';

/** The rules of the safety policy, as used in `Validations.of(x).acknowledge({ id, reason })`. */
export const SAFETY_RULES = {
  canary: 'SafeDeploy-Canary',
  alarms: 'SafeDeploy-Alarms',
  autoRollback: 'SafeDeploy-AutoRollback',
  preProduction: 'SafeDeploy-PreProduction',
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

type Template = { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown>; UpdatePolicy?: Record<string, unknown> }> };

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
      const template = JSON.parse(readFileSync(st.templatePath, 'utf-8')) as Template;
      violations.push(...this.checkStack(stack, template, st.templatePath));
    }
    violations.push(...this.checkStageOrder(app));
    return { success: violations.every((v) => v.severity !== 'error'), violations };
  }

  private checkStack(stack: Stack, template: Template, templatePath: string): PolicyViolation[] {
    const resources = template.Resources ?? {};
    const constructs = new Map<string, CfnResource>();
    for (const c of stack.node.findAll()) {
      if (CfnResource.isCfnResource(c) && Stack.of(c) === stack) constructs.set(stack.resolve(c.logicalId) as string, c);
    }
    const out: PolicyViolation[] = [];
    const pathOf = (id: string) => constructs.get(id)?.node.path ?? `${stack.node.path}/${id}`;
    const report = (rule: string, subjectId: string, dgId: string | undefined, description: string, fix: string, location: string) => {
      const acked = [subjectId, dgId].some((id) => id !== undefined && constructs.has(id) && this.isAcknowledged(constructs.get(id)!, rule));
      if (acked) return;
      out.push({
        ruleName: rule,
        description,
        fix,
        severity: 'error',
        violatingResources: [{ resourceLogicalId: subjectId, templatePath, constructPath: pathOf(subjectId), locations: [location] }],
      });
    };
    const dgIdByName = (ref: unknown): string | undefined => {
      const refId = refOf(ref);
      if (refId && resources[refId]?.Type === 'AWS::CodeDeploy::DeploymentGroup') return refId;
      return Object.entries(resources).find(([, r]) => r.Type === 'AWS::CodeDeploy::DeploymentGroup' && r.Properties?.DeploymentGroupName !== undefined && sameValue(r.Properties.DeploymentGroupName, ref))?.[0];
    };

    for (const [id, r] of Object.entries(resources)) {
      let dgId: string | undefined;
      let what: string;
      if (r.Type === 'AWS::Lambda::Alias') {
        what = `Lambda alias ${pathOf(id)}`;
        const update = (r.UpdatePolicy?.CodeDeployLambdaAliasUpdate ?? undefined) as Record<string, unknown> | undefined;
        if (!update) {
          report(
            SAFETY_RULES.canary,
            id,
            undefined,
            `${what} has no CodeDeploy canary deployment group (no UpdatePolicy.CodeDeployLambdaAliasUpdate): a new version would take 100% of production traffic at once.`,
            `Deploy the alias through a codedeploy.LambdaDeploymentGroup with a canary or linear config (e.g. LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES), or acknowledge ${SAFETY_RULES.canary} on the alias with a reason.`,
            'UpdatePolicy',
          );
          continue;
        }
        dgId = dgIdByName(update.DeploymentGroupName);
      } else if (r.Type === 'AWS::ECS::Service') {
        what = `ECS service ${pathOf(id)}`;
        const controller = (r.Properties?.DeploymentController as { Type?: string } | undefined)?.Type;
        dgId = Object.entries(resources).find(
          ([, g]) =>
            g.Type === 'AWS::CodeDeploy::DeploymentGroup' &&
            ((g.Properties?.ECSServices as Array<{ ServiceName?: unknown }> | undefined) ?? []).some((s) => refOf(s.ServiceName) === id),
        )?.[0];
        if (controller !== 'CODE_DEPLOY' || !dgId) {
          report(
            SAFETY_RULES.canary,
            id,
            undefined,
            `${what} has no CodeDeploy canary deployment group (${controller !== 'CODE_DEPLOY' ? `DeploymentController is ${controller ?? 'ECS (default)'}, not CODE_DEPLOY` : 'no AWS::CodeDeploy::DeploymentGroup in its stack lists it in ECSServices'}): a new task definition would replace all tasks without a canary.`,
            `Give the service deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } and a codedeploy.EcsDeploymentGroup with a canary or linear config (e.g. EcsDeploymentConfig.CANARY_10PERCENT_5MINUTES), or acknowledge ${SAFETY_RULES.canary} with a reason.`,
            'Properties/DeploymentController',
          );
          continue;
        }
      } else {
        continue;
      }
      if (!dgId) {
        report(
          SAFETY_RULES.canary,
          id,
          undefined,
          `${what} names a deployment group that is not in its stack, so its canary, alarms and rollback cannot be checked.`,
          'Define the CodeDeploy deployment group in the same stack as the alias, or acknowledge the rule with a reason.',
          'UpdatePolicy/CodeDeployLambdaAliasUpdate/DeploymentGroupName',
        );
        continue;
      }
      const dg = resources[dgId].Properties ?? {};
      const dgPath = pathOf(dgId);
      const config = deploymentConfigKind(dg.DeploymentConfigName, resources, r.Type === 'AWS::ECS::Service' ? 'ECS' : 'Lambda');
      if (config.allAtOnce) {
        report(
          SAFETY_RULES.canary,
          id,
          dgId,
          `${what} is deployed by ${dgPath} with ${config.name}: the new version takes all traffic at once, with no canary.`,
          `Use a canary or linear deployment config (e.g. ${r.Type === 'AWS::ECS::Service' ? 'EcsDeploymentConfig.CANARY_10PERCENT_5MINUTES' : 'LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES'}) on ${dgPath}.`,
          'Properties/DeploymentConfigName',
        );
      }
      const alarmCfg = dg.AlarmConfiguration as { Enabled?: unknown; Alarms?: unknown[] } | undefined;
      if (!alarmCfg || alarmCfg.Enabled === false || alarmCfg.Enabled === 'false' || (alarmCfg.Alarms ?? []).length === 0) {
        report(
          SAFETY_RULES.alarms,
          id,
          dgId,
          `${what} is deployed by ${dgPath}, which watches no CloudWatch alarms: a bad release would never be stopped during the canary.`,
          `Add the service's alarms to ${dgPath} (deploymentGroup.addAlarm(alarm) or alarms: [...]), e.g. error rate and p99 latency of the new version.`,
          'Properties/AlarmConfiguration',
        );
      }
      const rollback = dg.AutoRollbackConfiguration as { Enabled?: unknown; Events?: unknown[] } | undefined;
      if (!rollback || rollback.Enabled === false || rollback.Enabled === 'false' || !(rollback.Events ?? []).includes('DEPLOYMENT_STOP_ON_ALARM')) {
        report(
          SAFETY_RULES.autoRollback,
          id,
          dgId,
          `${what} is deployed by ${dgPath} without automatic rollback on alarm (AutoRollbackConfiguration lacks DEPLOYMENT_STOP_ON_ALARM): an alarm would stop the deployment but leave the bad version serving.`,
          `Set autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true } on ${dgPath}.`,
          'Properties/AutoRollbackConfiguration',
        );
      }
    }
    return out;
  }

  /** Production stages need a pre-production stage before them (construct-tree order = pipeline order). */
  private checkStageOrder(app: IConstruct): PolicyViolation[] {
    const marked = app.node
      .findAll()
      .filter((c) => !Stack.isStack(c) && c.node.metadata.some((m) => m.type === 'safe-deploy:stage-type'))
      .map((c) => ({ construct: c, type: stageMarkerOf(c, false)!.type }));
    const out: PolicyViolation[] = [];
    let seenPreProduction = false;
    for (const m of marked) {
      if (m.type === 'pre-production') seenPreProduction = true;
      else if (!seenPreProduction && !this.isAcknowledged(m.construct, SAFETY_RULES.preProduction)) {
        out.push({
          ruleName: SAFETY_RULES.preProduction,
          description: `Production stage ${m.construct.node.path} has no pre-production stage before it: the first environment to run a release would be production.`,
          fix: 'Add a stage marked markStageType(stage, "pre-production") (e.g. "Beta") before it in the pipeline, or acknowledge SafeDeploy-PreProduction on the stage with a reason.',
          severity: 'error',
          violatingResources: [{ constructPath: m.construct.node.path, locations: [Stage.isStage(m.construct) ? 'Stage' : 'Construct'] }],
        });
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

function refOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  const getAtt = o['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Classifies a deployment config reference: predefined name, or a custom config in the template. */
function deploymentConfigKind(
  ref: unknown,
  resources: NonNullable<Template['Resources']>,
  platform: 'Lambda' | 'ECS',
): { name: string; allAtOnce: boolean } {
  if (ref === undefined) return { name: `no DeploymentConfigName (CodeDeploy's default, CodeDeployDefault.${platform}AllAtOnce)`, allAtOnce: true };
  if (typeof ref === 'string') return { name: ref, allAtOnce: /AllAtOnce/i.test(ref) };
  const id = refOf(ref);
  const custom = id ? resources[id] : undefined;
  if (custom?.Type === 'AWS::CodeDeploy::DeploymentConfig') {
    const type = (custom.Properties?.TrafficRoutingConfig as { Type?: string } | undefined)?.Type;
    return { name: `custom deployment config ${id} (${type ?? 'no TrafficRoutingConfig'})`, allAtOnce: !type || type === 'AllAtOnce' };
  }
  return { name: JSON.stringify(ref), allAtOnce: false };
}
