export * from './safety-policy';
export * from './stage-type';
