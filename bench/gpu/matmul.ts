/**
 * Real-GPU matmul benchmark (Node + Dawn): our WGSL matmul variants and tfjs-webgpu 4.22's
 * tf.matMul on the same adapter, timed the same way (bench/pages/matmul-timing.ts), with a
 * float64 spot check of our result. Prints one JSON object per line.
 *   npx esbuild bench/gpu/matmul.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --outfile=.gpu-bundle/bench-matmul.mjs
 *   bash .gpu-bundle/run.sh .gpu-bundle/bench-matmul.mjs [sizes] [variants]
 */
import { gpu } from './dawn.ts';
import { GpuContext, type MatmulVariant } from '@swarmgrad/gpu-shaders';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { spotCheckMatmul, timeMatmulShape, timeOurMatmul, timeTfjsMatmul } from '../pages/matmul-timing.ts';

const sizes = (process.argv[2] ?? '1024,2048,4096').split(',').map(Number);
const variants = (process.argv[3] ?? 'auto,blocked64,blocked64k16,blocked128,blocked128k16') .split(',') as MatmulVariant[];
const ms = Number(process.env.BENCH_MS ?? 1500);

const ctx = await GpuContext.create({ gpu });
const info = ctx.adapterInfo;
console.log(JSON.stringify({ adapter: `${info?.vendor} ${info?.architecture} ${info?.description}`, features: [...ctx.features] }));

// SHAPES="M,K,N,tA,tB;..." (tA/tB 0 or 1): time the given variants on these shapes only; a
// variant written `name/sN` forces split-K N (`auto/s1`: the auto variant, no split).
if (process.env.SHAPES) {
  for (const spec of process.env.SHAPES.split(';')) {
    const [M, K, N, tA, tB] = spec.split(',').map(Number) as [number, number, number, number, number];
    for (const v of variants) {
      try {
        const [name, split] = v.split('/s');
        const t = await timeMatmulShape(ctx, { M, K, N, transA: !!tA, transB: !!tB, splitK: split ? Number(split) : undefined }, ms, name as MatmulVariant);
        console.log(JSON.stringify({ impl: 'ours', variant: v, shape: spec, tflops: t.gflops / 1000 }));
      } catch (e) {
        console.log(JSON.stringify({ impl: 'ours', variant: v, shape: spec, error: String(e) }));
      }
    }
  }
  process.exit(0);
}

for (const n of sizes) {
  for (const v of variants) {
    try {
      const worst = await spotCheckMatmul(ctx, n, 32, v);
      const t = await timeOurMatmul(ctx, n, ms, v);
      console.log(JSON.stringify({ impl: 'ours', variant: v, n, tflops: t.gflops / 1000, reps: t.reps, spotCheckWorst: worst }));
    } catch (e) {
      console.log(JSON.stringify({ impl: 'ours', variant: v, n, error: String(e) }));
    }
  }
}

try {
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  console.log(JSON.stringify({ tfjs: tf.version_core, backend: tf.getBackend(), ok }));
  // Any WebGPU error in tfjs's work would make its timing meaningless: count them.
  let tfErrors = 0;
  (tf.backend() as unknown as { device: GPUDevice }).device.addEventListener('uncapturederror', () => {
    tfErrors++;
  });
  for (const n of sizes) {
    const t = await timeTfjsMatmul(tf, n, ms);
    console.log(JSON.stringify({ impl: 'tfjs-webgpu', n, tflops: t.gflops / 1000, reps: t.reps, gpuErrors: tfErrors }));
  }
} catch (e) {
  console.log(JSON.stringify({ impl: 'tfjs-webgpu', error: String((e as Error)?.stack ?? e) }));
}
process.exit(0);
