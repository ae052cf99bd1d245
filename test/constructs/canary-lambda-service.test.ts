import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AlarmOverrides } from '../../lib/config/schema';
import {
  CanaryLambdaService,
  DEFAULT_ALARM_SETTINGS,
  resolveAlarmSettings,
  worstCaseDetectionSeconds,
} from '../../lib/constructs/canary-lambda-service';
import { TestApps } from '../support/app';
import { FIXTURES_DIR } from '../support/fixtures';

const apps = new TestApps();
afterAll(() => apps.cleanup());
const ENTRY = path.join(FIXTURES_DIR, 'services/orders-api/handler.ts');

/** A stack whose assets are not bundled: these tests are about the construct's wiring, not its code. */
function newStack(): Stack {
  return new Stack(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Svc', {
    env: { account: '111111111111', region: 'us-east-1' },
  });
}

/** Every action the execution role of `fn` is allowed. */
function policyActions(t: Template, stack: Stack, fn: lambda.IFunction): string[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
    .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
}

describe('CanaryLambdaService', () => {
  let template: Template;
  let service: CanaryLambdaService;
  beforeAll(() => {
    const stack = newStack();
    service = new CanaryLambdaService(stack, 'Api', {
      entry: ENTRY,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      functionUrlAuthType: lambda.FunctionUrlAuthType.NONE,
      reservedConcurrentExecutions: 50,
      healthCheck: { path: '/health', expectedStatus: 200 },
      aliasName: 'prod',
      hookCheckTimeout: Duration.seconds(45),
      alarms: { periodSeconds: 120, evaluationPeriods: 5, datapointsToAlarm: 3 },
    });
    template = Template.fromStack(stack);
  });

  test('uses the given deployment config', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    });
  });

  test('applies the alias name to the alias, the URL and the hooks', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'prod' });
    template.hasResourceProperties('AWS::Lambda::Url', { Qualifier: 'prod', AuthType: 'NONE' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ALIAS_NAME: 'prod',
          CHECK_TIMEOUT_MS: '45000',
          SERVICE_CHECK: '{"type":"http","path":"/health","expectedStatus":200}',
          FUNCTION_NAME: Match.anyValue(),
        },
      },
      Timeout: 75,
    });
  });

  test('applies period, evaluation periods and datapoints to every fixed-threshold alarm, keeping default thresholds', () => {
    // Error rate, p99, throttles, URL 5xx (and the hook-errors alarm, which is one period, any error).
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.EvaluationPeriods !== 1);
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        ComparisonOperator: 'GreaterThanThreshold',
      });
      for (const m of alarm.Properties.Metrics.filter((x: { MetricStat?: unknown }) => x.MetricStat)) expect(m.MetricStat.Period).toBe(120);
    }
    expect(alarms.map((a) => a.Properties.Threshold).sort((a, b) => a - b)).toEqual([0, 1, 1, 1000]);
  });

  test('exposes the settings in force', () => {
    expect(service.alarmSettings).toEqual({
      errorRatePercent: 1,
      p99LatencyMs: 1000,
      periodSeconds: 120,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
  });
});

