import type { AlarmOverrides } from '../../config/schema';
import { AlarmSettings, DEFAULT_ALARM_SETTINGS, resolveAlarmSettings, worstCaseDetectionSeconds } from '../shared/alarm-settings';

export * from './canary-ecs-service';
export * from './ecs-deployment';
export { DEFAULT_ALARM_SETTINGS, resolveAlarmSettings, worstCaseDetectionSeconds };
export type { AlarmSettings };

// Names this module exported before the settings were shared with CanaryLambdaService.
/** @deprecated use AlarmSettings (lib/constructs/shared/alarm-settings) */
export type EcsAlarmSettings = AlarmSettings;
/** @deprecated use DEFAULT_ALARM_SETTINGS (lib/constructs/shared/alarm-settings) */
export const DEFAULT_ECS_ALARM_SETTINGS = DEFAULT_ALARM_SETTINGS;
/** @deprecated use resolveAlarmSettings(overrides, 'CanaryEcsService') (lib/constructs/shared/alarm-settings) */
export function resolveEcsAlarmSettings(overrides?: AlarmOverrides): AlarmSettings {
  return resolveAlarmSettings(overrides, 'CanaryEcsService');
}
/** @deprecated use worstCaseDetectionSeconds (lib/constructs/shared/alarm-settings) */
export const worstCaseRollbackSeconds = worstCaseDetectionSeconds;
