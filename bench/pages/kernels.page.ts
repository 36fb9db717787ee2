/**
 * Browser side of `npm run bench -- kernels`: our WGSL matmul and tfjs-webgpu 4.22's matmul
 * (tfjs on its 'webgpu' backend, in this same page and on the same adapter), timed side by
 * side; returns GFLOP/s to the Node runner.
 */
import { GpuContext, type MatmulVariant } from '@swarmgrad/gpu-shaders';
import type * as TF from '@tensorflow/tfjs-core';
import { type FixedInit, runOurFixed, runTfjsFixed, spotCheckMatmul, timeOurMatmul, timeTfjsMatmul } from './matmul-timing.ts';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

// tfjs-core + tfjs-backend-webgpu, bundled by the suite (see tfjs-entry.ts).
const TFJS_BUNDLE = './dist/tfjs.js';
let tf: typeof TF;
let tfReady: Promise<void> | undefined;
const tfjs = () =>
  (tfReady ??= (async () => {
    tf = (await import(/* @vite-ignore */ TFJS_BUNDLE)) as typeof TF;
    const ok = await tf.setBackend('webgpu');
    if (!ok || tf.getBackend() !== 'webgpu') throw new Error(`tfjs could not start its webgpu backend (got ${tf.getBackend()})`);
    await tf.ready();
  })());

const api = {
  async adapter() {
    const ctx = await context();
    return `${ctx.adapterInfo?.vendor ?? '?'} ${ctx.adapterInfo?.architecture ?? ''} ${ctx.adapterInfo?.description ?? ''}`.trim();
  },
  /** GFLOP/s of our WGSL matmul on n×n×n. */
  async matmulOurs(n: number, minMs = 1000, variant: MatmulVariant = 'auto') {
    return (await timeOurMatmul(await context(), n, minMs, variant)).gflops;
  },
  /** GFLOP/s of tfjs-webgpu's tf.matMul on n×n×n. */
  async matmulTfjs(n: number, minMs = 1000) {
    await tfjs();
    return (await timeTfjsMatmul(tf, n, minMs)).gflops;
  },
  /**
   * Exactly `reps` products of ours (variant) or tfjs ('tfjs') on n×n×n (ours: or a shape),
   * submitted together (runOurFixed / runTfjsFixed): wall-clock ms, GFLOP/s and, for ours with
   * `check`, the spot check of the last product.
   */
  async runFixed(n: number | { M: number; K: number; N: number; transA?: boolean; transB?: boolean }, reps: number, impl: MatmulVariant | 'tfjs', init: FixedInit = {}): Promise<{ ms: number; gflops: number; worst?: number }> {
    if (impl === 'tfjs') {
      if (typeof n !== 'number') throw new Error('runFixed: tfjs runs n×n×n only');
      await tfjs();
      return runTfjsFixed(tf, n, reps, init);
    }
    return runOurFixed(await context(), n, reps, impl, init);
  },
  async spotCheck(n: number, variant: MatmulVariant = 'auto') {
    return spotCheckMatmul(await context(), n, 16, variant);
  },
};

declare global {
  interface Window {
    swarmgradBench: typeof api;
  }
}
window.swarmgradBench = api;