describe('alarm settings', () => {
  test('defaults: error rate > 1%, p99 > 1000 ms, 60 s periods, 2 of 3', () => {
    expect(DEFAULT_ALARM_SETTINGS).toEqual({
      errorRatePercent: 1,
      p99LatencyMs: 1000,
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    expect(resolveAlarmSettings(undefined, 'CanaryLambdaService')).toEqual(DEFAULT_ALARM_SETTINGS);
    expect(resolveAlarmSettings({ p99LatencyMs: undefined, errorRatePercent: 5 }, 'CanaryLambdaService')).toEqual({
      ...DEFAULT_ALARM_SETTINGS,
      errorRatePercent: 5,
    });
  });

  test('worst-case detection is (datapointsToAlarm + 1) x period + 180 s of delays: 360 s with the defaults', () => {
    expect(worstCaseDetectionSeconds(DEFAULT_ALARM_SETTINGS)).toBe(360);
    expect(worstCaseDetectionSeconds({ ...DEFAULT_ALARM_SETTINGS, periodSeconds: 120, datapointsToAlarm: 3, evaluationPeriods: 5 })).toBe(
      660,
    ); // 4 x 120 + 180
  });

  const fails = (alarms: AlarmOverrides, message: string) => {
    expect(
      () =>
        new CanaryLambdaService(newStack(), 'Api', {
          entry: ENTRY,
          deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
          alarms,
        }),
    ).toThrow(`Invalid CanaryLambdaService alarm settings:\n  - ${message}`);
  };

  test('fails when p99LatencyMs <= 0', () => {
    fails({ p99LatencyMs: 0 }, 'alarms.p99LatencyMs: 0 is not a latency: use a positive whole number of milliseconds, e.g. 1000');
    fails({ p99LatencyMs: -5 }, 'alarms.p99LatencyMs: -5 is not a latency: use a positive whole number of milliseconds, e.g. 1000');
  });
  test('fails when errorRatePercent is not in (0, 100]', () => {
    fails({ errorRatePercent: 0 }, 'alarms.errorRatePercent: 0 is not a percentage: use a number greater than 0 and at most 100, e.g. 1');
    fails(
      { errorRatePercent: 101 },
      'alarms.errorRatePercent: 101 is not a percentage: use a number greater than 0 and at most 100, e.g. 1',
    );
  });
  test('fails when periodSeconds is not a multiple of 60', () => {
    fails(
      { periodSeconds: 30 },
      'alarms.periodSeconds: 30 is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60',
    );
  });
  test('fails when evaluationPeriods is out of range', () => {
    fails(
      { evaluationPeriods: 11, datapointsToAlarm: 1 },
      'alarms.evaluationPeriods: 11 is out of range: use a whole number from 1 to 10, e.g. 3',
    );
  });
  test('fails when the evaluation window exceeds a day', () => {
    fails(
      { periodSeconds: 21600, evaluationPeriods: 5 },
      "alarms.evaluationPeriods: 5 periods of 360 minutes exceed CloudWatch's one-day evaluation limit: use at most 4",
    );
  });
  test('fails when datapointsToAlarm exceeds evaluationPeriods', () => {
    fails(
      { evaluationPeriods: 2, datapointsToAlarm: 3 },
      'alarms.datapointsToAlarm: 3 must be a whole number from 1 to evaluationPeriods (2)',
    );
  });
  test('fails listing every bad field at once', () => {
    expect(() => resolveAlarmSettings({ p99LatencyMs: -1, errorRatePercent: -1 }, 'CanaryLambdaService')).toThrow(
      'Invalid CanaryLambdaService alarm settings:\n' +
        '  - alarms.errorRatePercent: -1 is not a percentage: use a number greater than 0 and at most 100, e.g. 1\n' +
        '  - alarms.p99LatencyMs: -1 is not a latency: use a positive whole number of milliseconds, e.g. 1000',
    );
  });
});

describe('other props', () => {
  const base = { entry: ENTRY, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE };
  test('fails when aliasName is not a Lambda alias name', () => {
    expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, aliasName: '42' })).toThrow(
      'aliasName: "42" is not a Lambda alias name: use letters, digits, \'-\' or \'_\' (not only digits), e.g. "live"',
    );
    expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, aliasName: 'my alias' })).toThrow(
      'aliasName: "my alias" is not a Lambda alias name',
    );
  });
  test('fails when reservedConcurrentExecutions is below 1 or above 10000 (the bound the config uses)', () => {
    for (const value of [0, 10001]) {
      expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, reservedConcurrentExecutions: value })).toThrow(
        `reservedConcurrentExecutions: ${value} is not a reserved concurrency: use a whole number from 1 to 10000`,
      );
    }
  });
  test('fails when hookCheckTimeout is out of range', () => {
    expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, hookCheckTimeout: Duration.minutes(11) })).toThrow(
      'hookCheckTimeout: 660 s is out of range: use 1 to 600 seconds, e.g. Duration.seconds(30)',
    );
  });
  test('fails when the judged canary step is not whole minutes', () => {
    expect(
      () => new CanaryLambdaService(newStack(), 'Api', { ...base, judge: { canaryPercent: 10, canaryStep: Duration.seconds(90) } }),
    ).toThrow(
      "judge.canaryStep: 1 minute 30 seconds is not a canary step CodeDeploy can take: use whole minutes, at least 1 (the deployment config's interval), e.g. Duration.minutes(10)",
    );
  });
  test('a judged canary: the post-traffic hook gets the traffic check and may read metrics; the pre-traffic hook does not', () => {
    const stack = newStack();
    const svc = new CanaryLambdaService(stack, 'Api', {
      ...base,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
      judge: { canaryPercent: 10, canaryStep: Duration.minutes(15), settings: { minRequests: 250 } },
    });
    const t = Template.fromStack(stack);
    const vars = (fn: lambda.IFunction) =>
      t.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables;
    expect(vars(svc.postTrafficHook).CANARY_TRAFFIC_CHECK).toBe('{"minRequests":250,"stepMinutes":15}');
    expect(vars(svc.preTrafficHook).CANARY_TRAFFIC_CHECK).toBeUndefined();
    // Whether the target returns to code that served: only the judged post-traffic hook reads versions and the group's history.
    const actions = (fn: lambda.IFunction) => policyActions(t, stack, fn);
    expect(actions(svc.postTrafficHook)).toEqual(
      expect.arrayContaining(['lambda:ListVersionsByFunction', 'codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments']),
    );
    expect(actions(svc.preTrafficHook)).not.toEqual(expect.arrayContaining(['lambda:ListVersionsByFunction']));
  });

  test('without a judge, no hook may read the versions or the deployment history (there is no traffic check)', () => {
    const stack = newStack();
    const svc = new CanaryLambdaService(stack, 'Api', base);
    const t = Template.fromStack(stack);
    for (const hook of [svc.preTrafficHook, svc.postTrafficHook]) {
      const actions = policyActions(t, stack, hook);
      expect(actions).toContain('codedeploy:GetDeployment');
      for (const a of [
        'lambda:ListVersionsByFunction',
        'codedeploy:ListDeployments',
        'codedeploy:BatchGetDeployments',
        'cloudwatch:GetMetricData',
      ])
        expect(actions).not.toContain(a);
    }
  });
  test('fails when both a health check and an invoke check are given', () => {
    expect(
      () =>
        new CanaryLambdaService(newStack(), 'Api', {
          ...base,
          healthCheck: { path: '/h', expectedStatus: 200 },
          invokeCheck: { payload: {} },
        }),
    ).toThrow('healthCheck and invokeCheck are both set: give an HTTP service a healthCheck, an event-driven one an invokeCheck');
  });
});

