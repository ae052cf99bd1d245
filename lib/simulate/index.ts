export * from './alarms';
export * from './evaluate';
export * from './experiment';
export * from './metric-math';
export * from './random';
export * from './report';
export * from './stacks';
export * from './traffic';
