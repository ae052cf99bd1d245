import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { GateSettings } from '../../runtime/gate-settings';
import type { HandlerFunction } from '../handler-function';
import type { FailedEventsQueue } from '../shared/failed-events-queue';
import { BakeGates } from './bake-gates';
import { alarmOnErrors, notificationTopic, PipelineNotifications } from './notifications';
import { rollBackFailedProductionStages } from './production-rollback';
import { SafetyStage, validateStages } from './stages';

export { OVERRIDE_VARIABLE } from './bake-gates';
export type { SafetyStage, SafetyTarget } from './stages';

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
  readonly gateStageNames: string[];
  private readonly bakeGates: BakeGates;

  constructor(scope: Construct, id: string, props: DeploymentSafetyProps) {
    super(scope, id);
    const appName = props.appName ?? 'safe-deploy';
    validateStages(props.stages, props.pipeline);
    // The three parts add their resources to this construct, under the ids they always had.
    this.topic = notificationTopic(this, appName, props.topic, props.notificationEmails ?? []);
    this.bakeGates = new BakeGates(this, { ...props, appName });
    this.gateFunction = this.bakeGates.gateFunction;
    this.gateStageNames = this.bakeGates.gateStageNames;
    rollBackFailedProductionStages(this, props.pipeline, props.stages);
    const notifications = new PipelineNotifications(this, {
      pipeline: props.pipeline,
      stages: props.stages,
      topic: this.topic,
      gateFunction: this.gateFunction,
    });
    this.notifierFunction = notifications.notifierFunction;
    this.failedNotifications = notifications.failedNotifications;
  }

  /** An alarm on any error of one of the pipeline's own functions, notified on the topic. */
  alarmOnErrors(fn: lambda.IFunction, description: string): cloudwatch.Alarm {
    return alarmOnErrors(fn, this.topic, description);
  }

  /**
   * What each gate checks, for the release manifest (call after the pipeline is complete): the
   * deploy actions of the guarded stage's stacks are read from the built pipeline.
   */
  gates(): Record<string, GateSettings> {
    return this.bakeGates.gates();
  }
}
