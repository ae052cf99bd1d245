export * from './agent';
export * from './application';
export * from './feature-flags';
export * from './rollout';
export * from './document';
export * from './flag-types';
export * from './schema';
