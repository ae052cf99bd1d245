import { Duration, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { CanaryEcsService, CanaryEcsServiceProps, DEFAULT_ECS_ALARM_SETTINGS, EcsCodeDeployDeployment, resolveEcsAlarmSettings, worstCaseRollbackSeconds } from '../../lib/constructs/canary-ecs-service';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

function scope() {
  const stack = new Stack(apps.create(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  stack.node.setContext('availability-zones:account=111111111111:region=us-east-1', ['us-east-1a', 'us-east-1b']);
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return { stack, vpc };
}

function make(overrides: Partial<CanaryEcsServiceProps>) {
  const { stack, vpc } = scope();
  return new CanaryEcsService(stack, 'Service', {
    vpc,
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
    deploymentConfig: codedeploy.EcsDeploymentConfig.ALL_AT_ONCE,
    testTrafficPeers: [ec2.Peer.ipv4('203.0.113.10/32')],
    ...overrides,
  });
}

describe('CanaryEcsService validation', () => {
  test('fails when the test listener uses the production port', () => {
    expect(() => make({ testListenerPort: 80 })).toThrow("testListenerPort: 80 is the production listener's port: use another port, e.g. 8080");
  });
  test('fails when a port is out of range', () => {
    expect(() => make({ containerPort: 70000 })).toThrow('containerPort: 70000 is not a port: use a whole number from 1 to 65535');
  });
  test('fails when desiredCount is below 1', () => {
    expect(() => make({ desiredCount: 0 })).toThrow('desiredCount: 0 must be a whole number of at least 1 (2 or more spreads tasks over both AZs)');
  });
  test('fails when no peer may reach the test listener', () => {
    expect(() => make({ testTrafficPeers: [] })).toThrow(
      'testTrafficPeers: is empty, so the AfterAllowTestTraffic hook could not reach the test listener: add the VPC egress (NAT) addresses',
    );
  });
  test('fails when the blue termination wait exceeds CodeDeploy\'s limit', () => {
    expect(() => make({ blueTerminationWait: Duration.days(3) })).toThrow("blueTerminationWait: 4320 minutes is over CodeDeploy's limit: use at most 2880 minutes (2 days)");
  });
  test('fails when the deployment timeout is outside the Provider framework range', () => {
    expect(() => make({ deploymentTimeout: Duration.hours(3) })).toThrow(
      "timeout: 3 hours is out of range: use 15 minutes to 2 hours (the Provider framework's limit), e.g. Duration.hours(2)",
    );
  });
  test('exposes what the stack and pipeline need', () => {
    const svc = make({});
    expect(svc.alarms).toHaveLength(6);
    expect(svc.deployment).toBeInstanceOf(EcsCodeDeployDeployment);
    expect(svc.alarmSettings).toEqual(DEFAULT_ECS_ALARM_SETTINGS);
    expect(Stack.of(svc).resolve(svc.compositeAlarm.alarmName)).toEqual({ Ref: expect.stringMatching(/^ServiceHealth/) });
  });
});

describe('alarm settings', () => {
  test('defaults', () => {
    expect(resolveEcsAlarmSettings()).toEqual({ errorRatePercent: 1, p99LatencyMs: 1000, periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2 });
  });
  test('overrides keep the other defaults', () => {
    expect(resolveEcsAlarmSettings({ errorRatePercent: 5 })).toEqual({ ...DEFAULT_ECS_ALARM_SETTINGS, errorRatePercent: 5 });
  });
  test('fails when values are invalid, naming each field and the construct', () => {
    expect(() => make({ alarms: { errorRatePercent: 0, p99LatencyMs: 1.5, periodSeconds: 45, evaluationPeriods: 11 } })).toThrow(
      [
        'Invalid CanaryEcsService alarm settings:',
        '  - alarms.errorRatePercent: 0 is not a percentage: use a number greater than 0 and at most 100, e.g. 1',
        '  - alarms.p99LatencyMs: 1.5 is not a latency: use a positive whole number of milliseconds, e.g. 1000',
        '  - alarms.periodSeconds: 45 is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60',
        '  - alarms.evaluationPeriods: 11 is out of range: use a whole number from 1 to 10, e.g. 3',
      ].join('\n'),
    );
  });
  test('fails when the period is high-resolution: ALB metrics are published once a minute', () => {
    expect(() => resolveEcsAlarmSettings({ periodSeconds: 10 })).toThrow(
      'Invalid CanaryEcsService alarm settings:\n  - alarms.periodSeconds: 10 is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60',
    );
  });
  test('worst-case time to rollback start: (datapointsToAlarm + 1) x period + metric delay, evaluation and CodeDeploy poll', () => {
    expect(worstCaseRollbackSeconds(DEFAULT_ECS_ALARM_SETTINGS)).toBe(360); // 3 x 60 + 60 + 60 + 60
    expect(worstCaseRollbackSeconds({ ...DEFAULT_ECS_ALARM_SETTINGS, periodSeconds: 120, datapointsToAlarm: 3 })).toBe(660); // 4 x 120 + 180
  });
});
