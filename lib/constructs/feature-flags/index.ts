export * from './agent';
export * from './feature-flags';
export * from './rollout';
export * from './schema';