describe("a reusable construct, as aws-codedeploy's are", () => {
  test('several services share a stack, each with its own alias, group, hooks and uniquely named health alarm', () => {
    const stack = newStack();
    new CanaryLambdaService(stack, 'Orders', {
      ...{ entry: ENTRY },
      deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
      functionUrlAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
    });
    new CanaryLambdaService(stack, 'Billing', {
      entry: ENTRY,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
      invokeCheck: { payload: { Records: [] } },
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 2);
    t.resourceCountIs('AWS::Lambda::Alias', 2);
    t.resourceCountIs('AWS::Lambda::Url', 1);
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    t.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'Svc-Orders-Health' });
    t.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'Svc-Billing-Health' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SERVICE_CHECK: '{"type":"invoke","payload":{"Records":[]}}' }) },
    });
  });

  test('no URL, no check: the hooks pass on alarms alone; the function takes the configured handler, memory, timeout, environment and concurrency', () => {
    const stack = newStack();
    const svc = new CanaryLambdaService(stack, 'Worker', {
      entry: ENTRY,
      handler: 'consume',
      deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: { QUEUE: 'jobs' },
      reservedConcurrentExecutions: 5,
      architecture: lambda.Architecture.X86_64,
    });
    expect(svc.functionUrl).toBeUndefined();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Url', 0);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.consume',
      MemorySize: 1024,
      Timeout: 60,
      ReservedConcurrentExecutions: 5,
      Architectures: ['x86_64'],
      Environment: { Variables: { QUEUE: 'jobs' } },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SERVICE_CHECK: '{"type":"none"}' }) },
    });
  });

  test('addAlarm: the deployment group watches it and the composite health alarm includes it', () => {
    const stack = newStack();
    const svc = new CanaryLambdaService(stack, 'Api', {
      entry: ENTRY,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
      healthAlarmName: 'api-health',
    });
    const queueAge = new cloudwatch.Alarm(stack, 'QueueAge', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateAgeOfOldestMessage',
        dimensionsMap: { QueueName: 'jobs' },
      }),
      threshold: 300,
      evaluationPeriods: 2,
    });
    svc.addAlarm(queueAge);
    // Error rate, p99, throttles, hook errors (no URL), then the added one.
    expect(svc.alarms).toHaveLength(5);
    const t = Template.fromStack(stack);
    const alarmId = stack.getLogicalId(queueAge.node.defaultChild as cloudwatch.CfnAlarm);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: { Enabled: true, Alarms: Match.arrayWith([{ Name: { Ref: alarmId } }]) },
    });
    const [composite] = Object.values(t.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composite.Properties.AlarmName).toBe('api-health');
    expect(JSON.stringify(composite.Properties.AlarmRule)).toContain(alarmId);
  });

  test("fails at synth when more than 10 alarms would watch the deployment group (CodeDeploy's limit)", () => {
    const stack = newStack();
    const svc = new CanaryLambdaService(stack, 'Api', { entry: ENTRY, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE });
    for (let i = 0; i < 7; i++) {
      svc.addAlarm(
        new cloudwatch.Alarm(stack, `Extra${i}`, {
          metric: new cloudwatch.Metric({ namespace: 'X', metricName: `m${i}` }),
          threshold: 1,
          evaluationPeriods: 1,
        }),
      );
    }
    expect(() => Template.fromStack(stack)).toThrow(
      /Svc\/Api: 11 alarms watch the deployment group, CodeDeploy allows at most 10: combine some with metric math/,
    );
  });
});
