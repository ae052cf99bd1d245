import type * as cdk from 'aws-cdk-lib';
import type { AlarmOverrides, TrafficShift } from '../config/schema';

/** What every canary-deployed service stack takes from its stage's config. */
export interface CanaryServiceStackProps extends cdk.StackProps {
  /** How CodeDeploy shifts traffic from the running release to the new one. */
  readonly deployment: TrafficShift;
  /** Alarm threshold overrides. @default - DEFAULT_ALARM_SETTINGS (lib/constructs/shared/alarm-settings) */
  readonly alarms?: AlarmOverrides;
}

/**
 * Extends a service stack: `extend(stack)` runs after the service is built, so a team can add what
 * the config does not offer (a queue, a table, grants, more alarms through `service.addAlarm`).
 */
export type ServiceExtension<S> = (stack: S) => void;
