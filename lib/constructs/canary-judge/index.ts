export * from './canary-judge';
export * from './power';
export * from './settings';
export * from './traffic';
