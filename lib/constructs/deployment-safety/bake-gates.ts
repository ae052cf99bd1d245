import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import {
  describeSettingsError,
  gateEnvironmentSchema,
  gateParametersSchema,
  GateSettings,
  gateSettingsSchema,
  GateTarget,
} from '../../runtime/gate-settings';
import { HandlerFunction } from '../handler-function';
import { gateFunctionRoleName } from './names';
import { readerRoleArn, SafetyStage, SafetyTarget } from './stages';

/** Name of the pipeline variable that overrides a deployment window (set when starting an execution). */
export const OVERRIDE_VARIABLE = 'SafetyOverride';

/** What the bake gates need to know; DeploymentSafetyProps passes these through. */
export interface BakeGatesProps {
  readonly pipeline: codepipeline.Pipeline;
  readonly stages: SafetyStage[];
  readonly appName: string;
  /** @default - the override log omits who started the execution */
  readonly pipelineName?: string;
  /** @default Duration.minutes(1) */
  readonly pollInterval?: Duration;
  /** @default Duration.hours(2) */
  readonly requestGrace?: Duration;
  /** @default 'Synth_Output' */
  readonly cloudAssemblyArtifactName?: string;
}

/**
 * The bake gate stages of DeploymentSafety: one function, a gate stage (with an optional manual
 * approval) right before each production stage, and the settings each gate reads from the release
 * manifest. Not a construct of its own: its resources keep DeploymentSafety's construct ids.
 */
export class BakeGates {
  /** The bake gate function (its role name is fixed so GateReaderRoles can trust it). */
  readonly gateFunction: HandlerFunction;
  /** Names of the gate stages added, e.g. ["Gate-Prod-Wave1"]. */
  readonly gateStageNames: string[] = [];
  private readonly gateInputs: Array<{ gateStageName: string; stage: SafetyStage; previous: SafetyStage; maxWaitMinutes: number }> = [];

