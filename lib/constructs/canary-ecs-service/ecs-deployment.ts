import { CfnElement, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeRule } from '../../policy/acknowledgements';
import { HandlerFunction, handlerLogGroup } from '../handler-function';
import { acknowledgeFindings } from '../shared/acknowledge';
import { logWriterRole } from '../shared/log-writer-role';

/** Properties of an EcsCodeDeployDeployment. */
export interface EcsCodeDeployDeploymentProps {
  /** The deployment group of the ECS service (CODE_DEPLOY controller). */
  readonly deploymentGroup: codedeploy.IEcsDeploymentGroup;
  /** The task definition to roll out; each new revision of it becomes one CodeDeploy deployment. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** The service: a revision its primary task set already runs is not deployed again. */
  readonly service: ecs.BaseService;
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
  /** Lambda run at AfterAllowTraffic, after the shift to 100%. @default - no hook */
  readonly afterAllowTrafficHook?: lambda.IFunction;
  /**
   * How long to wait for the traffic to be fully shifted before failing the stack update: at most
   * 55 minutes, since CloudFormation fails a custom resource after 60 (its ServiceTimeout maximum;
   * the Provider framework cannot extend it, aws-cdk issue 24974). The blue termination wait is
   * not part of it: the resource completes once every user is on the new task set.
   * @default Duration.minutes(55)
   */
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
    const timeout = props.timeout ?? Duration.minutes(MAX_DEPLOYMENT_WAIT_MINUTES);
    if (timeout.toMinutes() < 15 || timeout.toMinutes() > MAX_DEPLOYMENT_WAIT_MINUTES) {
      throw new Error(
        `timeout: ${timeout.toHumanString()} is out of range: use 15 to ${MAX_DEPLOYMENT_WAIT_MINUTES} minutes (CloudFormation fails a custom resource after ${CUSTOM_RESOURCE_MAX_MINUTES} minutes, whatever the Provider framework's totalTimeout says)`,
      );
    }
    const stack = Stack.of(this);
    const group = props.deploymentGroup;
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      entry: 'ecs-deployment/index.ts',
      handlerName: 'onEvent',
      description: 'Starts the CodeDeploy deployment of a new ECS task definition revision',
      timeout: Duration.minutes(2),
    });
    const isComplete = new HandlerFunction(this, 'IsComplete', {
      entry: 'ecs-deployment/index.ts',
      handlerName: 'isComplete',
      description: 'Waits for the CodeDeploy deployment of an ECS task definition and reports its outcome',
      timeout: Duration.minutes(1),
    });

    // Least privilege, as the IAM service authorization reference allows: CodeDeploy actions on this
    // group / its application / its config; StopDeployment, ContinueDeployment, ListDeploymentTargets
    // and BatchGetDeploymentTargets take no resource (they must be on "*"). Both functions may start
    // the deployment: isComplete does when the update waited for the previous release's termination wait.
    const groupArn = group.deploymentGroupArn;
    // CreateDeployment hands the task definition's roles to ECS.
    const passRoles = [props.taskDefinition.taskRole.roleArn, props.taskDefinition.obtainExecutionRole().roleArn];
    for (const fn of [onEvent, isComplete]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [
            'codedeploy:GetDeploymentGroup',
            'codedeploy:ListDeployments',
            'codedeploy:GetDeployment',
            'codedeploy:CreateDeployment',
          ],
          resources: [groupArn],
        }),
      );
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [props.service.serviceArn] }));
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [group.deploymentConfig.deploymentConfigArn] }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
          resources: [group.application.applicationArn],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: passRoles,
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
    }
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:StopDeployment', 'codedeploy:ContinueDeployment'], resources: ['*'] }),
    );
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets'], resources: ['*'] }),
    );
    for (const fn of [onEvent, isComplete]) {
      acknowledgeFindings(fn.executionRole, {
        'AwsSolutions-IAM5[Resource::*]':
          'codedeploy:StopDeployment, ContinueDeployment, ListDeploymentTargets and BatchGetDeploymentTargets support no resource-level permissions (IAM service authorization reference for AWS CodeDeploy); the function acts only on the deployments of the group it is given.',
      });
    }

    // The framework's functions get log-writer roles too (two: the framework wants onEvent's apart).
    const providerLogs = handlerLogGroup(this, 'ProviderLogs');
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: props.queryInterval ?? Duration.seconds(30),
      totalTimeout: timeout,
      logGroup: providerLogs,
      frameworkOnEventRole: logWriterRole(this, 'FrameworkOnEventRole', {
        logGroup: providerLogs,
        description: `Provider framework onEvent of ${this.node.path}`,
      }),
      frameworkCompleteAndTimeoutRole: logWriterRole(this, 'FrameworkCompleteAndTimeoutRole', {
        logGroup: providerLogs,
        description: `Provider framework isComplete/onTimeout of ${this.node.path}`,
      }),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: handlerLogGroup(this, 'WaiterLogs'),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });

    const hooks: Record<string, string> = {};
    if (props.afterAllowTestTrafficHook) hooks.AfterAllowTestTraffic = props.afterAllowTestTrafficHook.functionArn;
    if (props.afterAllowTrafficHook) hooks.AfterAllowTraffic = props.afterAllowTrafficHook.functionArn;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      // CloudFormation's maximum; the Provider's waiter gives up five minutes earlier with the reason.
      serviceTimeout: Duration.minutes(CUSTOM_RESOURCE_MAX_MINUTES),
      resourceType: 'Custom::EcsCodeDeployDeployment',
      properties: {
        ApplicationName: group.application.applicationName,
        DeploymentGroupName: group.deploymentGroupName,
        ClusterName: props.service.cluster.clusterName,
        ServiceName: props.service.serviceName,
        TaskDefinitionArn: props.taskDefinition.taskDefinitionArn,
        ContainerName: props.containerName,
        ContainerPort: String(props.containerPort),
        Revision: props.revision,
        ...(Object.keys(hooks).length > 0 ? { Hooks: hooks } : {}),
      },
    });
    this.deploymentId = this.resource.getAttString('DeploymentId');
    // The Provider framework's own functions and state machine (aws-cdk-lib code, not ours).
    const arnOf = (fn: lambda.IFunction) => `<${stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement))}.Arn>:*`;
    const invoked = [
      onEvent,
      isComplete,
      ...['framework-isComplete', 'framework-onTimeout'].map((c) => provider.node.findChild(c) as lambda.IFunction),
    ];
    // On this construct: the invoking policies belong to the framework roles above and the waiter's role.
    acknowledgeFindings(
      this,
      Object.fromEntries(
        invoked.map((fn) => [
          `AwsSolutions-IAM5[Resource::${arnOf(fn)}]`,
          'The Provider framework invokes this one function; the :* suffix only covers its versions and aliases.',
        ]),
      ),
    );
    acknowledgeFindings(provider, {
      'AwsSolutions-IAM5[Resource::*]':
        'The waiter state machine logs to CloudWatch Logs; the log-delivery actions (logs:CreateLogDelivery, PutResourcePolicy, ...) have no resource-level permissions.',
    });
    acknowledgeRule(provider, 'lambdaRuntime', "The Provider framework's functions use the runtime aws-cdk-lib ships and tests them with.");
    acknowledgeRule(
      provider,
      'stateMachineTracing',
      'The waiter state machine only loops over isComplete; its executions are logged (ALL) and the handlers log every decision, so X-Ray adds nothing to diagnose.',
      ['AwsSolutions-SF2'],
    );
    acknowledgeRule(
      provider,
      'lambdaMemory',
      "The Provider framework's functions (aws-cdk-lib's) only relay CloudFormation events and poll; 128 MB is what aws-cdk-lib sizes and tests them with.",
    );
    for (const rule of ['lambdaDlq', 'lambdaConcurrency', 'lambdaInVpc'] as const) {
      acknowledgeRule(
        provider,
        rule,
        "The Provider framework's functions (aws-cdk-lib's) serve one stack event at a time, report failures to CloudFormation themselves, and call only AWS APIs.",
      );
    }
  }
}

/** CloudFormation fails a custom resource after at most 60 minutes (its ServiceTimeout maximum). */
export const CUSTOM_RESOURCE_MAX_MINUTES = 60;

/** Minutes the deployment resource waits for traffic to shift: five less than CloudFormation allows, so the waiter says why. */
export const MAX_DEPLOYMENT_WAIT_MINUTES = CUSTOM_RESOURCE_MAX_MINUTES - 5;
