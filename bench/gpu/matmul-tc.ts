/**
 * Real-GPU benchmark of the tensor-core matmul (gpu-shaders/src/matmul-tc, f16 operands, f32
 * accumulation) side by side with our fp32 matmul (`encodeMatmul`, variant auto) and
 * tfjs-webgpu 4.22's tf.matMul, in one process on one adapter (Node + Dawn). Prints one JSON
 * object per line. Before timing it checks correctness:
 *  - every variant × transA × transB × accumulate on small shapes (on the tile grid, off it,
 *    odd N; accumulate runs use the M-first workgroup order, the others N-first), all
 *    entries, against `matmulF16AccForward` (the f16-input, f32-accumulate reference) with
 *    atol + rtol·|ref|; a failed check makes the exit code 1;
 *  - at each timed size, sampled entries against the same reference (and, for context, the
 *    error against the fp32 product).
 *   npx esbuild bench/gpu/matmul-tc.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --outfile=.gpu-bundle/bench-matmul-tc.mjs "--banner:js=..." (see docs/BENCHMARKS.md)
 *   bash .gpu-bundle/run.sh .gpu-bundle/bench-matmul-tc.mjs [sizes] [tc variants]
 * Env: BENCH_MS (time per measurement, default 1000), SKIP_TFJS=1, SKIP_FP32=1,
 *   SHAPES="M,K,N,tA,tB;..." (also time these shapes: tensor-core auto in the default, M-first
 *   and N-first workgroup orders, and fp32 auto).
 */
import { gpu } from './dawn.ts';
import { GpuContext, MATMUL_TC_VARIANTS, type MatmulTcVariant, defaultOrder, encodeMatmulTc, tensorCoreSupport } from '@swarmgrad/gpu-shaders';
import { allclose, f16round, matmulF16AccForward, randomUniform } from '@swarmgrad/peer-core/reference';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { timeMatmulShape, timeOurMatmul, timeTfjsMatmul } from '../pages/matmul-timing.ts';

type TcVariant = Exclude<MatmulTcVariant, 'auto'>;
const sizes = (process.argv[2] ?? '1024,2048,4096').split(',').map(Number);
const variants = (process.argv[3] ?? MATMUL_TC_VARIANTS.join(',')).split(',') as TcVariant[];
const ms = Number(process.env.BENCH_MS ?? 1000);
const log = (o: unknown) => console.log(JSON.stringify(o));
let checksFailed = 0;

const ctx = await GpuContext.create({ gpu });
const info = ctx.adapterInfo;
const support = tensorCoreSupport(ctx);
log({ adapter: `${info?.vendor} ${info?.architecture} ${info?.description}`, features: [...ctx.features].filter((f) => /subgroup|f16/.test(f)), maxWorkgroupStorage: ctx.device.limits.maxComputeWorkgroupStorageSize, support });

async function runTc(
  args: { M: number; K: number; N: number; transA?: boolean; transB?: boolean; accumulate?: boolean; variant: TcVariant; order?: 'mFast' | 'nFast' },
  A: Float32Array,
  B: Float32Array,
  out0?: Float32Array,
): Promise<Float32Array> {
  const a = ctx.buffer(A);
  const b = ctx.buffer(B);
  const out = ctx.buffer(out0 ?? args.M * args.N * 4);
  try {
    await ctx.checked('matmul_tc', () => {
      const enc = ctx.device.createCommandEncoder();
      encodeMatmulTc(ctx, enc, { ...args, a, b, out });
      ctx.device.queue.submit([enc.finish()]);
    });
    return await ctx.readFloat32(out, args.M * args.N);
  } finally {
    a.destroy();
    b.destroy();
    out.destroy();
  }
}

/**
 * Full checks against the f16-input reference: a shape on every variant's tile grid, one off
 * it (edge tiles, K tail), and one with an odd N (every tile written through workgroup memory).
 */
async function checkSmall(variant: TcVariant): Promise<void> {
  const cases: Array<[number, number, number, boolean, boolean]> = [];
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      cases.push([256, 192, 256, transA, transB], [196, 100, 148, transA, transB]);
    }
  cases.push([150, 100, 131, false, true]);
  for (const [M, K, N, transA, transB] of cases)
    for (const accumulate of [false, true]) {
      const seed = 1000 + Math.floor(Math.random() * 1e6);
      const A = randomUniform(M * K, seed);
      const B = randomUniform(K * N, seed + 1);
      const O = randomUniform(M * N, seed + 2);
      const shape = { M, K, N, transA, transB };
      try {
        // Both workgroup orders are covered: M-first with accumulate, N-first without.
        const order = accumulate ? 'mFast' : 'nFast';
        const got = await runTc({ ...shape, accumulate, variant, order }, A, B, accumulate ? O : undefined);
        const ref = accumulate ? O.slice() : new Float32Array(M * N);
        matmulF16AccForward(ref, A, B, shape, accumulate);
        const r = allclose(got, ref, { atol: 1e-4, rtol: 1e-4 });
        if (!r.ok) checksFailed++;
        log({ check: 'tc-vs-f16ref', variant, transA, transB, accumulate, M, K, N, ...r });
      } catch (e) {
        checksFailed++;
        log({ check: 'tc-vs-f16ref', variant, transA, transB, accumulate, M, K, N, error: String(e) });
      }
    }
}

