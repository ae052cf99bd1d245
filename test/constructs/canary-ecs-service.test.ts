import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import {
  CanaryEcsService,
  CanaryEcsServiceProps,
  DEFAULT_ALARM_SETTINGS,
  EcsCodeDeployDeployment,
  resolveAlarmSettings,
  worstCaseDetectionSeconds,
} from '../../lib/constructs/canary-ecs-service';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

function scope() {
  const stack = new Stack(apps.create(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  stack.node.setContext('availability-zones:account=111111111111:region=us-east-1', ['us-east-1a', 'us-east-1b']);
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  return { stack, vpc, cluster };
}

function make(overrides: Partial<CanaryEcsServiceProps>, id = 'Service', s = scope()) {
  return new CanaryEcsService(s.stack, id, {
    cluster: s.cluster,
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
    deploymentConfig: codedeploy.EcsDeploymentConfig.ALL_AT_ONCE,
    testTrafficPeers: [ec2.Peer.ipv4('203.0.113.10/32')],
    ...overrides,
  });
}

describe('CanaryEcsService validation', () => {
  test('fails when the test listener uses the production port', () => {
    expect(() => make({ testListenerPort: 80 })).toThrow(
      "testListenerPort: 80 is the production listener's port: use another port, e.g. 8080",
    );
  });
  test('fails when a port is out of range', () => {
    expect(() => make({ containerPort: 70000 })).toThrow(
      'containerPort: 70000 is not a port: use a whole number from 1 to 65535, e.g. 8080',
    );
  });
  test('fails when desiredCount is below 1 or above 100 (the config allows no more)', () => {
    expect(() => make({ desiredCount: 0 })).toThrow(
      'desiredCount: 0 is not a task count: use a whole number from 1 to 100 (2 or more spreads tasks over both AZs)',
    );
    expect(() => make({ desiredCount: 101 })).toThrow(
      'desiredCount: 101 is not a task count: use a whole number from 1 to 100 (2 or more spreads tasks over both AZs)',
    );
  });
  test('fails when no peer may reach the test listener', () => {
    expect(() => make({ testTrafficPeers: [] })).toThrow(
      'testTrafficPeers: is empty, so the AfterAllowTestTraffic hook could not reach the test listener: add the VPC egress (NAT) addresses',
    );
  });
  test("fails when the blue termination wait exceeds CodeDeploy's limit", () => {
    expect(() => make({ blueTerminationWait: Duration.days(3) })).toThrow(
      "blueTerminationWait: 4320 minutes is out of CodeDeploy's range: use 0 to 2880 minutes (2 days)",
    );
  });
  test("fails when the deployment timeout is beyond CloudFormation's one-hour custom-resource limit", () => {
    expect(() => make({ deploymentTimeout: Duration.hours(2) })).toThrow(
      "timeout: 2 hours is out of range: use 15 to 55 minutes (CloudFormation fails a custom resource after 60 minutes, whatever the Provider framework's totalTimeout says)",
    );
  });
  test('exposes what the stack and pipeline need', () => {
    const svc = make({});
    // 5xx rate, p99 and unhealthy tasks per target group, the load balancer's 5xx, the hook's errors.
    expect(svc.alarms).toHaveLength(8);
    expect(svc.deployment).toBeInstanceOf(EcsCodeDeployDeployment);
    expect(svc.alarmSettings).toEqual(DEFAULT_ALARM_SETTINGS);
    expect(Stack.of(svc).resolve(svc.compositeAlarm.alarmName)).toEqual({ Ref: expect.stringMatching(/^ServiceHealth/) });
    expect(svc.healthAlarmName).toBe('S-Service-Health');
  });
  test('fails when the judged canary step is not whole minutes', () => {
    expect(() => make({ judge: { canaryPercent: 10, canaryStep: Duration.seconds(30) } })).toThrow(
      "judge.canaryStep: 30 seconds is not a canary step CodeDeploy can take: use whole minutes, at least 1 (the deployment config's interval), e.g. Duration.minutes(10)",
    );
  });
  test('a judged canary gets the AfterAllowTraffic traffic check; an unjudged one does not', () => {
    const judged = make({
      deploymentConfig: codedeploy.EcsDeploymentConfig.CANARY_10PERCENT_15MINUTES,
      judge: { canaryPercent: 10, canaryStep: Duration.minutes(15) },
    });
    expect(judged.trafficCheckHook?.function.fixedName).toBe('S-Service-TrafficCheckHook');
    Template.fromStack(Stack.of(judged)).hasResourceProperties('Custom::EcsCodeDeployDeployment', {
      Hooks: { AfterAllowTestTraffic: Match.anyValue(), AfterAllowTraffic: Match.anyValue() },
    });
    expect(make({}).trafficCheckHook).toBeUndefined();
  });
  test('fails when there are no test probes, or too many', () => {
    expect(() => make({ testTraffic: [] })).toThrow(
      "testTraffic: 0 probes: give 1 to 10 (each may take up to 19 s within the hook's time)",
    );
  });
});

describe('a reusable construct: services of a team, several per cluster', () => {
  test('two services share one cluster, each with its own ALB, deployment group and named alarms', () => {
    const s = scope();
    make({ containerPort: 8080, healthCheck: { path: '/healthz', expectedStatus: 200 } }, 'Storefront', s);
    make(
      {
        containerPort: 9000,
        healthCheck: { path: '/ping', expectedStatus: 204 },
        testTraffic: [{ path: '/products', bodyContains: 'Mug', expectedStatus: 200 }],
      },
      'Catalog',
      s,
    );
    const t = Template.fromStack(s.stack);
    t.resourceCountIs('AWS::ECS::Cluster', 1);
    t.resourceCountIs('AWS::ECS::Service', 2);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 2);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 2);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      HealthCheckPath: '/healthz',
      Matcher: { HttpCode: '200' },
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 9000,
      HealthCheckPath: '/ping',
      Matcher: { HttpCode: '204' },
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'S-Catalog-Green-5xxRate' });
    t.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'S-Storefront-Health' });
    // The test hook probes what the service declares: the health check by default, else its testTraffic.
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TEST_PROBES: '[{"path":"/healthz","expectedStatus":200}]' }) },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TEST_PROBES: '[{"path":"/products","expectedStatus":200,"bodyContains":"Mug"}]',
          CHECK_TIMEOUT_MS: '24000',
        }),
      },
    });
  });

  test('addAlarm feeds the deployment group and the composite alarm', () => {
    const s = scope();
    const svc = make({}, 'Service', s);
    const extra = new cloudwatch.Alarm(s.stack, 'Extra', {
      metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'CheckoutFailures' }),
      threshold: 5,
      evaluationPeriods: 1,
    });
    svc.addAlarm(extra);
    expect(svc.alarms).toHaveLength(9);
    const id = s.stack.getLogicalId(extra.node.defaultChild as cloudwatch.CfnAlarm);
    const t = Template.fromStack(s.stack);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: Match.objectLike({ Alarms: Match.arrayWith([{ Name: { Ref: id } }]) }),
    });
    expect(JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::CompositeAlarm'))[0].Properties.AlarmRule)).toContain(id);
  });
});

describe('alarm settings', () => {
  test('defaults', () => {
    expect(resolveAlarmSettings(undefined, 'CanaryEcsService')).toEqual({
      errorRatePercent: 1,
      p99LatencyMs: 1000,
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
  });
  test('overrides keep the other defaults', () => {
    expect(resolveAlarmSettings({ errorRatePercent: 5 }, 'CanaryEcsService')).toEqual({ ...DEFAULT_ALARM_SETTINGS, errorRatePercent: 5 });
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
    expect(() => resolveAlarmSettings({ periodSeconds: 10 }, 'CanaryEcsService')).toThrow(
      'Invalid CanaryEcsService alarm settings:\n  - alarms.periodSeconds: 10 is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60',
    );
  });
  test('worst-case time to rollback start: (datapointsToAlarm + 1) x period + metric delay, evaluation and CodeDeploy poll', () => {
    expect(worstCaseDetectionSeconds(DEFAULT_ALARM_SETTINGS)).toBe(360); // 3 x 60 + 60 + 60 + 60
    expect(worstCaseDetectionSeconds({ ...DEFAULT_ALARM_SETTINGS, periodSeconds: 120, datapointsToAlarm: 3 })).toBe(660); // 4 x 120 + 180
  });
});
