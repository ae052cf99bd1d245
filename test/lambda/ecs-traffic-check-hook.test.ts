import { CloudFormationClient, DescribeStacksCommand, DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentsCommand,
  BatchGetDeploymentTargetsCommand,
  BatchGetDeploymentTargetsCommandOutput,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentCommand,
  GetDeploymentCommandOutput,
  LifecycleEvent,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  checkEcsCanaryTraffic,
  EcsTrafficCheckConfig,
  MAX_EARLIER_REVISIONS,
  readConfig,
  taskRunsLike,
  trafficCheckHandler,
} from '../../lambda/ecs-traffic-check-hook';
import { createLogger } from '../../lambda/shared/logger';
import { metricDataOutput } from './lambda-traffic-hook-fixtures';

const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const cfn = mockClient(CloudFormationClient);
const ecs = mockClient(ECSClient);
const EVENT = { DeploymentId: 'd-7QJ2M4B5C', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoiZWNzLWFmdGVyLWFsbG93In0=' };
const LB = 'app/Beta-s-Servi-1Q2W3E4R5T6Y/4f3a2b1c0d9e8f7a';
const BLUE = 'targetgroup/Beta-s-Servi-BLUE1234ABCD/0123456789abcdef';
const GREEN = 'targetgroup/Beta-s-Servi-GREEN567EFGH/fedcba9876543210';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/Beta-storefront/6b0ad1a0-cd6e-11f0-9f3c-0e1f2a3b4c5d';
const CLUSTER = 'safe-deploy-Beta-cluster';
const SERVICE = 'Beta-storefront-Service';
const CONFIG: EcsTrafficCheckConfig = {
  check: { minRequests: 100, stepMinutes: 5 },
  loadBalancer: LB,
  targetGroups: [BLUE, GREEN],
  stackId: STACK_ID,
  clusterName: CLUSTER,
  serviceName: SERVICE,
};
const ENV = {
  CANARY_TRAFFIC_CHECK: '{"minRequests":100,"stepMinutes":5}',
  LOAD_BALANCER: LB,
  TARGET_GROUPS: `${BLUE},${GREEN}`,
  STACK_ID,
  CLUSTER_NAME: CLUSTER,
  SERVICE_NAME: SERVICE,
  CHECK_TIMEOUT_MS: '2000',
};
const FAMILY = 'BetastorefrontServiceTaskDefinition5C3B2A1F';
const td = (revision: number) => `arn:aws:ecs:us-east-1:111111111111:task-definition/${FAMILY}:${revision}`;
/** The deployment deploys revision 13; the service's original task set runs revision 12. */
const TARGET = td(13);
const ORIGINAL = td(12);
const IMAGE = (tag: string) => `111111111111.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-111111111111-us-east-1:${tag}`;
/** One registered revision as DescribeTaskDefinition returns it, running `tag`, registered a day per revision. */
function taskDefinition(
  revision: number,
  tag: string,
  env: Array<{ name: string; value: string }> = [
    { name: 'PORT', value: '8080' },
    { name: 'APP_VERSION', value: tag },
  ],
): TaskDefinition {
  return {
    taskDefinitionArn: td(revision),
    family: FAMILY,
    revision,
    status: 'ACTIVE',
    taskRoleArn: 'arn:aws:iam::111111111111:role/Beta-storefront-ServiceTaskDefinitionTaskRole-1A2B',
    executionRoleArn: 'arn:aws:iam::111111111111:role/Beta-storefront-ServiceTaskDefinitionExecutionRole-3C4D',
    networkMode: 'awsvpc',
    containerDefinitions: [
      {
        name: 'app',
        image: IMAGE(tag),
        essential: true,
        readonlyRootFilesystem: true,
        portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
        environment: env,
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': 'Beta-storefront-ServiceAppLogs', 'awslogs-stream-prefix': 'app', 'awslogs-region': 'us-east-1' },
        },
        stopTimeout: 30,
      },
    ],
    requiresCompatibilities: ['FARGATE'],
    compatibilities: ['EC2', 'FARGATE'],
    cpu: '256',
    memory: '512',
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    registeredAt: new Date(`2026-11-${String(revision).padStart(2, '0')}T09:00:00Z`),
    registeredBy: 'arn:aws:sts::111111111111:assumed-role/cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1/AWSCloudFormation',
  };
}
/** The family's revisions, by revision number: what DescribeTaskDefinition and ListTaskDefinitions see. */
function family(revisions: Record<number, string>) {
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const r = Number(input.taskDefinition.split(':').pop());
    return { taskDefinition: taskDefinition(r, revisions[r]) };
  });
  ecs.on(ListTaskDefinitionsCommand).resolves({
    taskDefinitionArns: Object.keys(revisions)
      .map(Number)
      .sort((a, b) => b - a)
      .map(td),
  });
}
/** A past deployment of the group, as BatchGetDeployments returns it. */
function pastDeployment(deploymentId: string, taskDefinitionArn: string, status: 'Succeeded' | 'Failed' | 'Stopped'): DeploymentInfo {
  return { ...deployment().deploymentInfo, deploymentId, status, revision: appSpecRevision(taskDefinitionArn) };
}
function history(infos: DeploymentInfo[]) {
  cd.on(ListDeploymentsCommand).resolves({ deployments: infos.map((i) => i.deploymentId!) });
  cd.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({
    deploymentsInfo: infos.filter((i) => input.deploymentIds.includes(i.deploymentId!)),
  }));
}
/** The AppSpec the deployment resource writes (lambda/ecs-deployment buildAppSpec). */
function appSpecRevision(taskDefinitionArn: string): DeploymentInfo['revision'] {
  const content = JSON.stringify({
    version: '0.0',
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: { TaskDefinition: taskDefinitionArn, LoadBalancerInfo: { ContainerName: 'app', ContainerPort: 8080 } },
        },
      },
    ],
    Hooks: [{ AfterAllowTestTraffic: 'arn:aws:lambda:us-east-1:111111111111:function:Beta-storefront-Service-TestTrafficHook' }],
  });
  return { revisionType: 'AppSpecContent', appSpecContent: { content, sha256: 'c'.repeat(64) } };
}
/** AllowTraffic started at 10:05:12: the 5-minute step's whole minutes are 10:05-10:10. */
const ALLOW_TRAFFIC_START = new Date('2026-11-22T10:05:12.481Z');
const STEP_START = new Date('2026-11-22T10:05:00Z');

