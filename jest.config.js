const os = require('node:os');

/** Type-checking happens once, in `npm test`'s `tsc --noEmit`; jest only transpiles (isolatedModules). */
module.exports = {
  testEnvironment: 'node',
  // services/ holds the team's own services: their unit tests run in `npm test`, and so in the pipeline.
  roots: ['<rootDir>/test', '<rootDir>/services'],
  testMatch: ['**/*.test.ts', '**/*.test.js'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', {}],
  },
  setupFiles: ['<rootDir>/test/support/quiet-logs.ts'],
  // CDK's creation stack traces skip jest's source mapping (about a tenth of the suite's time).
  setupFilesAfterEnv: ['<rootDir>/test/support/cheap-stack-captures.ts'],
  snapshotSerializers: ['<rootDir>/test/asset-hash-serializer.ts'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out', '<rootDir>/services/.*/node_modules'],
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
  testTimeout: 60000,
  // jest's default is cores - 1: one worker on a 2-core laptop or runner. Two there (measured 76 s -> 49 s
  // for the suite), cores - 1 on bigger machines (CodeBuild MEDIUM has 4 vCPUs).
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  // Kept in the repo's .cache/ so the pipeline's CodeBuild cache carries it from build to build.
  cacheDirectory: '<rootDir>/.cache/jest',
};
