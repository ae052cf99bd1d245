export * from './rollout';
export * from './schema';
