import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** What the dashboard of a CanaryLambdaService shows. */
export interface LambdaServiceDashboardOptions {
  readonly fn: lambda.IFunction;
  readonly aliasName: string;
  /** Dimensions of the alias's metrics. */
  readonly aliasDims: Record<string, string>;
  /** The new version's error rate, drawn beside the errors by version. */
  readonly newVersionErrorRate: cloudwatch.MathExpression;
  readonly period: Duration;
  /** The p99 alarm threshold, drawn on the duration graph. */
  readonly p99LatencyMs: number;
  /** The alarms whose states it shows. */
  readonly alarms: cloudwatch.IAlarm[];
}

/** Traffic and errors by version, duration percentiles, throttles and alarm states of the alias. */
export function lambdaServiceDashboard(scope: Construct, o: LambdaServiceDashboardOptions): cloudwatch.Dashboard {
  const { aliasName, aliasDims, newVersionErrorRate, period } = o;
  const fnName = o.fn.functionName;
  const byVersion = (metricName: string, label: string) =>
    new cloudwatch.MathExpression({
      expression: `SEARCH('{AWS/Lambda,FunctionName,Resource,ExecutedVersion} MetricName="${metricName}" FunctionName="${fnName}" Resource="${fnName}:${aliasName}"', 'Sum', ${period.toSeconds()})`,
      label,
      period,
    });
  const aliasMetric = (metricName: string, statistic: string, label: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, statistic, dimensionsMap: aliasDims, period, label });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(3) });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: `Invocations by version (alias ${aliasName})`,
      left: [byVersion('Invocations', '')],
      width: 12,
      stacked: true,
    }),
    new cloudwatch.GraphWidget({
      title: 'Errors by version, and the new version error rate (%)',
      left: [byVersion('Errors', '')],
      right: [newVersionErrorRate],
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: `Duration percentiles (alias ${aliasName}, ms)`,
      left: ['p50', 'p90', 'p99'].map((p) => aliasMetric('Duration', p, p)),
      leftAnnotations: [{ value: o.p99LatencyMs, label: 'p99 alarm threshold' }],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: `Throttles (alias ${aliasName})`,
      left: [aliasMetric('Throttles', 'Sum', 'Throttles')],
      width: 12,
    }),
  );
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: o.alarms, width: 24 }));
  return dashboard;
}
