export * from './canary-judge';
export { conditionalPoissonZ, num } from './metric-math';
export * from './power';
export * from './settings';
export * from './traffic';
