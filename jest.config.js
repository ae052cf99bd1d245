/** Type-checking happens once, in `npm test`'s `tsc --noEmit`; jest only transpiles (isolatedModules). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/container'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', {}],
  },
  snapshotSerializers: ['<rootDir>/test/asset-hash-serializer.ts'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out'],
  testTimeout: 60000,
};
