import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { StageSafetySettings, StageType } from '../../policy/stage-type';
import type { GateFlags } from '../../runtime/gate-settings';
import { fieldProblem } from '../shared/limits';
import { bakeMinutesField } from './limits';
import { gateReaderRoleArn } from './names';

/** One region of a pipeline stage: where its services run and how to tell they are healthy. */
export interface SafetyTarget {
  /** Account the services run in. */
  readonly account: string;
  /** Region the services run in. */
  readonly region: string;
  /** Aggregate health alarms of the target's services, e.g. ["Prod-us-east-1-orders-api-Health"]. */
  readonly healthAlarmNames: string[];
  /** The stack that holds the target's GateReaderRole (deployed by the pipeline stage). */
  readonly platformStackName: string;
  /** The stacks that hold each health alarm, in the same order. */
  readonly serviceStackNames: string[];
  /**
   * Name of the GateReaderRole in that account, when it is not the default (GateReaderRole `roleName`).
   * @default - `<appName>-gate-reader-<region>`
   */
  readonly readerRoleName?: string;
  /**
   * The target's services with feature flags (AppConfig): the gate after this stage waits for this
   * release's flags to complete here, and the gate before it waits for running flag deployments.
   * The reader role must be able to read them (GateReaderRole `readFeatureFlags`).
   * @default - none
   */
  readonly featureFlags?: readonly GateFlags[];
}

/** A CodePipeline stage (one wave) as the safety wiring sees it. */
export interface SafetyStage extends StageSafetySettings {
  /** The CodePipeline stage's name, e.g. "Prod-Wave1"; must exist in the pipeline. */
  readonly stageName: string;
  /** Production stages get a gate before them and roll back on failure. */
  readonly type: StageType;
  /** The regions the stage deploys to. */
  readonly targets: SafetyTarget[];
  /** A person approves in the gate stage before the bake gate runs (production only). @default false */
  readonly manualApproval?: boolean;
}

/** The GateReaderRole the gate assumes in a target's account. */
export function readerRoleArn(t: SafetyTarget, appName: string, partition: string): string {
  return t.readerRoleName
    ? `arn:${partition}:iam::${t.account}:role/${t.readerRoleName}`
    : gateReaderRoleArn(appName, t.account, t.region, partition);
}

/** Refuses, with every problem at once, stages the pipeline does not have or cannot guard. */
export function validateStages(stages: SafetyStage[], pipeline: codepipeline.Pipeline): void {
  const problems: string[] = [];
  const names = new Set(pipeline.stages.map((s) => s.stageName));
  stages.forEach((s, i) => {
    if (!names.has(s.stageName))
      problems.push(`stages[${i}].stageName: "${s.stageName}" is not a stage of the pipeline (stages: ${[...names].join(', ')})`);
    if (s.type === 'production' && i === 0)
      problems.push(`stages[${i}]: production stage "${s.stageName}" has no stage before it to bake in: put a pre-production stage first`);
    if (s.targets.length === 0)
      problems.push(`stages[${i}].targets: "${s.stageName}" lists no targets: give each region's account, region and health alarm names`);
    if (s.type !== 'production' && (s.bake || s.deploymentWindow))
      problems.push(`stages[${i}]: bake and deploymentWindow guard production stages only; "${s.stageName}" is ${s.type}`);
    const bake = fieldProblem(`stages[${i}].bake.minutes`, bakeMinutesField, s.bake?.minutes);
    if (bake) problems.push(bake);
  });
  if (problems.length > 0) throw new Error(`DeploymentSafety: invalid stages:\n  - ${problems.join('\n  - ')}`);
}
