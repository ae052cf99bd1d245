export * from './alarm-settings';
export * from './canary-ecs-service';
export * from './ecs-deployment';
