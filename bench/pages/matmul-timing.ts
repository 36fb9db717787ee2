/**
 * Matmul timing shared by the headless bench page (`npm run bench -- kernels`) and the Node +
 * Dawn script for real GPUs (bench/gpu/matmul.ts): our WGSL matmul and tfjs-webgpu's matmul,
 * timed the same way — batches of back-to-back n×n×n products submitted together, then one
 * wait for the queue — until `minMs` has passed. Returns GFLOP/s (2n³ per product).
 *
 * Not here: page plumbing or result formatting.
 */
import { encodeMatmul, type GpuContext, type MatmulVariant } from '@swarmgrad/gpu-shaders';
import { randomUniform } from '@swarmgrad/peer-core/reference';
import type * as TF from '@tensorflow/tfjs-core';

export interface Timing {
  gflops: number;
  /** Seconds per product. */
  seconds: number;
  reps: number;
}

async function timeBatches(runBatch: (reps: number) => Promise<void>, minMs: number): Promise<{ seconds: number; reps: number }> {
  await runBatch(1); // warm-up: pipeline compilation, first-touch allocation
  let batch = 1;
  // Grow the batch until one takes >= minMs/8, so that per-submit latency is amortised.
  for (;;) {
    const t0 = performance.now();
    await runBatch(batch);
    const ms = performance.now() - t0;
    if (ms >= minMs / 8 || batch >= 256) break;
    batch = Math.min(256, batch * Math.max(2, Math.ceil(minMs / 8 / Math.max(ms, 0.01))));
  }
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    await runBatch(batch);
    reps += batch;
  }
  return { seconds: (performance.now() - t0) / 1000 / reps, reps };
}

/** Our matmul on an arbitrary shape (fresh buffers of the packed sizes); TFLOP/s-ready timing. */
export async function timeMatmulShape(
  ctx: GpuContext,
  shape: { M: number; K: number; N: number; transA?: boolean; transB?: boolean; splitK?: number },
  minMs: number,
  variant: MatmulVariant = 'auto',
): Promise<Timing> {
  const { M, K, N } = shape;
  const a = ctx.buffer(M * K * 4);
  const b = ctx.buffer(K * N * 4);
  const out = ctx.buffer(M * N * 4);
  try {
    const { seconds, reps } = await timeBatches(async (k) => {
      await ctx.checked('matmul bench', () => {
        const enc = ctx.device.createCommandEncoder();
        for (let i = 0; i < k; i++) encodeMatmul(ctx, enc, { ...shape, a, b, out, variant, accumulate: true });
        ctx.device.queue.submit([enc.finish()]);
      });
      await ctx.device.queue.onSubmittedWorkDone();
    }, minMs);
    return { gflops: (2 * M * K * N) / seconds / 1e9, seconds, reps };
  } finally {
    a.destroy();
    b.destroy();
    out.destroy();
  }
}

/** Our matmul (variant `auto` unless given) on n×n×n. */
export async function timeOurMatmul(ctx: GpuContext, n: number, minMs: number, variant: MatmulVariant = 'auto'): Promise<Timing> {
  const a = ctx.buffer(randomUniform(n * n, 1));
  const b = ctx.buffer(randomUniform(n * n, 2));
  const out = ctx.buffer(n * n * 4);
  try {
    const { seconds, reps } = await timeBatches(async (k) => {
      await ctx.checked('matmul bench', () => {
        const enc = ctx.device.createCommandEncoder();
        for (let i = 0; i < k; i++) encodeMatmul(ctx, enc, { M: n, K: n, N: n, a, b, out, variant });
        ctx.device.queue.submit([enc.finish()]);
      });
      await ctx.device.queue.onSubmittedWorkDone();
    }, minMs);
    return { gflops: (2 * n ** 3) / seconds / 1e9, seconds, reps };
  } finally {
    a.destroy();
    b.destroy();
    out.destroy();
  }
}

/** Options of the fixed-repetition runners. */
export interface FixedInit {
  /** One untimed product first (default true); the caller may warm up at a smaller size instead. */
  warmup?: boolean;
  /** Ours on n×n×n: spot-check this many entries of the last product (as spotCheckMatmul). */
  check?: number;
}

/**
 * Exactly `reps` products of ours (for sizes too slow for a timing window, e.g. 4096 under
 * SwiftShader), submitted together; `ms` is their wall-clock time. `shape` is n for n×n×n
 * (inputs as in spotCheckMatmul), or any shape (inputs then left zero).
 */
