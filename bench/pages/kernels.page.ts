/**
 * Browser side of `npm run bench -- kernels`: times kernels in this page, side by side with
 * their anchors, and returns raw timings to the Node runner.
 */
import { GpuContext, encodeMatmul } from '@swarmgrad/gpu-shaders';
import { matmulForward, randomUniform } from '@swarmgrad/peer-core/reference';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

async function timeGpu(ctx: GpuContext, record: (enc: GPUCommandEncoder) => Promise<void>, minMs: number): Promise<number> {
  // Warm-up (compiles the pipeline), then repeat until minMs has passed; seconds per call.
  let enc = ctx.device.createCommandEncoder();
  await record(enc);
  ctx.device.queue.submit([enc.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  let iters = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    enc = ctx.device.createCommandEncoder();
    await record(enc);
    ctx.device.queue.submit([enc.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
    iters++;
  }
  return (performance.now() - t0) / 1000 / iters;
}

const api = {
  async adapter() {
    const ctx = await context();
    return `${ctx.adapterInfo?.vendor ?? '?'} ${ctx.adapterInfo?.architecture ?? ''} ${ctx.adapterInfo?.description ?? ''}`.trim();
  },
  /** GFLOP/s of our WGSL matmul on n×n×n. */
  async matmulOurs(n: number, minMs = 1000) {
    const ctx = await context();
    const a = ctx.buffer(randomUniform(n * n, 1));
    const b = ctx.buffer(randomUniform(n * n, 2));
    const out = ctx.buffer(n * n * 4);
    const s = await timeGpu(ctx, (enc) => encodeMatmul(ctx, enc, { M: n, K: n, N: n, a, b, out }), minMs);
    a.destroy(); b.destroy(); out.destroy();
    return (2 * n ** 3) / s / 1e9;
  },
  /** GFLOP/s of the plain TypeScript reference on n×n×n (CPU, single thread). */
  matmulReference(n: number) {
    const a = randomUniform(n * n, 1);
    const b = randomUniform(n * n, 2);
    const out = new Float32Array(n * n);
    const t0 = performance.now();
    matmulForward(out, a, b, null, { M: n, K: n, N: n });
    return (2 * n ** 3) / ((performance.now() - t0) / 1000) / 1e9;
  },
};

declare global {
  interface Window {
    swarmgradBench: typeof api;
  }
}
window.swarmgradBench = api;