  constructor(
    private readonly scope: Construct,
    private readonly props: BakeGatesProps,
  ) {
    const stack = Stack.of(scope);
    const { appName, pipeline } = props;
    // The pipeline references the function, so the function must not reference the pipeline:
    // its name comes in as a literal, and the pipeline read permission is a separate policy.
    this.gateFunction = new HandlerFunction(scope, 'BakeGate', {
      entry: 'bake-gate/index.ts',
      description: 'Bake gate: bake time, requests served, quiet alarms and deployment window before a production wave',
      roleName: gateFunctionRoleName(appName),
      timeout: Duration.minutes(3),
      environment: checkedGateSetting(gateEnvironmentSchema, 'BakeGate environment', {
        POLL_INTERVAL_SECONDS: String((props.pollInterval ?? Duration.minutes(1)).toSeconds()),
        ...(props.pipelineName ? { PIPELINE_NAME: props.pipelineName } : {}),
      }),
    });
    const gateRole = this.gateFunction.executionRole;
    const custom = props.stages
      .flatMap((s) => s.targets)
      .filter((t) => t.readerRoleName && !t.readerRoleName.startsWith(`${appName}-gate-reader-`));
    if (custom.length > 0) {
      throw new Error(
        `DeploymentSafety: readerRoleName ${custom.map((t) => `"${t.readerRoleName}"`).join(', ')} must start with "${appName}-gate-reader-" (the gate may assume only those roles)`,
      );
    }
    // Exactly the reader roles of the targets, each known at synth: no wildcard.
    const readerRoleArns = [
      ...new Set(props.stages.flatMap((s) => s.targets.map((t) => readerRoleArn(t, appName, stack.partition)))),
    ].sort();
    gateRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: readerRoleArns }));
    Validations.of(gateRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'codepipeline:PutJobSuccessResult/PutJobFailureResult (added by LambdaInvokeAction) support no resource-level permissions; a job id cannot be scoped by ARN.',
    });
    new iam.Policy(scope, 'GateReadsPipeline', {
      roles: [gateRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['codepipeline:GetPipelineExecution', 'codepipeline:GetPipelineState'],
          resources: [pipeline.pipelineArn],
        }),
      ],
    });

    pipeline.addVariable(
      new codepipeline.Variable({
        variableName: OVERRIDE_VARIABLE,
        defaultValue: 'none',
        description: 'Reason for deploying outside a deployment window (emergency fix); "none" keeps the windows',
      }),
    );

    const graceMinutes = (props.requestGrace ?? Duration.hours(2)).toMinutes();
    // The settings travel in the release manifest; the action only names its gate (lib/runtime/gate-settings.ts).
    const cloudAssembly = new codepipeline.Artifact(props.cloudAssemblyArtifactName ?? 'Synth_Output');
    props.stages.forEach((stage, i) => {
      if (stage.type !== 'production') return;
      const previous = props.stages[i - 1];
      const before = pipeline.stages.find((s) => s.stageName === stage.stageName)!;
      const gateStageName = `Gate-${stage.stageName}`;
      this.gateInputs.push({ gateStageName, stage, previous, maxWaitMinutes: (stage.bake?.minutes ?? 0) + graceMinutes });
      const params = checkedGateSetting(gateParametersSchema, `${gateStageName} UserParameters`, {
        gate: gateStageName,
        override: `#{variables.${OVERRIDE_VARIABLE}}`,
        executionId: '#{codepipeline.PipelineExecutionId}',
      });
      const approval = stage.manualApproval
        ? [
            new actions.ManualApprovalAction({
              actionName: `Approve-${stage.stageName}`,
              runOrder: 1,
              additionalInformation: `Promote to ${stage.stageName}? The bake gate runs after the approval.`,
            }),
          ]
        : [];
      pipeline.addStage({
        stageName: gateStageName,
        placement: { rightBefore: before },
        actions: [
          ...approval,
          new actions.LambdaInvokeAction({
            actionName: 'BakeGate',
            runOrder: approval.length + 1,
            lambda: this.gateFunction,
            inputs: [cloudAssembly],
            userParametersString: JSON.stringify(params),
          }),
        ],
      });
      this.gateStageNames.push(gateStageName);
    });
  }

  /**
   * What each gate checks, for the release manifest (call after the pipeline is complete): the
   * deploy actions of the guarded stage's stacks are read from the built pipeline.
   */
  gates(): Record<string, GateSettings> {
    const stack = Stack.of(this.scope);
    const cfn = this.props.pipeline.node.defaultChild as codepipeline.CfnPipeline;
    const stages = stack.resolve(cfn.stages) as Array<{
      name: string;
      actions: Array<{ name: string; configuration?: { StackName?: unknown; ActionMode?: unknown } }>;
    }>;
    // The action that changes the stack (not the one that only prepares a change set).
    const deploys = (a: { configuration?: { ActionMode?: unknown } }) =>
      ['CREATE_UPDATE', 'CHANGE_SET_EXECUTE'].includes(String(a.configuration?.ActionMode));
    const actionsOf = (stageName: string) => (stackName: string) => {
      const action = stages.find((s) => s.name === stageName)?.actions.find((a) => a.configuration?.StackName === stackName && deploys(a));
      if (!action) throw new Error(`DeploymentSafety: pipeline stage "${stageName}" has no action deploying stack ${stackName}`);
      return action.name;
    };
    const settings: Record<string, GateSettings> = {};
    for (const g of this.gateInputs) {
      settings[g.gateStageName] = checkedGateSetting(gateSettingsSchema, `gates.${g.gateStageName}`, {
        stageName: g.stage.stageName,
        bake: g.stage.bake,
        // Pre-production serves only smoke-test requests: only a production wave's traffic is counted.
        countRequests: g.previous.type === 'production',
        window: g.stage.deploymentWindow
          ? {
              ...g.stage.deploymentWindow,
              windows: g.stage.deploymentWindow.windows.map((w) => ({ ...w, days: [...w.days] })),
              blockedDates: [...(g.stage.deploymentWindow.blockedDates ?? [])],
            }
          : undefined,
        observe: g.previous.targets.map((t) => gateTarget(t, this.props.appName, stack.partition, actionsOf(g.previous.stageName))),
        guard: g.stage.targets.map((t) => gateTarget(t, this.props.appName, stack.partition, actionsOf(g.stage.stageName))),
        maxWaitMinutes: g.maxWaitMinutes,
      });
    }
    return settings;
  }
}

/**
 * A value the gate will read (its environment, its UserParameters, its settings in the release manifest),
 * built through the schema's type and checked with the schema at synth, as the handler will check it.
 */
function checkedGateSetting<T>(schema: z.ZodType<T>, label: string, value: T): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`DeploymentSafety: ${describeSettingsError(label, parsed.error)}`);
  return value;
}

function gateTarget(t: SafetyTarget, appName: string, partition: string, actionOf: (stackName: string) => string): GateTarget {
  return {
    account: t.account,
    region: t.region,
    roleArn: readerRoleArn(t, appName, partition),
    healthAlarmNames: t.healthAlarmNames,
    platformAction: actionOf(t.platformStackName),
    serviceActions: t.serviceStackNames.map(actionOf),
    ...(t.featureFlags && t.featureFlags.length > 0 ? { flags: t.featureFlags.map((f) => ({ ...f })) } : {}),
  };
}
