/**
 * `npm run test:browser`: the web app driven in Debian's Chromium (test/browser), kept out of `npm test`, which
 * CI runs four times; one run of these is enough and they need a browser.
 * @type {import('jest').Config}
 */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/browser'],
  testTimeout: 60000,
  // One browser at a time: the machine is small and the scenarios are timing-sensitive.
  maxWorkers: 1,
};
