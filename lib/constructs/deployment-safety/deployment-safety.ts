import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { z } from 'zod';
import {
  describeSettingsError,
  gateEnvironmentSchema,
  GateFlags,
  gateParametersSchema,
  GateSettings,
  gateSettingsSchema,
  GateTarget,
} from '../../runtime/gate-settings';
import type { StageSafetySettings, StageType } from '../../policy/stage-type';
import { HandlerFunction } from '../handler-function';
import { FailedEventsQueue } from '../shared/failed-events-queue';
import { actionsByScope, ResourceScope } from '../../ops/permissions';
import { ROLLBACK_STATES } from './gate-reader-role';
import { ArnParts, gateFunctionRoleName, gateReaderRoleArn, nagResource } from './names';
import { bakeMinutesField } from './limits';
import { fieldProblem } from '../shared/limits';

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

/** Properties of DeploymentSafety. */
export interface DeploymentSafetyProps {
  /** The built pipeline (`cdkPipeline.pipeline` after `buildPipeline()`); must be pipelineType V2. */
  readonly pipeline: codepipeline.Pipeline;
  /** Every service stage, in pipeline order. */
  readonly stages: SafetyStage[];
  /**
   * The pipeline's physical name, when it has a fixed one (config `pipeline.name`): lets the gate
   * log who started an execution that overrides a window.
   * @default - the override log omits who started the execution
   */
  readonly pipelineName?: string;
  /** Prefix of the fixed role names (gate function, GateReaderRole). @default 'safe-deploy' */
  readonly appName?: string;
  /** The notification topic. @default - a new KMS-encrypted, TLS-only topic */
  readonly topic?: sns.Topic;
  /** E-mail addresses subscribed to the notification topic. @default - none; subscribe later */
  readonly notificationEmails?: string[];
  /** How long the gate waits between checks while baking. @default Duration.minutes(1) */
  readonly pollInterval?: Duration;
  /** How long past the bake time the gate waits for enough requests before failing. @default Duration.hours(2) */
  readonly requestGrace?: Duration;
  /** The name of the pipeline artifact that holds the cloud assembly and its release manifest. @default 'Synth_Output' */
  readonly cloudAssemblyArtifactName?: string;
}

/** Name of the pipeline variable that overrides a deployment window (set when starting an execution). */
export const OVERRIDE_VARIABLE = 'SafetyOverride';

/**
 * Wires the safety net into a built CodePipeline (V2): a bake gate stage before each production
 * stage (bake time, requests served, quiet alarms, deployment window with an audited override),
 * automatic rollback of a failed production stage, and notifications of pipeline failures,
 * CodeDeploy rollbacks and blocked gates on a KMS-encrypted, TLS-only SNS topic.
 *
 * Create it after `buildPipeline()` and after any other stage is added: it inserts stages and
 * addresses the CloudFormation stages by position.
 */
export class DeploymentSafety extends Construct {
  /** Receives every notification. */
  readonly topic: sns.Topic;
  /** The bake gate function (its role name is fixed so GateReaderRoles can trust it). */
  readonly gateFunction: HandlerFunction;
  /** Explains failures and publishes them. */
  readonly notifierFunction: HandlerFunction;
  /** Notification events that could not be delivered or handled (EventBridge DLQ, the notifier's on-failure destination). */
  readonly failedNotifications: FailedEventsQueue;
  /** Names of the gate stages added, e.g. ["Gate-Prod-Wave1"]. */
  readonly gateStageNames: string[] = [];
  private readonly gateInputs: Array<{ gateStageName: string; stage: SafetyStage; previous: SafetyStage; maxWaitMinutes: number }> = [];
  private readonly appName: string;
  private readonly pipeline: codepipeline.Pipeline;