const at = (hhmmss: string) => new Date(`2026-11-22T${hhmmss}Z`);
function lifecycle(
  allowTraffic: Partial<LifecycleEvent> | undefined = { startTime: ALLOW_TRAFFIC_START, endTime: at('10:10:20'), status: 'Succeeded' },
): LifecycleEvent[] {
  return [
    { lifecycleEventName: 'BeforeInstall', startTime: at('10:01:02'), endTime: at('10:01:02'), status: 'Succeeded' },
    { lifecycleEventName: 'Install', startTime: at('10:01:03'), endTime: at('10:03:40'), status: 'Succeeded' },
    { lifecycleEventName: 'AfterInstall', startTime: at('10:03:41'), endTime: at('10:03:41'), status: 'Succeeded' },
    { lifecycleEventName: 'AllowTestTraffic', startTime: at('10:03:42'), endTime: at('10:03:44'), status: 'Succeeded' },
    { lifecycleEventName: 'AfterAllowTestTraffic', startTime: at('10:03:45'), endTime: at('10:05:10'), status: 'Succeeded' },
    { lifecycleEventName: 'BeforeAllowTraffic', startTime: at('10:05:11'), endTime: at('10:05:11'), status: 'Succeeded' },
    allowTraffic ? { lifecycleEventName: 'AllowTraffic', ...allowTraffic } : { lifecycleEventName: 'AllowTraffic', status: 'Pending' },
    { lifecycleEventName: 'AfterAllowTraffic', startTime: at('10:10:21'), status: 'InProgress' },
  ];
}
function targets(events: LifecycleEvent[] = lifecycle()): BatchGetDeploymentTargetsCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    deploymentTargets: [
      {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId: EVENT.DeploymentId,
          targetId: 'safe-deploy-Beta-cluster:Beta-storefront-Service',
          targetArn: 'arn:aws:ecs:us-east-1:111111111111:service/safe-deploy-Beta-cluster/Beta-storefront-Service',
          lastUpdatedAt: at('10:10:21'),
          lifecycleEvents: events,
          status: 'InProgress',
          taskSetsInfo: [
            {
              identifer: 'ecs-svc/1111111111111111111',
              desiredCount: 2,
              runningCount: 2,
              status: 'PRIMARY',
              trafficWeight: 100,
              targetGroup: { name: 'Beta-s-Servi-GREEN567EFGH' },
              taskSetLabel: 'Green',
            },
            {
              identifer: 'ecs-svc/2222222222222222222',
              desiredCount: 2,
              runningCount: 2,
              status: 'ACTIVE',
              trafficWeight: 0,
              targetGroup: { name: 'Beta-s-Servi-BLUE1234ABCD' },
              taskSetLabel: 'Blue',
            },
          ],
        },
      },
    ],
  };
}
function deployment(creator: 'user' | 'codeDeployRollback' = 'user'): GetDeploymentCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    deploymentInfo: {
      applicationName: 'Beta-storefront-ServiceDeploymentGroupApplication4A4F1D7B-0QWERTY',
      deploymentGroupName: 'Beta-storefront-ServiceDeploymentGroup6F5C2A1D-ASDFGH',
      deploymentId: EVENT.DeploymentId,
      status: 'InProgress',
      creator,
      computePlatform: 'ECS',
      createTime: at('10:01:00'),
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      revision: appSpecRevision(TARGET),
    },
  };
}
function stack(status = 'UPDATE_IN_PROGRESS'): DescribeStacksCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    Stacks: [
      { StackName: 'Beta-storefront', StackId: STACK_ID, StackStatus: status as never, CreationTime: new Date('2026-11-01T08:00:00Z') },
    ],
  };
}
/** Blue served `blue`, green `green` requests in each minute of the step. */
const perMinute = (blue: number, green: number) => metricDataOutput({ tg0: Array(5).fill(blue), tg1: Array(5).fill(green) }, STEP_START);

