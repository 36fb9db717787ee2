/**
 * One Vite config for the repository:
 *  - builds and serves the web app in web/ (output web/dist, served by the relay);
 *  - defines the Vitest projects behind `npm run test:unit|test:browser|test:e2e`.
 * WGSL files import as text through scripts/wgsl-plugin.ts everywhere.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { wgslText } from './scripts/wgsl-plugin.ts';
import { corpora } from './web/vite-corpora.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: `${root}web`,
  plugins: [wgslText(), svelte({ configFile: false }), corpora()],
  build: { outDir: `${root}web/dist`, emptyOutDir: true, target: 'es2023' },
  // Web Workers (the app's training worker) are bundled separately: they need the WGSL loader too.
  worker: { format: 'es', plugins: () => [wgslText()] },
  server: { host: 'localhost', fs: { allow: [root] } },
  test: {
    root,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          root,
          environment: 'node',
          include: ['{gpu-shaders,wasm,peer-core,relay,web}/test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          root,
          environment: 'node',
          include: ['test/browser/**/*.test.ts'],
          // Swarm scenarios of the web app need WebRTC: they run in the e2e layer (netns).
          exclude: ['test/browser/**/*.e2e.test.ts'],
          // One Chromium at a time: SwiftShader WebGPU is CPU-bound on 2 cores.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          root,
          environment: 'node',
          include: ['test/e2e/**/*.test.ts', 'test/browser/**/*.e2e.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