  constructor(scope: Construct, id: string, props: DeploymentSafetyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const appName = (this.appName = props.appName ?? 'safe-deploy');
    const pipeline = (this.pipeline = props.pipeline);
    validateStages(props.stages, pipeline);

    this.topic =
      props.topic ??
      new sns.Topic(this, 'Topic', {
        masterKey: new kms.Key(this, 'TopicKey', { enableKeyRotation: true, description: `${appName} pipeline notifications` }),
        enforceSSL: true,
        displayName: `${appName} deployments`,
      });
    for (const email of props.notificationEmails ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    // ---- Bake gate ----------------------------------------------------------------------------
    // The pipeline references the function, so the function must not reference the pipeline:
    // its name comes in as a literal, and the pipeline read permission is a separate policy.
    this.gateFunction = new HandlerFunction(this, 'BakeGate', {
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
    const custom = props.stages.flatMap((s) => s.targets).filter((t) => t.readerRoleName && !t.readerRoleName.startsWith(`${appName}-gate-reader-`));
    if (custom.length > 0) {
      throw new Error(`DeploymentSafety: readerRoleName ${custom.map((t) => `"${t.readerRoleName}"`).join(', ')} must start with "${appName}-gate-reader-" (the gate may assume only those roles)`);
    }
    const accounts = [...new Set(props.stages.flatMap((s) => s.targets.map((t) => t.account)))].sort();
    const parts = { partition: stack.partition, region: stack.region, account: stack.account };
    // Exactly the reader roles of the targets, each known at synth: no wildcard.
    const readerRoleArns = [...new Set(props.stages.flatMap((s) => s.targets.map((t) => readerRoleArn(t, appName, stack.partition))))].sort();
    gateRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: readerRoleArns }));
    Validations.of(gateRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'codepipeline:PutJobSuccessResult/PutJobFailureResult (added by LambdaInvokeAction) support no resource-level permissions; a job id cannot be scoped by ARN.',
    });
    new iam.Policy(this, 'GateReadsPipeline', {
      roles: [gateRole],
      statements: [new iam.PolicyStatement({ actions: ['codepipeline:GetPipelineExecution', 'codepipeline:GetPipelineState'], resources: [pipeline.pipelineArn] })],
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
        ? [new actions.ManualApprovalAction({ actionName: `Approve-${stage.stageName}`, runOrder: 1, additionalInformation: `Promote to ${stage.stageName}? The bake gate runs after the approval.` })]
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

    // A failed production stage rolls back to the last successful execution's revision. CDK
    // Pipelines builds the stages, so the condition goes on the CloudFormation stage by position.
    const cfn = pipeline.node.defaultChild as codepipeline.CfnPipeline;
    for (const stage of props.stages.filter((s) => s.type === 'production')) {
      const index = pipeline.stages.findIndex((s) => s.stageName === stage.stageName);
      cfn.addPropertyOverride(`Stages.${index}.OnFailure`, { Result: 'ROLLBACK' });
      this.node.addValidation({
        validate: () =>
          pipeline.stages[index]?.stageName === stage.stageName
            ? []
            : [`DeploymentSafety: pipeline stage ${index} is no longer "${stage.stageName}": a stage was added after DeploymentSafety; create DeploymentSafety last`],
      });
    }

    // ---- Notifications ------------------------------------------------------------------------
    this.notifierFunction = new HandlerFunction(this, 'Notifier', {
      entry: 'pipeline-notifier/index.ts',
      description: 'Explains failed executions and CodeDeploy rollbacks, and publishes them to the notification topic',
      timeout: Duration.minutes(1),
      environment: { TOPIC_ARN: this.topic.topicArn },
    });
    const notifierRole = this.notifierFunction.executionRole;
    this.topic.grantPublish(this.notifierFunction);
    this.grantDiagnosis(notifierRole, props.stages, parts);
    Validations.of(notifierRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: "Added by topic.grantPublish for the topic's own KMS key (resource-scoped to that key): SNS needs a data key to encrypt each message.",
    });

    // The gate and the notifier fail their invocation only when they cannot report (a malformed
    // event, CodePipeline unreachable): say so on the topic directly, not through the notifier.
    this.topic.masterKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsEncryptToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // In a key policy, "*" means this key only.
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.alarmOnErrors(this.gateFunction, 'The bake gate could not evaluate or report a job: the gate action will time out (CodePipeline waits up to its 20-minute reply window). See its log group.');
    this.alarmOnErrors(this.notifierFunction, 'The notifier failed to explain or publish a failure: a failed execution or rollback may have gone unnoticed. See its log group and run deployctl diagnose.');

    // Failures are not lost: EventBridge sends what it cannot deliver to the notifier, and the
    // notifier what it fails to handle after Lambda's retries, to one encrypted queue that alarms.
    this.failedNotifications = new FailedEventsQueue(this, 'FailedNotifications', { purpose: 'A failed execution or rollback notification' });
    this.failedNotifications.alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    this.notifierFunction.configureAsyncInvoke({ onFailure: new destinations.SqsDestination(this.failedNotifications.queue), retryAttempts: 2 });
    const target = new targets.LambdaFunction(this.notifierFunction, { retryAttempts: 4, maxEventAge: Duration.hours(1), deadLetterQueue: this.failedNotifications.queue });
    new events.Rule(this, 'PipelineFailed', {
      description: `Notifies ${this.topic.node.path}: failed executions of the pipeline (includes blocked gates)`,
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change'],
        resources: [pipeline.pipelineArn],
        detail: { state: ['FAILED'] },
      },
      targets: [target],
    });
    new events.Rule(this, 'CodeDeployRollback', {
      description: 'Notifies failed or stopped (rolled back) CodeDeploy deployments: its own, and those RollbackEventForwarder forwards from other accounts and regions',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { state: ROLLBACK_STATES },
      },
      targets: [target],
    });
    accounts
      .filter((a) => a !== stack.account)
      .forEach((a) => {
        new events.CfnEventBusPolicy(this, `AllowEventsFrom${a}`, {
          statementId: `safe-deploy-codedeploy-${a}`,
          statement: {
            Effect: 'Allow',
            Principal: { AWS: `arn:${stack.partition}:iam::${a}:root` },
            Action: 'events:PutEvents',
            Resource: `arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/default`,
            Condition: { StringEquals: { 'events:source': 'aws.codedeploy' } },
          },
        });
      });
  }


  /** An alarm on any error of one of the pipeline's own functions, notified on the topic. */
  alarmOnErrors(fn: lambda.IFunction, description: string): cloudwatch.Alarm {
    const alarm = fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }).createAlarm(fn, 'ErrorsAlarm', {
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    return alarm;
  }

  /**
   * Every read deployctl's diagnosis makes (lib/ops/permissions.ts), scoped as far as IAM allows:
   * this pipeline; the CodeBuild projects, CloudFormation stacks and CodeDeploy deployment groups of
   * this account in the regions its stages deploy to (stacks by name; project and group names are
   * generated, so by account and region). Targets in other accounts are not readable from here:
   * the notification says so, as deployctl does.
   */
  private grantDiagnosis(role: iam.IRole, stages: SafetyStage[], own: ArnParts): void {
    const stack = Stack.of(this);
    const resolve = (x: unknown) => stack.resolve(x);
    const local = stages.flatMap((s) => s.targets).filter((t) => t.account === stack.account || Token.isUnresolved(stack.account));
    const regions = [...new Set([own.region, ...local.map((t) => t.region)])];
    const arn = (service: string, region: string, resource: string) => `arn:${own.partition}:${service}:${region}:${own.account}:${resource}`;
    const byScope = actionsByScope();
    const resources: Record<ResourceScope, string[]> = {
      pipeline: [this.pipeline.pipelineArn],
      'codebuild-project': [arn('codebuild', own.region, 'project/*')],
      stack: [stack.stackName, ...local.flatMap((t) => [t.platformStackName, ...t.serviceStackNames])].map((name) => arn('cloudformation', regionOf(name, local, own.region), `stack/${name}/*`)),
      'deployment-group': regions.map((r) => arn('codedeploy', r, 'deploymentgroup:*')),
      none: ['*'],
    };
    for (const scope of Object.keys(byScope) as ResourceScope[]) {
      if (byScope[scope].length > 0) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: byScope[scope], resources: [...new Set(resources[scope])] }));
    }
    const reasons: Record<string, string> = {
      [`AwsSolutions-IAM5[Resource::${nagResource(resolve, own, (p) => `arn:${p.partition}:codebuild:${p.region}:${p.account}:project/*`)}]`]:
        'Diagnosis reads the build of whichever CDK Pipelines project failed; those project names are generated. Read-only (BatchGetBuilds), this account and region.',
      'AwsSolutions-IAM5[Resource::*]':
        'codedeploy:ListDeploymentTargets and BatchGetDeploymentTargets support no resource-level permissions (IAM service authorization reference); read-only.',
    };
    for (const r of regions) {
      reasons[`AwsSolutions-IAM5[Resource::${nagResource(resolve, { ...own, region: r }, (p) => `arn:${p.partition}:codedeploy:${p.region}:${p.account}:deploymentgroup:*`)}]`] =
        'Diagnosis reads the CodeDeploy deployment of whichever service failed; deployment group names are generated by CloudFormation in the stage stacks. Read-only (GetDeployment, ListDeployments), this account and the region.';
    }
    for (const name of [stack.stackName, ...local.flatMap((t) => [t.platformStackName, ...t.serviceStackNames])]) {
      const region = regionOf(name, local, own.region);
      reasons[`AwsSolutions-IAM5[Resource::${nagResource(resolve, { ...own, region }, (p) => `arn:${p.partition}:cloudformation:${p.region}:${p.account}:stack/${name}/*`)}]`] =
        'The stack is named; the wildcard is its id suffix, which CloudFormation generates. Read-only (DescribeStackEvents, ListStackResources).';
    }
    Validations.of(role).acknowledge(...Object.entries(reasons).map(([id, reason]) => ({ id, reason })));
  }

  /**
   * What each gate checks, for the release manifest (call after the pipeline is complete): the
   * deploy actions of the guarded stage's stacks are read from the built pipeline.
   */
  gates(): Record<string, GateSettings> {
    const stack = Stack.of(this);
    const cfn = this.pipeline.node.defaultChild as codepipeline.CfnPipeline;
    const stages = stack.resolve(cfn.stages) as Array<{ name: string; actions: Array<{ name: string; configuration?: { StackName?: unknown; ActionMode?: unknown } }> }>;
    // The action that changes the stack (not the one that only prepares a change set).
    const deploys = (a: { configuration?: { ActionMode?: unknown } }) => ['CREATE_UPDATE', 'CHANGE_SET_EXECUTE'].includes(String(a.configuration?.ActionMode));
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
        window: g.stage.deploymentWindow ? { ...g.stage.deploymentWindow, windows: g.stage.deploymentWindow.windows.map((w) => ({ ...w, days: [...w.days] })), blockedDates: [...(g.stage.deploymentWindow.blockedDates ?? [])] } : undefined,
        observe: g.previous.targets.map((t) => gateTarget(t, this.appName, stack.partition, actionsOf(g.previous.stageName))),
        guard: g.stage.targets.map((t) => gateTarget(t, this.appName, stack.partition, actionsOf(g.stage.stageName))),
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

/** The region a stack of `targets` is in (the pipeline's own for the pipeline stack). */
function regionOf(stackName: string, targets: SafetyTarget[], fallback: string): string {
  return targets.find((t) => t.platformStackName === stackName || t.serviceStackNames.includes(stackName))?.region ?? fallback;
}

function readerRoleArn(t: SafetyTarget, appName: string, partition: string): string {
  return t.readerRoleName ? `arn:${partition}:iam::${t.account}:role/${t.readerRoleName}` : gateReaderRoleArn(appName, t.account, t.region, partition);
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

function validateStages(stages: SafetyStage[], pipeline: codepipeline.Pipeline): void {
  const problems: string[] = [];
  const names = new Set(pipeline.stages.map((s) => s.stageName));
  stages.forEach((s, i) => {
    if (!names.has(s.stageName)) problems.push(`stages[${i}].stageName: "${s.stageName}" is not a stage of the pipeline (stages: ${[...names].join(', ')})`);
    if (s.type === 'production' && i === 0) problems.push(`stages[${i}]: production stage "${s.stageName}" has no stage before it to bake in: put a pre-production stage first`);
    if (s.targets.length === 0) problems.push(`stages[${i}].targets: "${s.stageName}" lists no targets: give each region's account, region and health alarm names`);
    if (s.type !== 'production' && (s.bake || s.deploymentWindow)) problems.push(`stages[${i}]: bake and deploymentWindow guard production stages only; "${s.stageName}" is ${s.type}`);
    const bake = fieldProblem(`stages[${i}].bake.minutes`, bakeMinutesField, s.bake?.minutes);
    if (bake) problems.push(bake);
  });
  if (problems.length > 0) throw new Error(`DeploymentSafety: invalid stages:\n  - ${problems.join('\n  - ')}`);
}
