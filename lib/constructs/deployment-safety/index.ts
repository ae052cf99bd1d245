export * from './deployment-safety';
export * from './gate-reader-role';
export * from './names';
export * from './limits';
