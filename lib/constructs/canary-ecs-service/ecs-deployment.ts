import { CfnElement, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { bundledHandler, HANDLER_RUNTIME } from '../lambda-code';
import * as path from 'node:path';
import { acknowledgeFindings } from '../shared/acknowledge';
import { logWriterRole } from '../shared/log-writer-role';

/** Properties of an EcsCodeDeployDeployment. */
export interface EcsCodeDeployDeploymentProps {
  /** The deployment group of the ECS service (CODE_DEPLOY controller). */
  readonly deploymentGroup: codedeploy.IEcsDeploymentGroup;
  /** The task definition to roll out; each new revision of it becomes one CodeDeploy deployment. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** The container the load balancer sends traffic to. */
  readonly containerName: string;
  /** Its port. */
  readonly containerPort: number;
  /**
   * A value that changes whenever the task definition does (e.g. the image URI), so that the
   * template diff shows this resource updating along with the task definition.
   */
  readonly revision: string;
  /** Lambda run at AfterAllowTestTraffic. @default - no hook */
  readonly afterAllowTestTrafficHook?: lambda.IFunction;
  /** How long to wait for the deployment before failing the stack update. @default Duration.hours(2) */
  readonly timeout?: Duration;
  /** How often to poll CodeDeploy. @default Duration.seconds(30) */
  readonly queryInterval?: Duration;
}

/**
 * A custom resource that rolls its task definition out through CodeDeploy and waits for the
 * outcome: CloudFormation cannot change the task definition of a CODE_DEPLOY-controlled service.
 * The stack update fails, with CodeDeploy's reason (alarm or hook), when the deployment rolls back.
 */
export class EcsCodeDeployDeployment extends Construct {
  /** The custom resource. */
  readonly resource: CustomResource;
  /** The deployment this update created ('' when the task definition was unchanged). */
  readonly deploymentId: string;

  constructor(scope: Construct, id: string, props: EcsCodeDeployDeploymentProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.hours(2);
    if (timeout.toMinutes() < 15 || timeout.toHours({ integral: false }) > 2) {
      throw new Error(`timeout: ${timeout.toHumanString()} is out of range: use 15 minutes to 2 hours (the Provider framework's limit), e.g. Duration.hours(2)`);
    }
    const stack = Stack.of(this);
    const group = props.deploymentGroup;
    const entry = path.join(__dirname, '..', '..', '..', 'lambda', 'ecs-deployment', 'index.ts');
    const fnProps = {
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      loggingFormat: lambda.LoggingFormat.JSON,
    };
    const onEventLogs = new logs.LogGroup(this, 'OnEventLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    const onEvent = new NodejsFunction(this, 'OnEvent', {
      ...fnProps,
      code: bundledHandler(entry),
      handler: 'index.onEvent',
      description: 'Starts the CodeDeploy deployment of a new ECS task definition revision',
      timeout: Duration.minutes(2),
      logGroup: onEventLogs,
      role: logWriterRole(this, 'OnEventRole', { logGroup: onEventLogs, description: `Execution role of ${this.node.path}/OnEvent` }),
    });
    const isCompleteLogs = new logs.LogGroup(this, 'IsCompleteLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    const isComplete = new NodejsFunction(this, 'IsComplete', {
      ...fnProps,
      code: bundledHandler(entry),
      handler: 'index.isComplete',
      description: 'Waits for the CodeDeploy deployment of an ECS task definition and reports its outcome',
      timeout: Duration.minutes(1),
      logGroup: isCompleteLogs,
      role: logWriterRole(this, 'IsCompleteRole', { logGroup: isCompleteLogs, description: `Execution role of ${this.node.path}/IsComplete` }),
    });

    // Least privilege: CodeDeploy actions on this group / its application / its config only.
    const groupArn = group.deploymentGroupArn;
    const readActions = ['codedeploy:GetDeployment', 'codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets'];
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:GetDeploymentGroup', 'codedeploy:ListDeployments', 'codedeploy:GetDeployment', 'codedeploy:CreateDeployment', 'codedeploy:StopDeployment'],
        resources: [groupArn],
      }),
    );
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [group.deploymentConfig.deploymentConfigArn] }));
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: [group.application.applicationArn],
      }),
    );
    // CreateDeployment hands the task definition's roles to ECS.
    const passRoles = [props.taskDefinition.taskRole.roleArn, props.taskDefinition.obtainExecutionRole().roleArn];
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: passRoles,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    isComplete.addToRolePolicy(new iam.PolicyStatement({ actions: readActions, resources: [groupArn] }));

    // The framework's functions get log-writer roles too (two: the framework wants onEvent's apart).
    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: props.queryInterval ?? Duration.seconds(30),
      totalTimeout: timeout,
      logGroup: providerLogs,
      frameworkOnEventRole: logWriterRole(this, 'FrameworkOnEventRole', { logGroup: providerLogs, description: `Provider framework onEvent of ${this.node.path}` }),
      frameworkCompleteAndTimeoutRole: logWriterRole(this, 'FrameworkCompleteAndTimeoutRole', {
        logGroup: providerLogs,
        description: `Provider framework isComplete/onTimeout of ${this.node.path}`,
      }),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: logs.RetentionDays.THREE_MONTHS }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });

    const hooks: Record<string, string> = {};
    if (props.afterAllowTestTrafficHook) hooks.AfterAllowTestTraffic = props.afterAllowTestTrafficHook.functionArn;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::EcsCodeDeployDeployment',
      properties: {
        ApplicationName: group.application.applicationName,
        DeploymentGroupName: group.deploymentGroupName,
        TaskDefinitionArn: props.taskDefinition.taskDefinitionArn,
        ContainerName: props.containerName,
        ContainerPort: String(props.containerPort),
        Revision: props.revision,
        ...(Object.keys(hooks).length > 0 ? { Hooks: hooks } : {}),
      },
    });
    this.deploymentId = this.resource.getAttString('DeploymentId');
    acknowledgeNodeRuntime(onEvent);
    acknowledgeNodeRuntime(isComplete);
    // The Provider framework's own functions and state machine (aws-cdk-lib code, not ours).
    const arnOf = (fn: lambda.IFunction) => `<${stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement))}.Arn>:*`;
    const invoked = [onEvent, isComplete, ...['framework-isComplete', 'framework-onTimeout'].map((c) => provider.node.findChild(c) as lambda.IFunction)];
    // On this construct: the invoking policies belong to the framework roles above and the waiter's role.
    acknowledgeFindings(
      this,
      Object.fromEntries(
        invoked.map((fn) => [`AwsSolutions-IAM5[Resource::${arnOf(fn)}]`, 'The Provider framework invokes this one function; the :* suffix only covers its versions and aliases.']),
      ),
    );
    acknowledgeFindings(provider, {
      'AwsSolutions-L1': "The Provider framework's functions use the runtime aws-cdk-lib ships and tests them with.",
      'AwsSolutions-IAM5[Resource::*]':
        'The waiter state machine logs to CloudWatch Logs; the log-delivery actions (logs:CreateLogDelivery, PutResourcePolicy, ...) have no resource-level permissions.',
      'AwsSolutions-SF2':
        'The waiter state machine only loops over isComplete; its executions are logged (ALL) and the handlers log every decision, so X-Ray adds nothing to diagnose.',
    });
  }
}

/** The runtime finding every NodejsFunction of this project has, with the reason it is accepted. */
export function acknowledgeNodeRuntime(fn: lambda.Function): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'The project pins Node.js 22 (nodejs22.x), the runtime its toolchain and AWS SDK pins are tested on; moving to 24 is a deliberate upgrade.',
  });
}
