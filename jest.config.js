/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // The browser suite runs on its own (`npm run test:browser`, jest.browser.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'],
  testTimeout: 30000,
  // Type-checking is tsc's job (npm run build); jest only transpiles, which keeps decorator metadata.

};
