export * from './format';
export * from './hand-model';
export * from './readiness';
export * from './simulated';
export * from './types';
