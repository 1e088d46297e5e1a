/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testTimeout: 30000,
  // Type-checking is tsc's job (npm run build); jest only transpiles, which keeps decorator metadata.

};
