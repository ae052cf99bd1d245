import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import type { AlarmSettings } from '../shared/alarm-settings';

/** The two target groups CodeDeploy alternates between; either can be the one taking the new version. */
export type TargetGroupColor = 'Blue' | 'Green';

/**
 * The alarms of one target group: target 5xx rate, p99 response time and unhealthy tasks, named
 * `<prefix>-<color>-<what>` (only unhealthy tasks when a canary judge compares the groups instead).
 * Both groups get them, since after each successful deployment the groups swap roles: the next
 * canary runs in whichever one is idle.
 */
export function targetGroupAlarms(
  scope: Construct,
  color: TargetGroupColor,
  tg: elbv2.ApplicationTargetGroup,
  s: AlarmSettings,
  namePrefix: string,
  healthCheckPath: string,
  judged = false,
): cloudwatch.Alarm[] {
  const period = Duration.seconds(s.periodSeconds);
  const common = {
    evaluationPeriods: s.evaluationPeriods,
    datapointsToAlarm: s.datapointsToAlarm,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  };
  const window = `${s.datapointsToAlarm} of ${s.evaluationPeriods} periods of ${s.periodSeconds} s`;
  const c = color.toLowerCase();
  const errorRate = new cloudwatch.MathExpression({
    // No requests → no datapoint → missing data, which does not breach.
    expression: `100 * FILL(${c}Errors, 0) / ${c}Requests`,
    usingMetrics: {
      [`${c}Errors`]: tg.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' }),
      [`${c}Requests`]: tg.metrics.requestCount({ period, statistic: 'Sum' }),
    },
    period,
    label: `${color} target 5xx rate (%)`,
  });
  const unhealthy = tg.metrics.unhealthyHostCount({ period, statistic: 'Maximum' }).createAlarm(scope, `${color}UnhealthyHostsAlarm`, {
    ...common,
    alarmName: `${namePrefix}-${color}-UnhealthyHosts`,
    threshold: 0,
    alarmDescription: `${color} target group: at least one task fails the ${healthCheckPath} health check (${window}). Rolls the deployment back.`,
  });
  if (judged) return [unhealthy];
  return [
    errorRate.createAlarm(scope, `${color}ErrorRateAlarm`, {
      ...common,
      alarmName: `${namePrefix}-${color}-5xxRate`,
      threshold: s.errorRatePercent,
      alarmDescription: `${color} target group: more than ${s.errorRatePercent}% of requests get a 5xx from the tasks (${window}). Rolls the deployment back.`,
    }),
    tg.metrics.targetResponseTime({ period, statistic: 'p99' }).createAlarm(scope, `${color}LatencyAlarm`, {
      ...common,
      alarmName: `${namePrefix}-${color}-p99Latency`,
      threshold: s.p99LatencyMs / 1000, // TargetResponseTime is in seconds
      alarmDescription: `${color} target group: p99 response time above ${s.p99LatencyMs} ms (${window}). Rolls the deployment back.`,
    }),
    unhealthy,
  ];
}

/** The load balancer 5xx alarm judges a period only with at least this many requests. */
const ELB_MIN_REQUESTS = 10;

/** The load balancer's own 5xx rate (502/503/504 when no target answers), with at least a few requests a period. */
export function loadBalancerErrorsAlarm(
  scope: Construct,
  loadBalancer: elbv2.ApplicationLoadBalancer,
  s: AlarmSettings,
  namePrefix: string,
): cloudwatch.Alarm {
  const period = Duration.seconds(s.periodSeconds);
  return new cloudwatch.MathExpression({
    expression: `IF(requests >= ${ELB_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
    usingMetrics: {
      errors: loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' }),
      requests: loadBalancer.metrics.requestCount({ period, statistic: 'Sum' }),
    },
    period,
    label: 'Load balancer 5xx rate (%)',
  }).createAlarm(scope, 'LoadBalancerErrorsAlarm', {
    alarmName: `${namePrefix}-Elb5xxRate`,
    threshold: s.errorRatePercent,
    evaluationPeriods: s.evaluationPeriods,
    datapointsToAlarm: s.datapointsToAlarm,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `More than ${s.errorRatePercent}% of the requests to the load balancer get a 5xx it generates itself (no healthy target, a timeout), which no target group counts. Rolls the deployment back.`,
  });
}
