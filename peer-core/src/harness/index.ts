/**
 * Node-only harness: launch headless Chromium and serve pages from localhost.
 * Import as `@swarmgrad/peer-core/harness`; never from browser code.
 */
export * from './browser.ts';
export * from './errors.ts';
export * from './pages.ts';
export * from './swarm.ts';
export * from './test-page.ts';
