import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { AlarmOverrides } from '../../lib/config/schema';
import { CanaryLambdaService, DEFAULT_ALARM_SETTINGS, resolveAlarmSettings, worstCaseDetectionSeconds } from '../../lib/constructs/canary-lambda-service';
import { TestApps } from '../support/app';

const apps = new TestApps();
afterAll(() => apps.cleanup());

/** A stack whose assets are not bundled: these tests are about the construct's wiring, not its code. */
function newStack(): Stack {
  return new Stack(apps.create({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Svc', { env: { account: '111111111111', region: 'us-east-1' } });
}

describe('CanaryLambdaService', () => {
  let template: Template;
  let service: CanaryLambdaService;
  beforeAll(() => {
    const stack = newStack();
    service = new CanaryLambdaService(stack, 'Api', {
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      aliasName: 'prod',
      hookCheckTimeout: Duration.seconds(45),
      alarms: { periodSeconds: 120, evaluationPeriods: 5, datapointsToAlarm: 3 },
    });
    template = Template.fromStack(stack);
  });

  test('uses the given deployment config', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' });
  });

  test('applies the alias name to the alias, the URL and the hooks', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'prod' });
    template.hasResourceProperties('AWS::Lambda::Url', { Qualifier: 'prod', AuthType: 'NONE' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { ALIAS_NAME: 'prod', CHECK_TIMEOUT_MS: '45000' } }, Timeout: 75 });
  });

  test('applies period, evaluation periods and datapoints to every metric alarm, keeping default thresholds', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 5, DatapointsToAlarm: 3, TreatMissingData: 'notBreaching', ComparisonOperator: 'GreaterThanThreshold' });
      for (const m of alarm.Properties.Metrics.filter((x: { MetricStat?: unknown }) => x.MetricStat)) expect(m.MetricStat.Period).toBe(120);
    }
    expect(alarms.map((a) => a.Properties.Threshold).sort((a, b) => a - b)).toEqual([0, 1, 1000]);
  });

  test('exposes the settings in force', () => {
    expect(service.alarmSettings).toEqual({ errorRatePercent: 1, p99LatencyMs: 1000, periodSeconds: 120, evaluationPeriods: 5, datapointsToAlarm: 3 });
  });
});

describe('alarm settings', () => {
  test('defaults: error rate > 1%, p99 > 1000 ms, 60 s periods, 2 of 3', () => {
    expect(DEFAULT_ALARM_SETTINGS).toEqual({ errorRatePercent: 1, p99LatencyMs: 1000, periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2 });
    expect(resolveAlarmSettings(undefined, 'CanaryLambdaService')).toEqual(DEFAULT_ALARM_SETTINGS);
    expect(resolveAlarmSettings({ p99LatencyMs: undefined, errorRatePercent: 5 }, 'CanaryLambdaService')).toEqual({ ...DEFAULT_ALARM_SETTINGS, errorRatePercent: 5 });
  });

  test('worst-case detection is (datapointsToAlarm + 1) x period + 180 s of delays: 360 s with the defaults', () => {
    expect(worstCaseDetectionSeconds(DEFAULT_ALARM_SETTINGS)).toBe(360);
    expect(worstCaseDetectionSeconds({ ...DEFAULT_ALARM_SETTINGS, periodSeconds: 120, datapointsToAlarm: 3, evaluationPeriods: 5 })).toBe(660); // 4 x 120 + 180
  });

  const fails = (alarms: AlarmOverrides, message: string) => {
    expect(() => new CanaryLambdaService(newStack(), 'Api', { deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, alarms })).toThrow(
      `Invalid CanaryLambdaService alarm settings:\n  - ${message}`,
    );
  };

  test('fails when p99LatencyMs <= 0', () => {
    fails({ p99LatencyMs: 0 }, 'alarms.p99LatencyMs: 0 is not a latency: use a positive whole number of milliseconds, e.g. 1000');
    fails({ p99LatencyMs: -5 }, 'alarms.p99LatencyMs: -5 is not a latency: use a positive whole number of milliseconds, e.g. 1000');
  });
  test('fails when errorRatePercent is not in (0, 100]', () => {
    fails({ errorRatePercent: 0 }, 'alarms.errorRatePercent: 0 is not a percentage: use a number greater than 0 and at most 100, e.g. 1');
    fails({ errorRatePercent: 101 }, 'alarms.errorRatePercent: 101 is not a percentage: use a number greater than 0 and at most 100, e.g. 1');
  });
  test('fails when periodSeconds is not a multiple of 60', () => {
    fails({ periodSeconds: 30 }, 'alarms.periodSeconds: 30 is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60');
  });
  test('fails when evaluationPeriods is out of range', () => {
    fails({ evaluationPeriods: 11, datapointsToAlarm: 1 }, 'alarms.evaluationPeriods: 11 is out of range: use a whole number from 1 to 10, e.g. 3');
  });
  test('fails when the evaluation window exceeds a day', () => {
    fails({ periodSeconds: 21600, evaluationPeriods: 5 }, "alarms.evaluationPeriods: 5 periods of 21600 s exceed CloudWatch's one-day window: lower one of them");
  });
  test('fails when datapointsToAlarm exceeds evaluationPeriods', () => {
    fails({ evaluationPeriods: 2, datapointsToAlarm: 3 }, 'alarms.datapointsToAlarm: 3 must be a whole number from 1 to evaluationPeriods (2)');
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
  const base = { deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE };
  test('fails when aliasName is not a Lambda alias name', () => {
    expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, aliasName: '42' })).toThrow(
      'aliasName: "42" is not a Lambda alias name: use letters, digits, \'-\' or \'_\' (not only digits), e.g. "live"',
    );
    expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, aliasName: 'my alias' })).toThrow('aliasName: "my alias" is not a Lambda alias name');
  });
  test('fails when hookCheckTimeout is out of range', () => {
    expect(() => new CanaryLambdaService(newStack(), 'Api', { ...base, hookCheckTimeout: Duration.minutes(11) })).toThrow(
      'hookCheckTimeout: 660 s is out of range: use 1 to 600 seconds, e.g. Duration.seconds(30)',
    );
  });
});
