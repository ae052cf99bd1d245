export * from './canary-ecs-service';
export * from './ecs-deployment';
export { DEFAULT_CONTAINER_USER, DEFAULT_EXECUTION_ROLE_PATH } from './task-definition';
export * from './test-traffic-hook';
export * from './traffic-check-hook';
export { DEFAULT_ALARM_SETTINGS, resolveAlarmSettings, worstCaseDetectionSeconds } from '../shared/alarm-settings';
export type { AlarmSettings } from '../shared/alarm-settings';