const deps = {
  codedeploy: new CodeDeployClient({ region: 'us-east-1' }),
  cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
  cloudformation: new CloudFormationClient({ region: 'us-east-1' }),
  ecs: new ECSClient({ region: 'us-east-1' }),
  retry: { sleep: async () => undefined },
};
const signal = new AbortController().signal;

beforeEach(() => {
  cd.reset();
  cw.reset();
  cfn.reset();
  ecs.reset();
  cd.on(GetDeploymentCommand).resolves(deployment());
  cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['safe-deploy-Beta-cluster:Beta-storefront-Service'] });
  cd.on(BatchGetDeploymentTargetsCommand).resolves(targets());
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId });
  cfn.on(DescribeStacksCommand).resolves(stack());
  // A release: revision 13 runs an image no earlier revision ran; the original task set runs 12.
  ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: SERVICE,
        clusterArn: `arn:aws:ecs:us-east-1:111111111111:cluster/${CLUSTER}`,
        deploymentController: { type: 'CODE_DEPLOY' },
        taskSets: [
          { id: 'ecs-svc/1111111111111111111', taskDefinition: TARGET, status: 'PRIMARY', externalId: EVENT.DeploymentId },
          { id: 'ecs-svc/2222222222222222222', taskDefinition: ORIGINAL, status: 'ACTIVE', externalId: 'd-5PREV1OUS' },
        ],
      },
    ],
    failures: [],
  });
  family({ 10: 'a1', 11: 'b2', 12: 'c3', 13: 'd4' });
});

