import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import type { AlarmSettings } from '../shared/alarm-settings';

/** What the ECS service dashboard shows. */
export interface EcsDashboardProps {
  readonly dashboardName: string;
  readonly settings: AlarmSettings;
  readonly targetGroups: ReadonlyArray<readonly [string, elbv2.ApplicationTargetGroup]>;
  readonly service: ecs.FargateService;
  /** The composite first, then the alarms that roll a deployment back. */
  readonly alarms: cloudwatch.IAlarm[];
  /** The 5xx-rate alarms, whose metric math the dashboard plots. */
  readonly errorRateAlarms: cloudwatch.Alarm[];
}

/** Requests, 5xx rate, p99 and task health per target group, service CPU/memory, and alarm states. */
export function ecsServiceDashboard(scope: Construct, id: string, props: EcsDashboardProps): cloudwatch.Dashboard {
  const s = props.settings;
  const period = Duration.seconds(s.periodSeconds);
  const tgs = props.targetGroups;
  const dashboard = new cloudwatch.Dashboard(scope, id, { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms (any one rolls a deployment back)', alarms: props.alarms, width: 24 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Requests per target group',
      left: tgs.map(([c, tg]) => tg.metrics.requestCount({ period, statistic: 'Sum', label: c })),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Target 5xx rate (%)',
      left: props.errorRateAlarms.map((a) => a.metric),
      leftAnnotations: [{ value: s.errorRatePercent, label: 'alarm threshold' }],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'p99 target response time (s)',
      left: tgs.map(([c, tg]) => tg.metrics.targetResponseTime({ period, statistic: 'p99', label: c })),
      leftAnnotations: [{ value: s.p99LatencyMs / 1000, label: 'alarm threshold' }],
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Healthy / unhealthy tasks',
      left: tgs.map(([c, tg]) => tg.metrics.healthyHostCount({ period, statistic: 'Minimum', label: `${c} healthy` })),
      right: tgs.map(([c, tg]) => tg.metrics.unhealthyHostCount({ period, statistic: 'Maximum', label: `${c} unhealthy` })),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Service CPU / memory (%)',
      left: [props.service.metricCpuUtilization({ period }), props.service.metricMemoryUtilization({ period })],
      width: 12,
    }),
  );
  return dashboard;
}
