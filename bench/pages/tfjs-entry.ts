/**
 * Entry of the tfjs bundle the kernels bench page loads: tfjs-core with the webgpu backend
 * registered. tfjs ships CommonJS dependencies that the page server does not pre-bundle, so
 * bench/suites/kernels.ts bundles this file with esbuild into bench/pages/dist/tfjs.js
 * (git-ignored) before opening the page.
 */
import '@tensorflow/tfjs-backend-webgpu';

export * from '@tensorflow/tfjs-core';
