/**
 * The volunteer's short self-benchmark: how many GFLOP/s this browser sustains on a matmul,
 * the op that dominates training.
 *  - WebGPU: the project's tiled WGSL matmul (`@swarmgrad/gpu-shaders`), `reps` matmuls
 *    encoded into one submission, timed to queue completion after one warm-up (which also
 *    compiles the pipeline). A few output entries are checked against a CPU dot product so a
 *    broken kernel never reports a speed.
 *  - No WebGPU: the plain TypeScript reference matmul (`@swarmgrad/peer-core/reference`),
 *    the CPU path this page would train on.
 * Numbers are measured here, never assumed; the size is small so it takes about a second
 * even on SwiftShader (CPU WebGPU).
 */
import { encodeMatmul, GpuContext } from '@swarmgrad/gpu-shaders';
import { matmulForward, randomUniform } from '@swarmgrad/peer-core/reference';

export interface BenchmarkResult {
  backend: 'webgpu' | 'cpu';
  /** What ran, for the UI: "WGSL matmul 256×256×256". */
  kernel: string;
  gflops: number;
  /** Matmuls timed. */
  reps: number;
  seconds: number;
  /** Largest |gpu - cpu| over the checked entries (webgpu only). */
  maxError?: number;
}

export class BenchmarkCheckError extends Error {
  override name = 'BenchmarkCheckError';
}

function dot(a: Float32Array, b: Float32Array, m: number, n: number, K: number, N: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += a[m * K + k]! * b[k * N + n]!;
  return s;
}

export async function benchmarkWebGpu(ctx: GpuContext, size = 256, budgetMs = 600): Promise<BenchmarkResult> {
  const M = size;
  const K = size;
  const N = size;
  const a = randomUniform(M * K, 1);
  const b = randomUniform(K * N, 2);
  const bufA = ctx.buffer(a);
  const bufB = ctx.buffer(b);
  const out = ctx.buffer(M * N * 4);
  const run = async (reps: number) => {
    const enc = ctx.device.createCommandEncoder();
    for (let i = 0; i < reps; i++) await encodeMatmul(ctx, enc, { M, K, N, a: bufA, b: bufB, out });
    const t0 = performance.now();
    ctx.device.queue.submit([enc.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000;
  };
  try {
    const warm = await ctx.checked('benchmark warm-up', () => run(1));
    const got = await ctx.readFloat32(out, M * N);
    let maxError = 0;
    for (let i = 0; i < 16; i++) {
      const m = (i * 37) % M;
      const n = (i * 91) % N;
      const ref = dot(a, b, m, n, K, N);
      const err = Math.abs(got[m * N + n]! - ref);
      maxError = Math.max(maxError, err);
      if (!(err <= 1e-3 + 1e-3 * Math.abs(ref))) throw new BenchmarkCheckError(`WGSL matmul gave ${got[m * N + n]} at (${m},${n}), expected ${ref}`);
    }
    const reps = Math.max(2, Math.min(64, Math.floor((budgetMs / 1000) / Math.max(warm, 1e-4))));
    const seconds = await run(reps);
    return { backend: 'webgpu', kernel: `WGSL matmul ${M}×${K}×${N}`, gflops: (2 * M * K * N * reps) / seconds / 1e9, reps, seconds, maxError };
  } finally {
    bufA.destroy();
    bufB.destroy();
    out.destroy();
  }
}

export function benchmarkCpu(size = 96, budgetMs = 400): BenchmarkResult {
  const M = size;
  const a = randomUniform(M * M, 1);
  const b = randomUniform(M * M, 2);
  const out = new Float32Array(M * M);
  matmulForward(out, a, b, null, { M, K: M, N: M }); // warm-up (JIT)
  let reps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs || reps < 2) {
    matmulForward(out, a, b, null, { M, K: M, N: M });
    reps++;
    elapsed = performance.now() - t0;
  }
  const seconds = elapsed / 1000;
  return { backend: 'cpu', kernel: `TypeScript matmul ${M}×${M}×${M}`, gflops: (2 * M * M * M * reps) / seconds / 1e9, reps, seconds };
}

/** WebGPU when it works, else the CPU path; `gpuError` says why WebGPU was not used. */
export async function runBenchmark(useGpu: boolean): Promise<BenchmarkResult & { gpuError?: string }> {
  if (useGpu) {
    try {
      const ctx = await GpuContext.create();
      try {
        return await benchmarkWebGpu(ctx);
      } finally {
        ctx.device.destroy();
      }
    } catch (e) {
      return { ...benchmarkCpu(), gpuError: `${(e as Error).name}: ${(e as Error).message}` };
    }
  }
  return benchmarkCpu();
}
