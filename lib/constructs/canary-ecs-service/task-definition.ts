import { CfnDeletionPolicy, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CanaryEcsServiceProps } from './canary-ecs-service';

/** The container's name in the task definition (CodeDeploy's AppSpec names it). */
export const CONTAINER_NAME = 'app';
/** The container's user when none is given: an unprivileged uid. */
export const DEFAULT_CONTAINER_USER = '1000';
/** Path of the task execution roles when none is given (the image repositories' pull condition matches it). */
export const DEFAULT_EXECUTION_ROLE_PATH = '/safe-deploy/';

/**
 * The service's task definition: one non-root, read-only, memory-capped container logging to its
 * own group, an execution role under the path the image repositories trust, and replaced revisions
 * kept for rollbacks. Built into `scope` (the CanaryEcsService) under its ids.
 */
export function serviceTaskDefinition(
  scope: Construct,
  props: CanaryEcsServiceProps,
  containerPort: number,
): { taskDefinition: ecs.FargateTaskDefinition; container: ecs.ContainerDefinition } {
  const memoryLimitMiB = props.memoryLimitMiB ?? 512;
  const executionRole = new iam.Role(scope, 'ExecutionRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    path: props.executionRolePath ?? DEFAULT_EXECUTION_ROLE_PATH,
    description: `Pulls the image and writes the logs of ${scope.node.path}`,
  });
  Validations.of(executionRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken, needed to pull the image, has no resource-level permissions; the pull actions themselves are scoped to the repository.',
  });
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
    cpu: props.cpu ?? 256,
    memoryLimitMiB,
    executionRole,
    runtimePlatform: {
      cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  // Keep replaced revisions ACTIVE: CodeDeploy rolls back to the previous one, and operators may redeploy it.
  (taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
  const container = taskDefinition.addContainer('App', {
    containerName: CONTAINER_NAME,
    image: props.image,
    portMappings: [{ containerPort, protocol: ecs.Protocol.TCP }],
    readonlyRootFilesystem: true,
    user: props.user ?? DEFAULT_CONTAINER_USER,
    // The task's memory is the container's hard limit: the one container may use all of it, no more.
    memoryLimitMiB,
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: 'app',
      logGroup: new logs.LogGroup(scope, 'AppLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
    }),
    environment: {
      ...props.environment,
      PORT: String(containerPort),
      APP_VERSION: props.version ?? 'dev',
      SERVICE_NAME: Stack.of(scope).stackName,
    },
    stopTimeout: Duration.seconds(30),
  });
  Validations.of(taskDefinition).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, needed to pull the image, has no resource-level permissions; the pull actions themselves are scoped to the repository.',
    },
    {
      id: 'CloudFormation-Validate::W3011',
      reason:
        'UpdateReplacePolicy Retain keeps replaced revisions registered for CodeDeploy and operator rollbacks; on stack delete the current revision is deregistered with the service, which is intended.',
    },
    {
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds the listen port, the release version, the service name and the configured variables, which the config schema refuses when they look like secrets.',
    },
  );
  return { taskDefinition, container };
}
