import { Annotations, Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { IConstruct } from 'constructs';
import type { TrafficShift } from '../../config/schema';
import { CUSTOM_RESOURCE_MAX_MINUTES } from '../canary-ecs-service/ecs-deployment';

/** CodeDeploy's longest canary or linear step (a time-based routing interval): 2 days. */
export const MAX_SHIFT_INTERVAL_MINUTES = 2880;

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

/** Minutes CodeDeploy takes to move all traffic: one canary step, or every linear step but the last. */
export function shiftMinutes(shift: TrafficShift): number {
  switch (shift.type) {
    case 'all-at-once':
      return 0;
    case 'canary':
      return shift.intervalMinutes;
    case 'linear':
      return (Math.ceil(100 / shift.percent) - 1) * shift.intervalMinutes;
  }
}

/**
 * What an ECS deployment needs besides the traffic shift before the deployment resource can report
 * (allowances, not AWS bounds): starting the new tasks and passing the target group's health
 * checks, the AfterAllowTestTraffic hook, CodeDeploy's and the waiter's polling.
 */
export const ECS_DEPLOYMENT_ALLOWANCE_MINUTES = 15;

/** A problem when an ECS shift cannot finish within the deployment resource's wait, else undefined. */
export function ecsShiftProblem(shift: TrafficShift, maxWaitMinutes: number): string | undefined {
  const minutes = shiftMinutes(shift);
  if (shift.type === 'all-at-once' || minutes + ECS_DEPLOYMENT_ALLOWANCE_MINUTES <= maxWaitMinutes) return undefined;
  const most = maxWaitMinutes - ECS_DEPLOYMENT_ALLOWANCE_MINUTES;
  const fix =
    shift.type === 'canary'
      ? `use intervalMinutes of at most ${most}`
      : `use at most ${most} minutes of shifting, e.g. intervalMinutes ${Math.max(1, Math.floor(most / (Math.ceil(100 / shift.percent) - 1)))} at ${shift.percent}%`;
  return (
    `${shift.type} ${shift.percent}% every ${shift.intervalMinutes} min shifts traffic for ${minutes} min; with ${ECS_DEPLOYMENT_ALLOWANCE_MINUTES} min to start tasks and run the test hook ` +
    `that is ${minutes + ECS_DEPLOYMENT_ALLOWANCE_MINUTES} min, and CloudFormation waits at most ${CUSTOM_RESOURCE_MAX_MINUTES} min for the deployment resource (${maxWaitMinutes} used): ${fix}`
  );
}