export async function runOurFixed(
  ctx: GpuContext,
  shape: number | { M: number; K: number; N: number; transA?: boolean; transB?: boolean },
  reps: number,
  variant: MatmulVariant = 'auto',
  init: FixedInit = {},
): Promise<{ ms: number; gflops: number; worst?: number }> {
  const s = typeof shape === 'number' ? { M: shape, K: shape, N: shape } : shape;
  const A = typeof shape === 'number' ? randomUniform(shape * shape, 1) : null;
  const B = typeof shape === 'number' ? randomUniform(shape * shape, 2) : null;
  const a = A ? ctx.buffer(A) : ctx.buffer(s.M * s.K * 4);
  const b = B ? ctx.buffer(B) : ctx.buffer(s.K * s.N * 4);
  const out = ctx.buffer(s.M * s.N * 4);
  const batch = async (k: number) => {
    await ctx.checked('matmul bench', () => {
      const enc = ctx.device.createCommandEncoder();
      for (let i = 0; i < k; i++) encodeMatmul(ctx, enc, { ...s, a, b, out, variant });
      ctx.device.queue.submit([enc.finish()]);
    });
    await ctx.device.queue.onSubmittedWorkDone();
  };
  try {
    if (init.warmup ?? true) await batch(1);
    const t0 = performance.now();
    await batch(reps);
    const ms = performance.now() - t0;
    const worst = init.check && A && B ? spotWorst(A, B, await ctx.readFloat32(out, s.M * s.N), s.M, init.check) : undefined;
    return { ms, gflops: (2 * s.M * s.K * s.N * reps) / (ms / 1000) / 1e9, worst };
  } finally {
    a.destroy();
    b.destroy();
    out.destroy();
  }
}

/** tfjs-webgpu's tf.matMul, `reps` products after one warm-up, as `runOurFixed`. */
export async function runTfjsFixed(tf: typeof TF, n: number, reps: number, init: FixedInit = {}): Promise<{ ms: number; gflops: number }> {
  const a = tf.tensor2d(randomUniform(n * n, 1), [n, n]);
  const b = tf.tensor2d(randomUniform(n * n, 2), [n, n]);
  const batch = async (k: number) => {
    for (let i = 0; i < k - 1; i++) tf.matMul(a, b).dispose();
    const last = tf.matMul(a, b);
    const corner = tf.slice(last, [0, 0], [1, 1]);
    await corner.data();
    corner.dispose();
    last.dispose();
  };
  try {
    if (init.warmup ?? true) await batch(1);
    const t0 = performance.now();
    await batch(reps);
    const ms = performance.now() - t0;
    return { ms, gflops: (2 * n ** 3 * reps) / (ms / 1000) / 1e9 };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * tfjs-webgpu's tf.matMul on n×n×n (the backend must already be 'webgpu'). tfjs owns its
 * command encoder, so a batch ends the tfjs way: read back one element of the last product
 * (a 1×1 slice), which flushes tfjs's queue and waits for it.
 */
export async function timeTfjsMatmul(tf: typeof TF, n: number, minMs: number): Promise<Timing> {
  const a = tf.tensor2d(randomUniform(n * n, 1), [n, n]);
  const b = tf.tensor2d(randomUniform(n * n, 2), [n, n]);
  try {
    const { seconds, reps } = await timeBatches(async (k) => {
      for (let i = 0; i < k - 1; i++) tf.matMul(a, b).dispose();
      const last = tf.matMul(a, b);
      const corner = tf.slice(last, [0, 0], [1, 1]);
      await corner.data();
      corner.dispose();
      last.dispose();
    }, minMs);
    return { gflops: (2 * n ** 3) / seconds / 1e9, seconds, reps };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * Spot-check our matmul at size n against float64 dot products on `samples` random entries;
 * returns the worst |got-ref| / (1e-3 * sqrt(n) + 1e-3 |ref|) (<= 1 is fine).
 */
export async function spotCheckMatmul(ctx: GpuContext, n: number, samples = 64, variant: MatmulVariant = 'auto'): Promise<number> {
  const A = randomUniform(n * n, 1);
  const B = randomUniform(n * n, 2);
  const a = ctx.buffer(A);
  const b = ctx.buffer(B);
  const out = ctx.buffer(n * n * 4);
  await ctx.checked('matmul spot check', () => {
    const enc = ctx.device.createCommandEncoder();
    encodeMatmul(ctx, enc, { M: n, K: n, N: n, a, b, out, variant });
    ctx.device.queue.submit([enc.finish()]);
  });
  const got = await ctx.readFloat32(out, n * n);
  a.destroy();
  b.destroy();
  out.destroy();
  return spotWorst(A, B, got, n, samples);
}

/** Worst |got-ref| / (1e-3 * sqrt(n) + 1e-3 |ref|) over `samples` entries of got = A·B (n×n). */
function spotWorst(A: Float32Array, B: Float32Array, got: Float32Array, n: number, samples: number): number {
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    const i = Math.floor((s * 7919 * n + s * 104729) % n);
    const j = Math.floor((s * 15485863) % n);
    let acc = 0;
    for (let k = 0; k < n; k++) acc += A[i * n + k]! * B[k * n + j]!;
    const err = Math.abs(got[i * n + j]! - acc) / (1e-3 * Math.sqrt(n) + 1e-3 * Math.abs(acc));
    worst = Math.max(worst, Number.isNaN(err) ? Number.POSITIVE_INFINITY : err);
  }
  return worst;
}
