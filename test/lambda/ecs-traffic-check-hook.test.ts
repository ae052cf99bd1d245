import { CloudFormationClient, DescribeStacksCommand, DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  BatchGetDeploymentTargetsCommandOutput,
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentCommandOutput,
  LifecycleEvent,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { checkEcsCanaryTraffic, EcsTrafficCheckConfig, readConfig, trafficCheckHandler } from '../../lambda/ecs-traffic-check-hook';
import { createLogger } from '../../lambda/shared/logger';
import { metricDataOutput } from './lambda-traffic-hook-fixtures';

const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const cfn = mockClient(CloudFormationClient);
const EVENT = { DeploymentId: 'd-7QJ2M4B5C', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoiZWNzLWFmdGVyLWFsbG93In0=' };
const LB = 'app/Beta-s-Servi-1Q2W3E4R5T6Y/4f3a2b1c0d9e8f7a';
const BLUE = 'targetgroup/Beta-s-Servi-BLUE1234ABCD/0123456789abcdef';
const GREEN = 'targetgroup/Beta-s-Servi-GREEN567EFGH/fedcba9876543210';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/Beta-storefront/6b0ad1a0-cd6e-11f0-9f3c-0e1f2a3b4c5d';
const CONFIG: EcsTrafficCheckConfig = { check: { minRequests: 100, stepMinutes: 5 }, loadBalancer: LB, targetGroups: [BLUE, GREEN], stackId: STACK_ID };
const ENV = { CANARY_TRAFFIC_CHECK: '{"minRequests":100,"stepMinutes":5}', LOAD_BALANCER: LB, TARGET_GROUPS: `${BLUE},${GREEN}`, STACK_ID, CHECK_TIMEOUT_MS: '2000' };
/** AllowTraffic started at 10:05:12: the 5-minute step's whole minutes are 10:05-10:10. */
const ALLOW_TRAFFIC_START = new Date('2026-11-22T10:05:12.481Z');
const STEP_START = new Date('2026-11-22T10:05:00Z');

const at = (hhmmss: string) => new Date(`2026-11-22T${hhmmss}Z`);
function lifecycle(allowTraffic: Partial<LifecycleEvent> | undefined = { startTime: ALLOW_TRAFFIC_START, endTime: at('10:10:20'), status: 'Succeeded' }): LifecycleEvent[] {
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
            { identifer: 'ecs-svc/1111111111111111111', desiredCount: 2, runningCount: 2, status: 'PRIMARY', trafficWeight: 100, targetGroup: { name: 'Beta-s-Servi-GREEN567EFGH' }, taskSetLabel: 'Green' },
            { identifer: 'ecs-svc/2222222222222222222', desiredCount: 2, runningCount: 2, status: 'ACTIVE', trafficWeight: 0, targetGroup: { name: 'Beta-s-Servi-BLUE1234ABCD' }, taskSetLabel: 'Blue' },
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
    },
  };
}
function stack(status = 'UPDATE_IN_PROGRESS'): DescribeStacksCommandOutput {
  return { $metadata: { httpStatusCode: 200 }, Stacks: [{ StackName: 'Beta-storefront', StackId: STACK_ID, StackStatus: status as never, CreationTime: new Date('2026-11-01T08:00:00Z') }] };
}
/** Blue served `blue`, green `green` requests in each minute of the step. */
const perMinute = (blue: number, green: number) => metricDataOutput({ tg0: Array(5).fill(blue), tg1: Array(5).fill(green) }, STEP_START);

const deps = { codedeploy: new CodeDeployClient({ region: 'us-east-1' }), cloudwatch: new CloudWatchClient({ region: 'us-east-1' }), cloudformation: new CloudFormationClient({ region: 'us-east-1' }), retry: { sleep: async () => undefined } };
const signal = new AbortController().signal;

