import type * as cdk from 'aws-cdk-lib';
import type { AlarmOverrides, TrafficShift } from '../config/schema';

/** What every canary-deployed service stack takes from its stage's config. */
export interface CanaryServiceStackProps extends cdk.StackProps {
  /** How CodeDeploy shifts traffic from the running release to the new one. */
  readonly deployment: TrafficShift;
  /** Alarm threshold overrides. @default - DEFAULT_ALARM_SETTINGS (lib/constructs/shared/alarm-settings) */
  readonly alarms?: AlarmOverrides;
}
