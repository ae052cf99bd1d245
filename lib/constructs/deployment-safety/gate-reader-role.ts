import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FailedEventsQueue } from '../shared/failed-events-queue';
import { ArnParts, gateFunctionRoleName, gateReaderRoleName, nagResource } from './names';

/** Properties of GateReaderRole. */
export interface GateReaderRoleProps {
  /** Account of the pipeline, where the bake gate function runs. */
  readonly pipelineAccount: string;
  /** Same prefix as DeploymentSafety's `appName`. @default 'safe-deploy' */
  readonly appName?: string;
  /**
   * Role name, when two stages share an account and region (IAM names are per account); pass
   * the same name as the target's `readerRoleName` in DeploymentSafety.
   * @default - `<appName>-gate-reader-<region>`
   */
  readonly roleName?: string;
  /**
   * Whether the gate also reads the state of feature-flag deployments (AppConfig) here: the target's
   * services declare flags, and a gate must not pass while a flag change is still rolling out.
   * @default false
   */
  readonly readFeatureFlags?: boolean;
}

/**
 * The role the bake gate assumes in a service account to read alarm states, alarm history and
 * request metrics: read-only CloudWatch, trusted only by the gate function's role. Create one per
 * service account and region (e.g. in the stage's LambdaService stack); the stack needs a
 * concrete region, which is part of the role name.
 */
export class GateReaderRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GateReaderRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error(
        `GateReaderRole ${this.node.path}: the stack has no concrete region; give it env: { account, region } (the role name contains the region)`,
      );
    }
    const appName = props.appName ?? 'safe-deploy';
    const parts = { partition: stack.partition, region: stack.region, account: stack.account };
    const alarms = (p: ArnParts) => `arn:${p.partition}:cloudwatch:${p.region}:${p.account}:alarm:*`;
    const gateRoleArn = `arn:${stack.partition}:iam::${props.pipelineAccount}:role/${gateFunctionRoleName(appName)}`;
    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName ?? gateReaderRoleName(appName, stack.region),
      // Trust the account with a condition on the caller, so the role deploys even before the gate role exists.
      assumedBy: new iam.AccountPrincipal(props.pipelineAccount).withConditions({ ArnEquals: { 'aws:PrincipalArn': gateRoleArn } }),
      description: 'Lets the pipeline bake gate read alarm states, alarm history and request metrics (read-only)',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: [alarms(parts)],
      }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    if (props.readFeatureFlags) {
      // IAM service authorization reference (AppConfig): ListApplications has no resource type; the
      // others take the application (and environment, deployment) ARN, whose IDs AppConfig generates.
      const applications = (p: ArnParts) => `arn:${p.partition}:appconfig:${p.region}:${p.account}:application/*`;
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['appconfig:ListApplications'], resources: ['*'] }));
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['appconfig:ListEnvironments', 'appconfig:ListDeployments', 'appconfig:GetDeployment'],
          resources: [applications(parts)],
        }),
      );
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource((x) => stack.resolve(x), parts, applications)}]`,
        reason:
          'Read-only AppConfig deployment state (ListEnvironments, ListDeployments, GetDeployment) in this account and region: application and environment IDs are generated, the gate finds them by name.',
      });
    }
    Validations.of(this.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${nagResource((x) => stack.resolve(x), parts, alarms)}]`,
        reason:
          'Read-only DescribeAlarms/DescribeAlarmHistory over this account and region: child alarm names are generated and discovered from the composite health alarm at run time.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:GetMetricData (and appconfig:ListApplications, when the gate reads flag deployments) supports no resource-level permissions (IAM service authorization reference); read-only.',
      },
    );
  }
}

/** Properties of RollbackEventForwarder. */
export interface RollbackEventForwarderProps {
  /** Account of the pipeline (where the notifier runs). */
  readonly pipelineAccount: string;
  /** Region of the pipeline. */
  readonly pipelineRegion: string;
}

/** The CodeDeploy deployment states that mean a rollback: a failure, or a stop (by an alarm or an operator). */
export const ROLLBACK_STATES = ['FAILURE', 'STOP'];

/**
 * Forwards this account's failed and stopped CodeDeploy deployments (rollbacks) to the pipeline
 * account's default event bus, where DeploymentSafety notifies them. Create one per service
 * account and region other than the pipeline's own (there the events already are on that bus);
 * DeploymentSafety allows those accounts to put `aws.codedeploy` events.
 */
export class RollbackEventForwarder extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RollbackEventForwarderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (stack.account === props.pipelineAccount && stack.region === props.pipelineRegion) {
      throw new Error(
        `RollbackEventForwarder ${this.node.path}: the stack is in the pipeline's own account and region, where CodeDeploy's events already reach the notifier: do not forward them (they would be notified twice)`,
      );
    }
    const bus = events.EventBus.fromEventBusArn(
      this,
      'PipelineBus',
      `arn:${stack.partition}:events:${props.pipelineRegion}:${props.pipelineAccount}:event-bus/default`,
    );
    this.rule = new events.Rule(this, 'Resource', {
      description: 'Forwards failed or stopped CodeDeploy deployments (rollbacks) to the pipeline account for notification',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { state: ROLLBACK_STATES },
      },
      // What cannot be put on the pipeline's bus (its policy missing, the region down) waits here.
      targets: [
        new targets.EventBus(bus, {
          deadLetterQueue: new FailedEventsQueue(this, 'Undelivered', { purpose: 'A rollback event for the pipeline account' }).queue,
        }),
      ],
    });
  }
}
