import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { CanaryJudge, JudgeTraffic } from '../canary-judge';
import type { AlarmSettings } from '../shared/alarm-settings';
import type { ServiceJudgeProps } from '../shared/service-judge';

/** What the alarms of a CanaryLambdaService watch. */
export interface LambdaServiceAlarmsOptions {
  readonly fn: lambda.Function;
  readonly aliasName: string;
  /** Whether the alias has a Function URL (its 5xx rate is then alarmed). */
  readonly hasFunctionUrl: boolean;
  readonly settings: AlarmSettings;
  /** @default - fixed thresholds on the new version */
  readonly judge?: ServiceJudgeProps;
  /** The `Service` dimension of the service's own metrics, when it publishes them. @default - none */
  readonly highResolutionMetricsService?: string;
  /** @default - the judge's alarms are named by the construct path */
  readonly healthAlarmName?: string;
}

/** The alarms of a CanaryLambdaService, and the metrics its dashboard draws. */
export interface LambdaServiceAlarms {
  readonly judge?: CanaryJudge;
  readonly errorRateAlarm?: cloudwatch.Alarm;
  readonly latencyAlarm?: cloudwatch.Alarm;
  readonly throttlesAlarm: cloudwatch.Alarm;
  readonly urlErrorsAlarm?: cloudwatch.Alarm;
  readonly aliasDims: Record<string, string>;
  readonly newVersionErrorRate: cloudwatch.MathExpression;
  readonly period: Duration;
}

/** The URL 5xx alarm judges a period only with at least this many requests: one bad request of two is noise. */
const URL_MIN_REQUESTS = 10;

/**
 * The version being deployed judged against its baseline (CanaryJudge) or by fixed error-rate and
 * p99 thresholds; throttles of the alias; the Function URL's 5xx rate. Built into `scope` (the
 * CanaryLambdaService) under its ids.
 */
export function lambdaServiceAlarms(scope: Construct, o: LambdaServiceAlarmsOptions): LambdaServiceAlarms {
  const { aliasName, settings } = o;
  // Metrics of the alias, and of the version being deployed as the alias routes to it. Alarming on
  // ExecutedVersion = the new version isolates its signal: at 10% canary traffic, a new version
  // failing every request would show only 10% errors on the alias as a whole.
  const aliasDims = { FunctionName: o.fn.functionName, Resource: `${o.fn.functionName}:${aliasName}` };
  const newVersionDims = { ...aliasDims, ExecutedVersion: o.fn.currentVersion.version };
  const period = Duration.seconds(settings.periodSeconds);
  const metric = (metricName: string, statistic: string, dimensionsMap: Record<string, string>, label: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, statistic, dimensionsMap, period, label });
  const alarmCommon = {
    evaluationPeriods: settings.evaluationPeriods,
    datapointsToAlarm: settings.datapointsToAlarm,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    // A canary at 10% of low traffic has minutes without requests: no data is not a failure.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };

  const newVersionErrorRate = new cloudwatch.MathExpression({
    expression: '100 * errors / invocations',
    usingMetrics: {
      errors: metric('Errors', 'Sum', newVersionDims, 'Errors'),
      invocations: metric('Invocations', 'Sum', newVersionDims, 'Invocations'),
    },
    period,
    label: 'New version error rate (%)',
  });
  let judge: CanaryJudge | undefined;
  let errorRateAlarm: cloudwatch.Alarm | undefined;
  let latencyAlarm: cloudwatch.Alarm | undefined;
  if (o.judge) {
    judge = new CanaryJudge(scope, 'Judge', {
      traffic: JudgeTraffic.lambdaAlias({ function: o.fn, aliasName, version: o.fn.currentVersion }),
      // The version publishes AWS_LAMBDA_FUNCTION_VERSION as its Version dimension.
      highResolutionTraffic: o.highResolutionMetricsService
        ? JudgeTraffic.embeddedMetrics({ service: o.highResolutionMetricsService, version: o.fn.currentVersion.version })
        : undefined,
      canaryPercent: o.judge.canaryPercent,
      settings: o.judge.settings,
      expectedTraffic: o.judge.expectedTraffic,
      alarmNamePrefix: o.healthAlarmName?.replace(/-Health$/, ''),
    });
  } else {
    errorRateAlarm = newVersionErrorRate.createAlarm(scope, 'ErrorRateAlarm', {
      ...alarmCommon,
      threshold: settings.errorRatePercent,
      alarmDescription: `The version being deployed fails more than ${settings.errorRatePercent}% of its requests through alias ${aliasName} (${settings.datapointsToAlarm} of ${settings.evaluationPeriods} periods of ${settings.periodSeconds} s). Rolls the deployment back.`,
    });
    const newVersionP99 = metric('Duration', 'p99', newVersionDims, 'New version p99 (ms)');
    latencyAlarm = newVersionP99.createAlarm(scope, 'LatencyAlarm', {
      ...alarmCommon,
      threshold: settings.p99LatencyMs,
      alarmDescription: `The version being deployed has a p99 duration above ${settings.p99LatencyMs} ms through alias ${aliasName}. Rolls the deployment back.`,
    });
  }
  // Throttles are the alias's: Lambda throttles before a version runs, and a slower new version
  // raises the concurrency of the whole alias.
  const aliasThrottles = metric('Throttles', 'Sum', aliasDims, 'Throttles');
  const throttlesAlarm = aliasThrottles.createAlarm(scope, 'ThrottlesAlarm', {
    ...alarmCommon,
    threshold: 0,
    alarmDescription: `Alias ${aliasName} throttles requests. Rolls the deployment back.`,
  });
  let urlErrorsAlarm: cloudwatch.Alarm | undefined;
  if (o.hasFunctionUrl) {
    // Errors counts only invocations that threw; a handler answering statusCode 500 is a success to
    // it. The URL's own 5xx count sees what users see, for both versions (no per-version dimension).
    urlErrorsAlarm = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${URL_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: {
        errors: metric('Url5xxCount', 'Sum', aliasDims, 'URL 5xx'),
        requests: metric('UrlRequestCount', 'Sum', aliasDims, 'URL requests'),
      },
      period,
      label: 'Function URL 5xx rate (%)',
    }).createAlarm(scope, 'UrlErrorsAlarm', {
      ...alarmCommon,
      threshold: settings.errorRatePercent,
      alarmDescription: `More than ${settings.errorRatePercent}% of the requests to the Function URL of alias ${aliasName} get a 5xx (either version; at least ${URL_MIN_REQUESTS} requests a period). Rolls the deployment back.`,
    });
  }
  return { judge, errorRateAlarm, latencyAlarm, throttlesAlarm, urlErrorsAlarm, aliasDims, newVersionErrorRate, period };
}