/** Sampled entries of an n³ product: worst error against the f16-input and the fp32 reference. */
async function spotCheck(n: number, variant: TcVariant, samples = 48): Promise<Record<string, number>> {
  const A = randomUniform(n * n, 11);
  const B = randomUniform(n * n, 12);
  const got = await runTc({ M: n, K: n, N: n, variant }, A, B);
  let worstF16 = 0;
  let maxAbsF16 = 0;
  let maxAbsF32 = 0;
  for (let s = 0; s < samples; s++) {
    const i = (s * 7919 + 13) % n;
    const j = (s * 104729 + 7) % n;
    let acc16 = 0;
    let acc64 = 0;
    for (let k = 0; k < n; k++) {
      acc16 = Math.fround(acc16 + f16round(A[i * n + k]!) * f16round(B[k * n + j]!));
      acc64 += A[i * n + k]! * B[k * n + j]!;
    }
    const g = got[i * n + j]!;
    const tol = 1e-4 + 1e-4 * Math.abs(acc16);
    worstF16 = Math.max(worstF16, Number.isNaN(g) ? Number.POSITIVE_INFINITY : Math.abs(g - acc16) / tol);
    maxAbsF16 = Math.max(maxAbsF16, Math.abs(g - acc16));
    maxAbsF32 = Math.max(maxAbsF32, Math.abs(g - acc64));
  }
  return { worstF16, maxAbsErrVsF16Ref: maxAbsF16, maxAbsErrVsFp32: maxAbsF32 };
}

interface Shape {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  order?: 'mFast' | 'nFast';
}

/** TFLOP/s of `encodeMatmulTc` on `shape` (fresh random inputs), batches of back-to-back products. */
async function timeTc(shape: Shape, variant: MatmulTcVariant, minMs = ms): Promise<{ tflops: number; reps: number }> {
  const { M, K, N } = shape;
  const a = ctx.buffer(randomUniform(M * K, 1));
  const b = ctx.buffer(randomUniform(K * N, 2));
  const out = ctx.buffer(M * N * 4);
  const batch = async (k: number) => {
    await ctx.checked('matmul_tc bench', () => {
      const enc = ctx.device.createCommandEncoder();
      for (let i = 0; i < k; i++) encodeMatmulTc(ctx, enc, { ...shape, a, b, out, variant });
      ctx.device.queue.submit([enc.finish()]);
    });
    await ctx.device.queue.onSubmittedWorkDone();
  };
  try {
    await batch(2);
    // Batch size so that one batch takes about minMs/8 (amortises submit latency).
    let k = 1;
    for (;;) {
      const t0 = performance.now();
      await batch(k);
      const dt = performance.now() - t0;
      if (dt >= minMs / 8 || k >= 512) break;
      k = Math.min(512, k * Math.max(2, Math.ceil(minMs / 8 / Math.max(dt, 0.01))));
    }
    let reps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < minMs) {
      await batch(k);
      reps += k;
    }
    const s = (performance.now() - t0) / 1000 / reps;
    return { tflops: (2 * M * K * N) / s / 1e12, reps };
  } finally {
    a.destroy();
    b.destroy();
    out.destroy();
  }
}

/** Warm-up before timing (clocks ramp up after idle seconds, e.g. the CPU-side checks). */
const warmUp = () => timeTc({ M: 4096, K: 4096, N: 4096 }, 'tc128', 1500);

if (support.ok) await warmUp();

// SHAPES="M,K,N,tA,tB;..." (tA/tB 0 or 1): also time the tensor-core path (auto, in each
// workgroup order) and our fp32 matmul (auto) on these shapes, e.g. GPT-2 124M's products.
if (process.env.SHAPES && support.ok) {
  for (const spec of process.env.SHAPES.split(';')) {
    const [M, K, N, tA, tB] = spec.split(',').map(Number) as [number, number, number, number, number];
    const shape = { M, K, N, transA: !!tA, transB: !!tB };
    for (const order of [undefined, 'mFast', 'nFast'] as const) {
      try {
        const t = await timeTc({ ...shape, order }, 'auto');
        log({ impl: 'ours-tc-f16in-f32acc', variant: 'auto', order: order ?? `auto:${defaultOrder(shape)}`, shape: spec, ...t });
      } catch (e) {
        log({ impl: 'ours-tc-f16in-f32acc', variant: 'auto', order, shape: spec, error: String(e) });
      }
    }
    const f = await timeMatmulShape(ctx, shape, ms, 'auto');
    log({ impl: 'ours-fp32', variant: 'auto', shape: spec, tflops: f.gflops / 1000, reps: f.reps });
  }
}

if (support.ok) {
  for (const v of variants) await checkSmall(v);
  await warmUp();
  for (const n of sizes) {
    for (const v of variants) {
      try {
        const check = await spotCheck(n, v);
        if (!(check.worstF16 <= 1)) checksFailed++;
        const t = await timeTc({ M: n, K: n, N: n }, v);
        log({ impl: 'ours-tc-f16in-f32acc', variant: v, n, ...t, ...check });
      } catch (e) {
        log({ impl: 'ours-tc-f16in-f32acc', variant: v, n, error: String(e) });
      }
    }
    if (!process.env.SKIP_FP32) {
      const t = await timeOurMatmul(ctx, n, ms, 'auto');
      log({ impl: 'ours-fp32', variant: 'auto', n, tflops: t.gflops / 1000, reps: t.reps });
    }
  }
} else {
  log({ impl: 'ours-tc-f16in-f32acc', error: `tensor-core path unavailable: ${support.reason}` });
}

if (!process.env.SKIP_TFJS) {
  try {
    await tf.setBackend('webgpu');
    await tf.ready();
    for (const n of sizes) {
      const t = await timeTfjsMatmul(tf, n, ms);
      log({ impl: 'tfjs-webgpu', n, tflops: t.gflops / 1000, reps: t.reps });
    }
  } catch (e) {
    log({ impl: 'tfjs-webgpu', error: String((e as Error)?.stack ?? e) });
  }
}
log({ checksFailed });
process.exit(checksFailed ? 1 : 0);