describe('checkEcsCanaryTraffic', () => {
  test('enough requests on the canary target group: Succeeded; the step starts when AllowTraffic does', async () => {
    // Green took the canary: 10% of about 11 requests a second is 68 a minute.
    cw.on(GetMetricDataCommand).resolves(perMinute(612, 68));
    await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
      status: 'Succeeded',
      reason: `the canary served 340 requests in its 5-minute step (the judge needs 100; target group ${GREEN}, the one with fewer requests; ${BLUE} served 3060, 10:05-10:10 UTC)`,
    });
    expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-11-22T10:05:00Z'),
      EndTime: new Date('2026-11-22T10:10:00Z'),
      MetricDataQueries: [BLUE, GREEN].map((tg, i) => ({
        Id: `tg${i}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCount',
            Dimensions: [
              { Name: 'LoadBalancer', Value: LB },
              { Name: 'TargetGroup', Value: tg },
            ],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      })),
    });
    expect(cd).toHaveReceivedCommandWith(BatchGetDeploymentTargetsCommand, {
      deploymentId: EVENT.DeploymentId,
      targetIds: ['safe-deploy-Beta-cluster:Beta-storefront-Service'],
    });
  });

  test('too few: held, naming the canary target group', async () => {
    cw.on(GetMetricDataCommand).resolves(metricDataOutput({ tg0: [20, 25, 22, 21, 20], tg1: [3, 2, 4, 1, 2] }, STEP_START));
    await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
      status: 'Failed',
      reason:
        'held: the canary served 12 requests in its 5-minute step; the judge needs 100 to tell a regression from noise: lengthen the canary step, raise traffic, or set judge.minRequests lower ' +
        `(target group ${GREEN}, the one with fewer requests; ${BLUE} served 108, 10:05-10:10 UTC)`,
    });
  });

  test('blue and green swap roles: the canary is whichever target group served fewer requests', async () => {
    cw.on(GetMetricDataCommand).resolves(perMinute(4, 60));
    const result = await checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps);
    expect(result).toMatchObject({
      status: 'Failed',
      reason: expect.stringMatching(
        new RegExp(`^held: the canary served 20 requests .*\\(target group ${BLUE}, the one with fewer requests; ${GREEN} served 300,`),
      ),
    });
  });

  test('a canary target group with no datapoint at all served nothing: held', async () => {
    cw.on(GetMetricDataCommand).resolves(metricDataOutput({ tg0: Array(5).fill(30), tg1: [] }, STEP_START));
    expect(await checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).toMatchObject({
      status: 'Failed',
      reason: expect.stringMatching(/^held: the canary served 0 requests/),
    });
  });

  test('metrics that cannot be read fail the check', async () => {
    cw.on(GetMetricDataCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
    );
    await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
      status: 'Failed',
      reason: "could not count the canary's requests, so it cannot pass unjudged: Throttling: Rate exceeded",
    });
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 5);
  });

  test('no AllowTraffic start: Failed, saying what the target reported', async () => {
    cd.on(BatchGetDeploymentTargetsCommand).resolves(targets(lifecycle(null as never)));
    await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
      status: 'Failed',
      reason:
        'cannot tell when the canary step started: the ECS target of deployment d-7QJ2M4B5C has no AllowTraffic start (lifecycle events: BeforeInstall Succeeded, Install Succeeded, ' +
        'AfterInstall Succeeded, AllowTestTraffic Succeeded, AfterAllowTestTraffic Succeeded, BeforeAllowTraffic Succeeded, AllowTraffic Pending, AfterAllowTraffic InProgress)',
    });
    expect(cw).not.toHaveReceivedAnyCommand();
  });

  test('a rollback deployment is never held', async () => {
    cd.on(GetDeploymentCommand).resolves(deployment('codeDeployRollback'));
    await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
      status: 'Succeeded',
      reason: 'canary traffic not counted: the deployment was created by codeDeployRollback, a rollback, which is never held',
    });
    expect(cw).not.toHaveReceivedAnyCommand();
  });

  test('a CloudFormation rollback that deploys the previous task definition again is never held', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_ROLLBACK_IN_PROGRESS'));
    await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
      status: 'Succeeded',
      reason:
        'canary traffic not counted: stack Beta-storefront is in UPDATE_ROLLBACK_IN_PROGRESS: the deployment goes back to what served before, which is never held',
    });
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: STACK_ID });
    expect(cw).not.toHaveReceivedAnyCommand();
  });

  test('a stack status that cannot be read is said, and the canary is counted', async () => {
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('not authorized to perform: cloudformation:DescribeStacks'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    cw.on(GetMetricDataCommand).resolves(perMinute(40, 2));
    const result = await checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps);
    expect(result).toMatchObject({
      status: 'Failed',
      reason: expect.stringContaining(
        'stack status unreadable (AccessDenied: not authorized to perform: cloudformation:DescribeStacks), counted as a release',
      ),
    });
  });

  describe('a return to what served before is never held (a pipeline stage rollback)', () => {
    const HELD =
      'held: the canary served 10 requests in its 5-minute step; the judge needs 100 to tell a regression from noise: lengthen the canary step, raise traffic, or set judge.minRequests lower ' +
      `(target group ${GREEN}, the one with fewer requests; ${BLUE} served 150`;

    test('stage rollback of a quiet service: CloudFormation registered the containers of revision 11 as revision 13; it passes uncounted', async () => {
      family({ 10: 'a1', 11: 'b2', 12: 'c3', 13: 'b2' });
      history([pastDeployment('d-11', td(11), 'Succeeded'), pastDeployment('d-12', td(12), 'Succeeded')]);
      await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
        status: 'Succeeded',
        reason:
          `canary traffic not counted: task definition ${FAMILY}:13 runs the same containers as task definition ${FAMILY}:11, which served before ${FAMILY}:12, the one it replaces: ` +
          'a return to what served (a pipeline stage rollback), which is never held',
      });
      expect(cw).not.toHaveReceivedAnyCommand();
      expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: CLUSTER, services: [SERVICE] });
      expect(ecs).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, { familyPrefix: FAMILY, status: 'ACTIVE', sort: 'DESC' });
      expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition)).toEqual([TARGET, td(11), td(10)]);
      expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, {
        applicationName: deployment().deploymentInfo!.applicationName,
        deploymentGroupName: deployment().deploymentInfo!.deploymentGroupName,
        createTimeRange: { start: new Date('2026-11-11T08:00:00Z') },
      });
    });

    test('the revision the service was created with (never a deployment target) served', async () => {
      family({ 1: 'a1', 12: 'c3', 13: 'a1' });
      history([pastDeployment('d-12', td(12), 'Succeeded')]);
      await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toMatchObject({
        status: 'Succeeded',
        reason: expect.stringContaining(`as task definition ${FAMILY}:1, which served before`),
      });
    });

    test('re-push of a release that was rolled back (ECS registers every push as a new revision): held', async () => {
      // Revision 14's containers ran only as the rolled-back 13, above the original 12.
      cd.on(GetDeploymentCommand).resolves({
        ...deployment(),
        deploymentInfo: { ...deployment().deploymentInfo, revision: appSpecRevision(td(14)) },
      });
      ecs.on(DescribeServicesCommand).resolves({
        services: [
          {
            serviceName: SERVICE,
            taskSets: [
              { taskDefinition: td(14), status: 'PRIMARY' },
              { taskDefinition: ORIGINAL, status: 'ACTIVE' },
            ],
          },
        ],
      });
      family({ 11: 'b2', 12: 'c3', 13: 'd4', 14: 'd4' });
      history([pastDeployment('d-13', td(13), 'Failed')]);
      cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
      await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
        status: 'Failed',
        reason: `${HELD}, 10:05-10:10 UTC)`,
      });
      expect(cd).not.toHaveReceivedCommand(ListDeploymentsCommand);
    });

    test('re-push, after another release, of a revision that was rolled back: held, and the reason says which', async () => {
      family({ 10: 'a1', 11: 'd4', 12: 'c3', 13: 'd4' });
      history([pastDeployment('d-11', td(11), 'Failed'), pastDeployment('d-12', td(12), 'Succeeded')]);
      cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
      await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
        status: 'Failed',
        reason: `${HELD}; it runs the same as task definition ${FAMILY}:11 (deployment d-11 Failed), rolled back, so it is counted as a release, 10:05-10:10 UTC)`,
      });
    });

    test('the same image with another environment is a release: held', async () => {
      family({ 11: 'b2', 12: 'c3' });
      ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
        const r = Number(input.taskDefinition.split(':').pop());
        return {
          taskDefinition:
            r === 13
              ? taskDefinition(13, 'b2', [
                  { name: 'PORT', value: '8081' },
                  { name: 'APP_VERSION', value: 'b2' },
                ])
              : taskDefinition(r, r === 11 ? 'b2' : 'c3'),
        };
      });
      cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
      await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
        status: 'Failed',
        reason: `${HELD}, 10:05-10:10 UTC)`,
      });
    });

    test(`compares only the ${MAX_EARLIER_REVISIONS} nearest revisions below the original, of this family only`, async () => {
      const revisions = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [i + 1, `t${i + 1}`]));
      family(revisions);
      ecs.on(ListTaskDefinitionsCommand).resolves({
        taskDefinitionArns: [
          `arn:aws:ecs:us-east-1:111111111111:task-definition/${FAMILY}-canary:40`,
          ...Array.from({ length: 13 }, (_, i) => td(13 - i)),
        ],
      });
      cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
      await checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps);
      expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition)).toEqual([
        TARGET,
        ...Array.from({ length: 10 }, (_, i) => td(11 - i)),
      ]);
    });

    test('taskRunsLike: containers, size and platform, whatever order the environment is listed in; not the roles or registration', () => {
      const base = taskDefinition(11, 'b2');
      const reordered = taskDefinition(13, 'b2', [
        { name: 'APP_VERSION', value: 'b2' },
        { name: 'PORT', value: '8080' },
      ]);
      expect(taskRunsLike({ ...reordered, taskRoleArn: 'arn:aws:iam::111111111111:role/other' })).toBe(taskRunsLike(base));
      expect(taskRunsLike({ ...base, cpu: '512' })).not.toBe(taskRunsLike(base));
      expect(taskRunsLike({ ...base, containerDefinitions: [{ ...base.containerDefinitions![0], image: IMAGE('c3') }] })).not.toBe(
        taskRunsLike(base),
      );
    });

    describe('a lookup that fails neither passes the canary nor blocks it: it is counted, and the reason says it could not tell', () => {
      test('the service cannot be described (access denied): held, saying it could not tell', async () => {
        ecs.on(DescribeServicesCommand).rejects(
          Object.assign(new Error('not authorized to perform: ecs:DescribeServices'), {
            name: 'AccessDeniedException',
            $metadata: { httpStatusCode: 400 },
          }),
        );
        cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
        await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toEqual({
          status: 'Failed',
          reason: `${HELD}; could not tell whether it returns to code that served before (AccessDeniedException: not authorized to perform: ecs:DescribeServices), so it is counted as a release, 10:05-10:10 UTC)`,
        });
      });

      test('task definitions throttled beyond the retries: counted, and a busy canary passes', async () => {
        ecs
          .on(DescribeTaskDefinitionCommand)
          .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
        cw.on(GetMetricDataCommand).resolves(perMinute(612, 68));
        await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toMatchObject({
          status: 'Succeeded',
          reason: expect.stringContaining(
            'could not tell whether it returns to code that served before (ThrottlingException: Rate exceeded), so it is counted as a release',
          ),
        });
        expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 5);
      });

      test.each([
        ['the original task set is gone', [{ taskDefinition: TARGET, status: 'PRIMARY' }], 'no task definition'],
        [
          'two other task sets',
          [
            { taskDefinition: TARGET, status: 'PRIMARY' },
            { taskDefinition: td(12), status: 'ACTIVE' },
            { taskDefinition: td(11), status: 'DRAINING' },
          ],
          `${td(12)}, ${td(11)}`,
        ],
      ])('the task definition being replaced is unknown (%s): counted', async (_what, taskSets, named) => {
        ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: SERVICE, taskSets }] });
        cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
        await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toMatchObject({
          status: 'Failed',
          reason: expect.stringContaining(
            `could not tell whether it returns to code that served before (Error: the service's other task sets run ${named}, so the one being replaced is unknown)`,
          ),
        });
      });

      test('a lookup that outlasts its time limit is cut short: counted', async () => {
        ecs.on(DescribeServicesCommand).callsFake(() => new Promise(() => undefined));
        cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
        await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, { ...deps, returnLookupMs: 50 })).resolves.toMatchObject({
          status: 'Failed',
          reason: expect.stringContaining(
            'could not tell whether it returns to code that served before (CheckTimeout: timed out after 50 ms), so it is counted as a release',
          ),
        });
      });

      test('a deployment without an AppSpec: counted', async () => {
        cd.on(GetDeploymentCommand).resolves({ ...deployment(), deploymentInfo: { ...deployment().deploymentInfo, revision: undefined } });
        cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
        await expect(checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).resolves.toMatchObject({
          status: 'Failed',
          reason: expect.stringContaining('(Error: the AppSpec of deployment d-7QJ2M4B5C names no task definition revision)'),
        });
        expect(ecs).not.toHaveReceivedAnyCommand();
      });
    });
  });

  test("waits for the step's last minute to be published before holding", async () => {
    let t = at('10:10:25').getTime();
    const sleeps: number[] = [];
    cw.on(GetMetricDataCommand)
      .resolvesOnce(metricDataOutput({ tg0: Array(4).fill(600), tg1: Array(4).fill(22) }, STEP_START))
      .resolvesOnce(perMinute(600, 22));
    const wait = { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)) };
    expect(await checkEcsCanaryTraffic(EVENT, signal, CONFIG, { ...deps, wait })).toMatchObject({
      status: 'Succeeded',
      reason: expect.stringContaining('served 110 requests'),
    });
    expect(sleeps).toEqual([20_000]);
  });
});

