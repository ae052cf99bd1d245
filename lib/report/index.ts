export * from './readiness';
export * from './simulated';
