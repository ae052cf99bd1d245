import { Stack, Token } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { IConstruct } from 'constructs';
import type { SafeDeployConfig } from '../config/schema';

/** CodePipeline quotas (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html). */
export const CODEPIPELINE_LIMITS = {
  actionsPerStage: 50,
  stagesPerPipeline: 50,
  actionConfigurationValue: 1000,
  name: 100,
} as const;

/** A pipeline stage the config gives rise to, with the actions it will hold. */
interface PlannedStage {
  readonly name: string;
  readonly actions: number;
  /** Where in the config it comes from, and how its count adds up. */
  readonly where: string;
  readonly breakdown: string;
  /** Most regions a wave of this shape can hold. */
  readonly maxRegions?: number;
}

/**
 * The pipeline's stages and action counts, from the config alone: Source, Build, UpdatePipeline and
 * Assets; Images (one action per ECS service); per wave one CloudFormation action per stack (each
 * target has its services plus a platform stack), production waves two more (permission check and
 * confirmation), pre-production targets one smoke test each; gate stages before production waves.
 */
export function planPipeline(config: SafeDeployConfig): PlannedStage[] {
  const services = config.services.length;
  const ecs = config.services.filter((s) => s.kind === 'ecs').length;
  const stacksPerTarget = services + 1;
  const stages: PlannedStage[] = ['Source', 'Build', 'UpdatePipeline', 'Assets'].map((name) => ({
    name,
    actions: 1,
    where: name,
    breakdown: '1 action',
  }));
  if (ecs > 0) stages.push({ name: 'Images', actions: ecs, where: 'services', breakdown: `${ecs} ECS services, one image build each` });
  config.stages.forEach((stage, i) => {
    if (stage.manualApproval && stage.type === 'pre-production')
      stages.push({ name: `Approve-${stage.name}`, actions: 1, where: `stages[${i}].manualApproval`, breakdown: '1 approval' });
    stage.waves.forEach((wave, j) => {
      const name = wave.name === stage.name ? stage.name : `${stage.name}-${wave.name}`;
      const where = `stages[${i}].waves[${j}]`;
      if (stage.type === 'production') {
        stages.push({ name: `Gate-${name}`, actions: j === 0 && stage.manualApproval ? 2 : 1, where, breakdown: 'bake gate' });
      }
      const perTarget = stacksPerTarget + (stage.type === 'pre-production' ? 1 : 0);
      const extra = stage.type === 'production' ? 2 : 0;
      const regions = wave.regions.length;
      stages.push({
        name,
        actions: regions * perTarget + extra,
        where,
        breakdown:
          `${regions} region${regions > 1 ? 's' : ''} × (${services} service stack${services > 1 ? 's' : ''} + 1 platform stack` +
          `${stage.type === 'pre-production' ? ' + 1 smoke test' : ''})${extra ? ` + ${extra} permission-check actions` : ''}`,
        maxRegions: Math.floor((CODEPIPELINE_LIMITS.actionsPerStage - extra) / perTarget),
      });
    });
  });
  return stages;
}

/** Refuses, with the numbers, a config whose pipeline CodePipeline cannot hold. */
export function checkPipelineLayout(config: SafeDeployConfig): void {
  const plan = planPipeline(config);
  const problems: string[] = [];
  for (const s of plan) {
    if (s.actions > CODEPIPELINE_LIMITS.actionsPerStage) {
      const fix =
        s.maxRegions !== undefined && s.maxRegions >= 1
          ? `split the wave into waves of at most ${s.maxRegions} regions`
          : `a target of ${config.services.length} services cannot fit: deploy fewer services per pipeline`;
      problems.push(
        `${s.where}: pipeline stage "${s.name}" would need ${s.actions} actions (${s.breakdown}); CodePipeline allows ${CODEPIPELINE_LIMITS.actionsPerStage} per stage: ${fix}`,
      );
    }
    if (s.name.length > CODEPIPELINE_LIMITS.name)
      problems.push(
        `${s.where}: pipeline stage name "${s.name}" is ${s.name.length} characters; CodePipeline allows ${CODEPIPELINE_LIMITS.name}: shorten the stage or wave name`,
      );
  }
  if (plan.length > CODEPIPELINE_LIMITS.stagesPerPipeline) {
    problems.push(
      `stages: the pipeline would have ${plan.length} stages (${plan.map((s) => s.name).join(', ')}); CodePipeline allows ${CODEPIPELINE_LIMITS.stagesPerPipeline}: use fewer, larger waves or a second pipeline`,
    );
  }
  if (problems.length > 0)
    throw new Error(`The pipeline does not fit CodePipeline's limits:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/**
 * After the pipeline is built: every stage within the action quota, every action configuration
 * value within 1000 characters (tokens counted at the longest a resolved name can be), names
 * within 100 characters. Added as a validation of `scope`, so synth fails with the numbers.
 */
export function validateBuiltPipeline(scope: IConstruct, cfn: codepipeline.CfnPipeline): void {
  scope.node.addValidation({
    validate: () => {
      const stack = Stack.of(scope);
      const stages = stack.resolve(cfn.stages) as Array<{
        name: string;
        actions: Array<{ name: string; configuration?: Record<string, unknown> }>;
      }>;
      const problems: string[] = [];
      if (stages.length > CODEPIPELINE_LIMITS.stagesPerPipeline)
        problems.push(`the pipeline has ${stages.length} stages; CodePipeline allows ${CODEPIPELINE_LIMITS.stagesPerPipeline}`);
      for (const stage of stages) {
        if (stage.actions.length > CODEPIPELINE_LIMITS.actionsPerStage) {
          problems.push(
            `pipeline stage "${stage.name}" has ${stage.actions.length} actions; CodePipeline allows ${CODEPIPELINE_LIMITS.actionsPerStage}`,
          );
        }
        for (const action of stage.actions) {
          if (action.name.length > CODEPIPELINE_LIMITS.name)
            problems.push(
              `action "${stage.name}/${action.name}" has a ${action.name.length}-character name; CodePipeline allows ${CODEPIPELINE_LIMITS.name}`,
            );
          for (const [key, value] of Object.entries(action.configuration ?? {})) {
            const length = configurationLength(value);
            if (length > CODEPIPELINE_LIMITS.actionConfigurationValue) {
              problems.push(
                `action "${stage.name}/${action.name}" configuration ${key} is up to ${length} characters; CodePipeline allows ${CODEPIPELINE_LIMITS.actionConfigurationValue}`,
              );
            }
          }
        }
      }
      return problems;
    },
  });
}

/** Longest a resolved configuration value can be: literal text, plus 128 per reference (a name or ARN). */
export function configurationLength(value: unknown): number {
  if (typeof value === 'string') return Token.isUnresolved(value) ? value.length + 128 : value.length;
  if (value === null || typeof value !== 'object') return String(value).length;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + configurationLength(v), 0);
  const o = value as Record<string, unknown>;
  if ('Ref' in o || 'Fn::GetAtt' in o || 'Fn::ImportValue' in o) return 128;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.reduce<number>((n, p) => n + configurationLength(p), 0) + sep.length * Math.max(0, parts.length - 1);
  }
  if ('Fn::Sub' in o) return configurationLength(Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'][0] : o['Fn::Sub']) + 128;
  return JSON.stringify(o).length;
}
