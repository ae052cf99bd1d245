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
  snapshotSerializers: ['<rootDir>/test/asset-hash-serializer.ts'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out', '<rootDir>/services/.*/node_modules'],
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
  testTimeout: 60000,
  // Two workers on the two cores here and in CodeBuild MEDIUM (jest's default is cores - 1).
  maxWorkers: 2,
  // Kept in the repo's .cache/ so the pipeline's CodeBuild cache carries it from build to build.
  cacheDirectory: '<rootDir>/.cache/jest',
};
