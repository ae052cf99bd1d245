import { Annotations, Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { IConstruct } from 'constructs';
import type { TrafficShift } from '../../config/schema';

/** Id of the synth warning below; acknowledge it with `Annotations.of(stack).acknowledgeWarning(...)`. */
export const CANARY_SHORTER_THAN_ALARMS = 'safe-deploy:canary-shorter-than-alarms';

/**
 * The CodeDeploy traffic routing of a stage's traffic shift, the same for Lambda and ECS:
 * a time-based canary or linear routing, or `undefined` for all-at-once (use the service's
 * predefined ALL_AT_ONCE config then).
 */
export function trafficRoutingFor(shift: TrafficShift): codedeploy.TrafficRouting | undefined {
  switch (shift.type) {
    case 'all-at-once':
      return undefined;
    case 'canary':
      return codedeploy.TrafficRouting.timeBasedCanary({ percentage: shift.percent, interval: Duration.minutes(shift.intervalMinutes) });
    case 'linear':
      return codedeploy.TrafficRouting.timeBasedLinear({ percentage: shift.percent, interval: Duration.minutes(shift.intervalMinutes) });
  }
}

/**
 * CodeDeploy watches alarms only while the deployment runs. A canary step shorter than the alarms'
 * worst-case detection time lets a bad release reach 100% before they can fire: warn at synth.
 */
export function warnIfCanaryOutrunsAlarms(scope: IConstruct, shift: TrafficShift, detectionSeconds: number): void {
  if (shift.type === 'all-at-once') return;
  if (shift.intervalMinutes * 60 < detectionSeconds) {
    Annotations.of(scope).addWarningV2(
      CANARY_SHORTER_THAN_ALARMS,
      `deployment.intervalMinutes ${shift.intervalMinutes} is shorter than the alarms' worst-case detection time (${detectionSeconds} s): a bad version may take all traffic before its alarm fires. Use intervalMinutes >= ${Math.ceil(detectionSeconds / 60)} or faster alarms.`,
    );
  }
}
