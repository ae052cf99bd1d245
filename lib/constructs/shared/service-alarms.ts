import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/**
 * An alarm on any error of a service's own handlers (its CodeDeploy hooks): a hook that fails its
 * invocation cannot report, and CodeDeploy would wait an hour for it; in the deployment group, the
 * alarm stops and rolls back the deployment at once instead.
 */
export function hookErrorsAlarm(scope: Construct, id: string, hookFunctionNames: string[], period: Duration): cloudwatch.Alarm {
  // By literal name: the hooks' policies reference the deployment group, which references this alarm.
  const usingMetrics = Object.fromEntries(
    hookFunctionNames.map((name, i) => [
      `h${i}`,
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensionsMap: { FunctionName: name },
        statistic: 'Sum',
        period,
      }),
    ]),
  );
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics)
      .map((k) => `FILL(${k}, 0)`)
      .join(' + '),
    usingMetrics,
    period,
    label: 'Hook errors',
  }).createAlarm(scope, id, {
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `A deployment hook of ${scope.node.path} failed its invocation (a malformed event or a crash) and could not report to CodeDeploy. Rolls the deployment back.`,
  });
}

/** `ALARM(a) OR ALARM(b) ...` over alarms, as a composite alarm rule. */
export function anyAlarm(alarms: readonly cloudwatch.IAlarm[]): string {
  return cloudwatch.AlarmRule.anyOf(...alarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))).renderAlarmRule();
}