beforeEach(() => {
  cd.reset();
  cw.reset();
  cfn.reset();
  cd.on(GetDeploymentCommand).resolves(deployment());
  cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['safe-deploy-Beta-cluster:Beta-storefront-Service'] });
  cd.on(BatchGetDeploymentTargetsCommand).resolves(targets());
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId });
  cfn.on(DescribeStacksCommand).resolves(stack());
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
          Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: [{ Name: 'LoadBalancer', Value: LB }, { Name: 'TargetGroup', Value: tg }] },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      })),
    });
    expect(cd).toHaveReceivedCommandWith(BatchGetDeploymentTargetsCommand, { deploymentId: EVENT.DeploymentId, targetIds: ['safe-deploy-Beta-cluster:Beta-storefront-Service'] });
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
    expect(result).toMatchObject({ status: 'Failed', reason: expect.stringMatching(new RegExp(`^held: the canary served 20 requests .*\\(target group ${BLUE}, the one with fewer requests; ${GREEN} served 300,`)) });
  });

  test('a canary target group with no datapoint at all served nothing: held', async () => {
    cw.on(GetMetricDataCommand).resolves(metricDataOutput({ tg0: Array(5).fill(30), tg1: [] }, STEP_START));
    expect(await checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps)).toMatchObject({ status: 'Failed', reason: expect.stringMatching(/^held: the canary served 0 requests/) });
  });

  test('metrics that cannot be read fail the check', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
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
      reason: 'canary traffic not counted: stack Beta-storefront is in UPDATE_ROLLBACK_IN_PROGRESS: the deployment goes back to what served before, which is never held',
    });
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: STACK_ID });
    expect(cw).not.toHaveReceivedAnyCommand();
  });

  test('a stack status that cannot be read is said, and the canary is counted', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('not authorized to perform: cloudformation:DescribeStacks'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    cw.on(GetMetricDataCommand).resolves(perMinute(40, 2));
    const result = await checkEcsCanaryTraffic(EVENT, signal, CONFIG, deps);
    expect(result).toMatchObject({ status: 'Failed', reason: expect.stringContaining('stack status unreadable (AccessDenied: not authorized to perform: cloudformation:DescribeStacks), counted as a release') });
  });

  test('waits for the step\'s last minute to be published before holding', async () => {
    let t = at('10:10:25').getTime();
    const sleeps: number[] = [];
    cw.on(GetMetricDataCommand)
      .resolvesOnce(metricDataOutput({ tg0: Array(4).fill(600), tg1: Array(4).fill(22) }, STEP_START))
      .resolvesOnce(perMinute(600, 22));
    const wait = { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)) };
    expect(await checkEcsCanaryTraffic(EVENT, signal, CONFIG, { ...deps, wait })).toMatchObject({ status: 'Succeeded', reason: expect.stringContaining('served 110 requests') });
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
        `TARGET_GROUPS "${BLUE}" is not two target group dimension values (targetgroup/<name>/<id>,targetgroup/<name>/<id>)`,
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
    await expect(handler(EVENT)).resolves.toMatchObject({ status: 'Failed', reported: true, reason: expect.stringMatching(/^held: the canary served 10 requests in its 5-minute step;/) });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { deploymentId: EVENT.DeploymentId, lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId, status: 'Failed' });
  });

  test('enough: reports Succeeded', async () => {
    cw.on(GetMetricDataCommand).resolves(perMinute(900, 100));
    await expect(handler(EVENT)).resolves.toMatchObject({ status: 'Succeeded', reported: true });
    expect(reported()).toEqual(['Succeeded']);
  });

  test('a misconfigured hook reports Failed with the reason instead of throwing', async () => {
    process.env.TARGET_GROUPS = '';
    await expect(handler(EVENT)).resolves.toMatchObject({ status: 'Failed', reason: expect.stringMatching(/^hook misconfigured: TARGET_GROUPS "" is not two target group dimension values/) });
    expect(reported()).toEqual(['Failed']);
    expect(cw).not.toHaveReceivedAnyCommand();
  });

  test('a check that outlives CHECK_TIMEOUT_MS reports Failed', async () => {
    process.env.CHECK_TIMEOUT_MS = '50';
    cw.on(GetMetricDataCommand).callsFake(() => new Promise(() => undefined));
    await expect(handler(EVENT)).resolves.toEqual({ status: 'Failed', reason: 'check failed: CheckTimeout: timed out after 50 ms', reported: true });
  });

  test.each([null, {}, { DeploymentId: EVENT.DeploymentId }])('a malformed event %j fails the invocation without calling anything', async (event) => {
    await expect(handler(event as never)).rejects.toThrow(/^malformed CodeDeploy hook event: /);
    expect(cd).not.toHaveReceivedAnyCommand();
    expect(cw).not.toHaveReceivedAnyCommand();
  });
});
