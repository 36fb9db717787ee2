/**
 * Browser side of the kernel tests: runs a WGSL kernel on fresh random inputs, runs the CPU
 * reference on the same inputs in the page, and returns the comparison for Node to assert on.
 */
import { GpuContext, matmul } from '@swarmgrad/gpu-shaders';
import { allclose, matmulForward, randomUniform } from '@swarmgrad/peer-core/reference';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

const api = {
  async adapterInfo() {
    const ctx = await context();
    const i = ctx.adapterInfo;
    return { vendor: i?.vendor, architecture: i?.architecture, description: i?.description };
  },
  async matmul(seed: number, M: number, K: number, N: number, opts: { transA?: boolean; transB?: boolean; bias?: boolean; accumulate?: boolean }) {
    const ctx = await context();
    const a = randomUniform(M * K, seed);
    const b = randomUniform(K * N, seed + 1);
    const bias = opts.bias ? randomUniform(N, seed + 2) : null;
    const out0 = opts.accumulate ? randomUniform(M * N, seed + 3) : new Float32Array(M * N);
    const ref = out0.slice();
    matmulForward(ref, a, b, bias, { M, K, N, transA: opts.transA, transB: opts.transB }, !!opts.accumulate);
    const out = ctx.buffer(out0);
    await matmul(ctx, { M, K, N, transA: opts.transA, transB: opts.transB, accumulate: opts.accumulate, a: ctx.buffer(a), b: ctx.buffer(b), bias: bias ? ctx.buffer(bias) : undefined, out });
    const got = await ctx.readFloat32(out, M * N);
    return allclose(got, ref, { atol: 1e-4, rtol: 1e-4 });
  },
  async matmulBadShape() {
    const ctx = await context();
    try {
      await matmul(ctx, { M: 4, K: 4, N: 4, a: ctx.buffer(8), b: ctx.buffer(64), out: ctx.buffer(64) });
      return 'no error';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  },
};

declare global {
  interface Window {
    swarmgradTest: typeof api;
  }
}
window.swarmgradTest = api;
