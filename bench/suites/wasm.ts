/**
 * WASM kernel throughput in Node: our AssemblyScript SIMD matmul (@swarmgrad/wasm) in GFLOP/s
 * against the plain-TS reference matmul measured side by side in the same run, at a few sizes.
 * Result names: wasm_matmul_fp32_<n> (n×n×n, ratio = ours / reference, higher is better).
 * Options: --sizes 128,256,512 (default); --minMs 300 (time per measurement); --variant
 * simd|relaxed-simd (default: the fastest the engine supports; relaxed-simd = fused multiply-add).
 * Not a training benchmark (see the `train` suite) and single-threaded.
 */
import { createWasmKernelsSync, type WasmVariant } from '@swarmgrad/wasm';
import { matmulForward, randomUniform } from '@swarmgrad/peer-core/reference';
import { type BenchSuite, ratio } from '../lib/types.ts';

/** Best GFLOP/s of `fn` over repetitions filling at least `minMs`, after one warm-up call. */
function gflops(flops: number, minMs: number, fn: () => void): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < minMs || reps < 3) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
    reps++;
  }
  return flops / (best * 1e6);
}

const suite: BenchSuite = {
  name: 'wasm',
  description: 'WASM SIMD matmul vs the plain TS reference, Node, single thread',
  async run({ options, env, log }) {
    const sizes = (options.sizes ?? '128,256,512').split(',').map(Number);
    const minMs = Number(options.minMs ?? 300);
    const k = createWasmKernelsSync({ variant: options.variant as WasmVariant | undefined });
    env.device = `node ${process.version} wasm ${k.variant} (single thread)`;
    const out = [];
    for (const n of sizes) {
      const a = randomUniform(n * n, 1);
      const b = randomUniform(n * n, 2);
      const shape = { M: n, K: n, N: n };
      const [ta, tb, tc] = [k.fromArray(a), k.fromArray(b), k.alloc(n * n)];
      const flops = 2 * n * n * n;
      const ours = gflops(flops, minMs, () => k.matmulForward(tc, ta, tb, null, shape));
      const c = new Float32Array(n * n);
      const anchor = gflops(flops, minMs, () => matmulForward(c, a, b, null, shape));
      log(`matmul ${n}: wasm ${ours.toFixed(2)} GFLOP/s, TS reference ${anchor.toFixed(2)} GFLOP/s`);
      out.push({ name: `wasm_matmul_fp32_${n}`, value: ours, unit: 'GFLOP/s (higher is better)', anchor: 'plain TS reference matmul (same run)', anchorValue: anchor, ratio: ratio(ours, anchor) });
      for (const t of [ta, tb, tc]) k.free(t);
    }
    return out;
  },
};
export default suite;