describe('readConfig', () => {
  test('reads the settings the construct passes', () => {
    expect(readConfig(ENV)).toEqual(CONFIG);
  });
  test('lists every problem', () => {
    expect(readConfig({ LOAD_BALANCER: 'my-alb', TARGET_GROUPS: BLUE })).toEqual({
      error:
        'CANARY_TRAFFIC_CHECK is not set; LOAD_BALANCER "my-alb" is not an ALB dimension value (app/<name>/<id>); ' +
        `TARGET_GROUPS "${BLUE}" is not two target group dimension values (targetgroup/<name>/<id>,targetgroup/<name>/<id>); ` +
        'CLUSTER_NAME undefined is not an ECS cluster name; SERVICE_NAME undefined is not an ECS service name',
    });
  });
});

describe('handler: always reports', () => {
  const saved = process.env;
  const handler = trafficCheckHandler({ ...deps, logger: createLogger('test') });
  const reported = () => cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);
  beforeEach(() => {
    process.env = { ...saved, ...ENV };
  });
  afterAll(() => {
    process.env = saved;
  });

  test('held: reports Failed to CodeDeploy, which rolls back', async () => {
    cw.on(GetMetricDataCommand).resolves(perMinute(30, 2));
    await expect(handler(EVENT)).resolves.toMatchObject({
      status: 'Failed',
      reported: true,
      reason: expect.stringMatching(/^held: the canary served 10 requests in its 5-minute step;/),
    });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
      deploymentId: EVENT.DeploymentId,
      lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
      status: 'Failed',
    });
  });

  test('enough: reports Succeeded', async () => {
    cw.on(GetMetricDataCommand).resolves(perMinute(900, 100));
    await expect(handler(EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
    expect(reported()).toEqual(['Succeeded']);
  });

  test('a misconfigured hook reports Failed with the reason instead of throwing', async () => {
    process.env.TARGET_GROUPS = '';
    await expect(handler(EVENT)).resolves.toMatchObject({
      status: 'Failed',
      reason: expect.stringMatching(/^hook misconfigured: TARGET_GROUPS "" is not two target group dimension values/),
    });
    expect(reported()).toEqual(['Failed']);
    expect(cw).not.toHaveReceivedAnyCommand();
  });

  test('a check that outlives CHECK_TIMEOUT_MS reports Failed', async () => {
    process.env.CHECK_TIMEOUT_MS = '50';
    cw.on(GetMetricDataCommand).callsFake(() => new Promise(() => undefined));
    await expect(handler(EVENT)).resolves.toEqual({
      status: 'Failed',
      reason: 'check failed: CheckTimeout: timed out after 50 ms',
      reported: true,
    });
  });

  test.each([null, {}, { DeploymentId: EVENT.DeploymentId }])(
    'a malformed event %j fails the invocation without calling anything',
    async (event) => {
      await expect(handler(event as never)).rejects.toThrow(/^malformed CodeDeploy hook event: /);
      expect(cd).not.toHaveReceivedAnyCommand();
      expect(cw).not.toHaveReceivedAnyCommand();
    },
  );
});
