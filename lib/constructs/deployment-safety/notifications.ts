import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { actionsByScope, ResourceScope } from '../../runtime/diagnosis/permissions';
import { HandlerFunction } from '../handler-function';
import { FailedEventsQueue } from '../shared/failed-events-queue';
import { ROLLBACK_STATES } from './gate-reader-role';
import { ArnParts, nagResource } from './names';
import type { SafetyStage, SafetyTarget } from './stages';

/** The notification topic: KMS-encrypted, TLS-only, with the given e-mail subscriptions. */
export function notificationTopic(scope: Construct, appName: string, given: sns.Topic | undefined, emails: readonly string[]): sns.Topic {
  const topic =
    given ??
    new sns.Topic(scope, 'Topic', {
      masterKey: new kms.Key(scope, 'TopicKey', { enableKeyRotation: true, description: `${appName} pipeline notifications` }),
      enforceSSL: true,
      displayName: `${appName} deployments`,
    });
  for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

/** An alarm on any error of one of the pipeline's own functions, notified on `topic`. */
export function alarmOnErrors(fn: lambda.IFunction, topic: sns.ITopic, description: string): cloudwatch.Alarm {
  const alarm = fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }).createAlarm(fn, 'ErrorsAlarm', {
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
  alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
  return alarm;
}

/** What the notifications need; DeploymentSafety passes these through. */
export interface PipelineNotificationsProps {
  readonly pipeline: codepipeline.Pipeline;
  readonly stages: SafetyStage[];
  readonly topic: sns.Topic;
  /** The bake gate function: its errors are notified too. */
  readonly gateFunction: lambda.IFunction;
}

/**
 * The notifications of DeploymentSafety: a notifier that explains failed executions and CodeDeploy
 * rollbacks (with deployctl's diagnosis) on the topic, alarms on the pipeline's own functions, and a
 * queue for what could not be notified. Not a construct of its own: its resources keep
 * DeploymentSafety's construct ids.
 */
export class PipelineNotifications {
  /** Explains failures and publishes them. */
  readonly notifierFunction: HandlerFunction;
  /** Notification events that could not be delivered or handled (EventBridge DLQ, the notifier's on-failure destination). */
  readonly failedNotifications: FailedEventsQueue;

  constructor(
    private readonly scope: Construct,
    props: PipelineNotificationsProps,
  ) {
    const stack = Stack.of(scope);
    const { pipeline, topic } = props;
    const accounts = [...new Set(props.stages.flatMap((s) => s.targets.map((t) => t.account)))].sort();
    const parts = { partition: stack.partition, region: stack.region, account: stack.account };
    this.notifierFunction = new HandlerFunction(scope, 'Notifier', {
      entry: 'pipeline-notifier/index.ts',
      description: 'Explains failed executions and CodeDeploy rollbacks, and publishes them to the notification topic',
      timeout: Duration.minutes(1),
      environment: { TOPIC_ARN: topic.topicArn },
    });
    const notifierRole = this.notifierFunction.executionRole;
    topic.grantPublish(this.notifierFunction);
    this.grantDiagnosis(notifierRole, pipeline, props.stages, parts);
    Validations.of(notifierRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Added by topic.grantPublish for the topic's own KMS key (resource-scoped to that key): SNS needs a data key to encrypt each message.",
    });

    // The gate and the notifier fail their invocation only when they cannot report (a malformed
    // event, CodePipeline unreachable): say so on the topic directly, not through the notifier.
    topic.masterKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsEncryptToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // In a key policy, "*" means this key only.
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    alarmOnErrors(
      props.gateFunction,
      topic,
      'The bake gate could not evaluate or report a job: the gate action will time out (CodePipeline waits up to its 20-minute reply window). See its log group.',
    );
    alarmOnErrors(
      this.notifierFunction,
      topic,
      'The notifier failed to explain or publish a failure: a failed execution or rollback may have gone unnoticed. See its log group and run deployctl diagnose.',
    );

    // Failures are not lost: EventBridge sends what it cannot deliver to the notifier, and the
    // notifier what it fails to handle after Lambda's retries, to one encrypted queue that alarms.
    this.failedNotifications = new FailedEventsQueue(scope, 'FailedNotifications', {
      purpose: 'A failed execution or rollback notification',
    });
    this.failedNotifications.alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    this.notifierFunction.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.failedNotifications.queue),
      retryAttempts: 2,
    });
    const target = new targets.LambdaFunction(this.notifierFunction, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: this.failedNotifications.queue,
    });
    new events.Rule(scope, 'PipelineFailed', {
      description: `Notifies ${topic.node.path}: failed executions of the pipeline (includes blocked gates)`,
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change'],
        resources: [pipeline.pipelineArn],
        detail: { state: ['FAILED'] },
      },
      targets: [target],
    });
    new events.Rule(scope, 'CodeDeployRollback', {
      description:
        'Notifies failed or stopped (rolled back) CodeDeploy deployments: its own, and those RollbackEventForwarder forwards from other accounts and regions',
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
        new events.CfnEventBusPolicy(scope, `AllowEventsFrom${a}`, {
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

  /**
   * Every read deployctl's diagnosis makes (lib/runtime/diagnosis/permissions.ts), scoped as far as IAM allows:
   * this pipeline; the CodeBuild projects, CloudFormation stacks and CodeDeploy deployment groups of
   * this account in the regions its stages deploy to (stacks by name; project and group names are
   * generated, so by account and region). Targets in other accounts are not readable from here:
   * the notification says so, as deployctl does.
   */
  private grantDiagnosis(role: iam.IRole, pipeline: codepipeline.Pipeline, stages: SafetyStage[], own: ArnParts): void {
    const stack = Stack.of(this.scope);
    const resolve = (x: unknown) => stack.resolve(x);
    const local = stages.flatMap((s) => s.targets).filter((t) => t.account === stack.account || Token.isUnresolved(stack.account));
    const regions = [...new Set([own.region, ...local.map((t) => t.region)])];
    const arn = (service: string, region: string, resource: string) =>
      `arn:${own.partition}:${service}:${region}:${own.account}:${resource}`;
    const byScope = actionsByScope();
    const resources: Record<ResourceScope, string[]> = {
      pipeline: [pipeline.pipelineArn],
      'codebuild-project': [arn('codebuild', own.region, 'project/*')],
      stack: [stack.stackName, ...local.flatMap((t) => [t.platformStackName, ...t.serviceStackNames])].map((name) =>
        arn('cloudformation', regionOf(name, local, own.region), `stack/${name}/*`),
      ),
      'deployment-group': regions.map((r) => arn('codedeploy', r, 'deploymentgroup:*')),
      none: ['*'],
    };
    for (const scope of Object.keys(byScope) as ResourceScope[]) {
      if (byScope[scope].length > 0)
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: byScope[scope], resources: [...new Set(resources[scope])] }));
    }
    const reasons: Record<string, string> = {
      [`AwsSolutions-IAM5[Resource::${nagResource(resolve, own, (p) => `arn:${p.partition}:codebuild:${p.region}:${p.account}:project/*`)}]`]:
        'Diagnosis reads the build of whichever CDK Pipelines project failed; those project names are generated. Read-only (BatchGetBuilds), this account and region.',
      'AwsSolutions-IAM5[Resource::*]':
        'codedeploy:ListDeploymentTargets and BatchGetDeploymentTargets support no resource-level permissions (IAM service authorization reference); read-only.',
    };
    for (const r of regions) {
      reasons[
        `AwsSolutions-IAM5[Resource::${nagResource(resolve, { ...own, region: r }, (p) => `arn:${p.partition}:codedeploy:${p.region}:${p.account}:deploymentgroup:*`)}]`
      ] =
        'Diagnosis reads the CodeDeploy deployment of whichever service failed; deployment group names are generated by CloudFormation in the stage stacks. Read-only (GetDeployment, ListDeployments), this account and the region.';
    }
    for (const name of [stack.stackName, ...local.flatMap((t) => [t.platformStackName, ...t.serviceStackNames])]) {
      const region = regionOf(name, local, own.region);
      reasons[
        `AwsSolutions-IAM5[Resource::${nagResource(resolve, { ...own, region }, (p) => `arn:${p.partition}:cloudformation:${p.region}:${p.account}:stack/${name}/*`)}]`
      ] =
        'The stack is named; the wildcard is its id suffix, which CloudFormation generates. Read-only (DescribeStackEvents, ListStackResources).';
    }
    Validations.of(role).acknowledge(...Object.entries(reasons).map(([id, reason]) => ({ id, reason })));
  }
}

/** The region a stack of `targets` is in (the pipeline's own for the pipeline stack). */
function regionOf(stackName: string, among: SafetyTarget[], fallback: string): string {
  return among.find((t) => t.platformStackName === stackName || t.serviceStackNames.includes(stackName))?.region ?? fallback;
}
