/**
 * Device-side correctness check of the webgpu backend's mixed-precision matmuls
 * (`matmulPrecision: 'tensor-core'`) on a real GPU (Node + Dawn): a tiny GPT's loss and every
 * parameter gradient (one forward + backward on a fixed random batch) against two CPU
 * references built from the same seed:
 *  1. `cpu-f16`: the cpu backend with each matmul's operands rounded to f16 (products in
 *     double, then f32; bias and dbias from the unrounded values; in backward, dout scaled
 *     by the same per-tensor power of two as on the GPU before rounding) — what the
 *     tensor-core path computes, up to summation order and f16 rounding flips of intermediate
 *     values. Tight:
 *     |Δloss| <= 1e-3·loss, gradients |Δ| <= 1e-3·max|g_ref| + 1e-2·|g_ref|.
 *  2. `cpu` (fp32): the plain reference. Mixed-precision tolerance: |Δloss| <= 1e-2·loss,
 *     gradients |Δ| <= 1e-2·max|g_ref| + 5e-2·|g_ref|.
 * It also requires the tensor-core gradients to be closer to `cpu-f16` than to `cpu` (that the
 * tensor cores really ran), and prints the fp32 webgpu backend against `cpu` for scale.
 * Configs: C 64, 4 heads, 2 layers; V 64 at B 4, T 32; V 67 (odd: the LM head's backward runs
 * on N-padded products) at B 4, T 32; V 1000 at B 8, T 64, where dlogits (~1/(V·B·T) ≈ 2e-6)
 * sit in f16's subnormal range unless scaled; and V 67 and V 1000 again with every backward
 * product split along K (the split-K path, which the default tuning takes only at long K).
 * Exits 1 on any failed check.
 *   npx esbuild bench/gpu/train-check.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --outfile=.gpu-bundle/bench-train-check.mjs \
 *     "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
 *   bash .gpu-bundle/run.sh .gpu-bundle/bench-train-check.mjs
 * NOT here: timing (bench/gpu/train.ts), the kernel's own checks (bench/gpu/matmul-tc.ts).
 */
import { gpu } from './dawn.ts';
import { matmulMixedTuning, planMatmulBackwardMixed, routeMatmulMixed } from '@swarmgrad/gpu-shaders';
import { allclose, matmulBackward, matmulForward, roundToF16 } from '@swarmgrad/peer-core/reference';
import { CpuBackend, CpuTensor } from '../../peer-core/src/backend/cpu/index.ts';
import type { Backend, MatmulShape, Tensor } from '../../peer-core/src/backend/types.ts';
import { createWebGpuBackend } from '../../peer-core/src/backend/webgpu/index.ts';
import type { GPTConfig } from '../../peer-core/src/model/config.ts';
import { GPT } from '../../peer-core/src/model/gpt.ts';
import { type Batch, forwardBackward } from '../../peer-core/src/train/train.ts';
import { mulberry32 } from '../../peer-core/src/util/random.ts';

/** The cpu backend with f16-rounded matmul operands (the tensor-core path's arithmetic). */
class CpuF16MatmulBackend extends CpuBackend {
  override matmulForward(out: Tensor, a: Tensor, b: Tensor, bias: Tensor | null, shape: MatmulShape, accumulate = false): void {
    const { M, K, N } = shape;
    matmulForward(f32(out, M * N), roundToF16(f32(a, M * K)), roundToF16(f32(b, K * N)), bias ? f32(bias, N) : null, shape, accumulate);
  }

  override matmulBackward(da: Tensor | null, db: Tensor | null, dbias: Tensor | null, dout: Tensor, a: Tensor, b: Tensor, shape: MatmulShape): void {
    const { M, K, N } = shape;
    const g = f32(dout, M * N);
    matmulBackward(da ? f32(da, M * K) : null, db ? f32(db, K * N) : null, null, scaledF16(g), roundToF16(f32(a, M * K)), roundToF16(f32(b, K * N)), shape);
    if (dbias) matmulBackward(null, null, f32(dbias, N), g, f32(a, M * K), f32(b, K * N), shape);
  }
}

/**
 * f16round(s·x)/s for the power of two s that brings max |x| into [2^14, 2^15), as
 * gpu-shaders' epilogue.wgsl computes it from the exponent bits of max |x|.
 */
function scaledF16(x: Float32Array): Float32Array {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  const bits = new Uint32Array(new Float32Array([m]).buffer)[0]!;
  const sexp = Math.min(253, Math.max(1, 268 - ((bits >>> 23) & 0xff)));
  const s = 2 ** (sexp - 127);
  const out = roundToF16(x.map((v) => v * s));
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / s;
  return out;
}

function f32(t: Tensor, n: number): Float32Array {
  if (!(t instanceof CpuTensor) || !(t.data instanceof Float32Array)) throw new Error('cpu-f16: expected an f32 cpu tensor');
  return t.data.subarray(0, n);
}

interface Run {
  loss: number;
  grads: Float32Array;
}

async function run(backend: Backend, cfg: GPTConfig, batch: Batch): Promise<Run> {
  const model = new GPT(backend, cfg, { seed: 3 });
  const loss = await forwardBackward(model, [batch]);
  const grads = await model.getGrads();
  model.dispose();
  return { loss, grads };
}

const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

let failed = 0;
function check(name: string, ok: boolean, detail: string): void {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  if (!ok) failed++;
}

const tc = await createWebGpuBackend({ gpu, matmulPrecision: 'tensor-core' });
const fp = await createWebGpuBackend({ context: tc.ctx });
const defaults = { ...matmulMixedTuning };
for (const [V, B, T, split] of [
  [64, 4, 32, false],
  [67, 4, 32, false],
  [1000, 8, 64, false],
  [67, 4, 32, true],
  [1000, 8, 64, true],
] as const) {
  // split: every backward product split along K (slices of 32) to check the split-K path, which
  // the default tuning takes only at long K (GPT-2's weight gradients).
  Object.assign(matmulMixedTuning, split ? { splitBelowWorkgroups: 1e9, splitMinSlice: 32, splitTargetWorkgroups: 1e9, splitMaxSlices: 4 } : defaults);
  const cfg: GPTConfig = { vocabSize: V, contextLength: T, nLayer: 2, nHead: 4, nEmbd: 64 };
  const r = mulberry32(11 + V);
  const tokens = Int32Array.from({ length: B * T + 1 }, () => Math.floor(r() * V));
  const batch: Batch = { B, T, tokens: tokens.subarray(0, B * T), targets: tokens.slice(1) };
  const BT = B * T;
  const C = cfg.nEmbd;
  const routes = {
    headForward: routeMatmulMixed({ M: BT, K: C, N: V, transB: true }),
    headBackward: planMatmulBackwardMixed({ M: BT, K: C, N: V, transB: true }, { da: true, db: true }),
    qkvBackward: planMatmulBackwardMixed({ M: BT, K: C, N: 3 * C }, { da: true, db: true }),
  };
  console.log(`config V=${V} C=${C} L=${cfg.nLayer} NH=${cfg.nHead} B=${B} T=${T}${split ? ' split-K forced' : ''}; routes ${JSON.stringify(routes)}`);

  const got = await run(tc, cfg, batch);
  const gotFp = await run(fp, cfg, batch);
  const ref16 = await run(new CpuF16MatmulBackend(), cfg, batch);
  const ref32 = await run(new CpuBackend(), cfg, batch);

  const g16 = maxAbs(ref16.grads);
  const g32 = maxAbs(ref32.grads);
  const d16 = Math.abs(got.loss - ref16.loss);
  const d32 = Math.abs(got.loss - ref32.loss);
  check(`V=${V}${split ? ' split' : ''} loss vs cpu-f16`, d16 <= 1e-3 * ref16.loss, `tc ${got.loss.toFixed(6)} ref ${ref16.loss.toFixed(6)} |Δ| ${d16.toExponential(2)} (tol ${(1e-3 * ref16.loss).toExponential(2)})`);
  check(`V=${V}${split ? ' split' : ''} loss vs cpu fp32`, d32 <= 1e-2 * ref32.loss, `tc ${got.loss.toFixed(6)} ref ${ref32.loss.toFixed(6)} |Δ| ${d32.toExponential(2)} (tol ${(1e-2 * ref32.loss).toExponential(2)})`);
  const a16 = allclose(got.grads, ref16.grads, { atol: 1e-3 * g16, rtol: 1e-2 });
  check(`V=${V}${split ? ' split' : ''} grads vs cpu-f16`, a16.ok, `${a16.message}; worst ${a16.worstRatio.toFixed(3)} of tol, maxAbsErr ${a16.maxAbsErr.toExponential(2)}, max|g| ${g16.toExponential(2)}`);
  const a32 = allclose(got.grads, ref32.grads, { atol: 1e-2 * g32, rtol: 5e-2 });
  check(`V=${V}${split ? ' split' : ''} grads vs cpu fp32`, a32.ok, `${a32.message}; worst ${a32.worstRatio.toFixed(3)} of tol, maxAbsErr ${a32.maxAbsErr.toExponential(2)}, max|g| ${g32.toExponential(2)}`);
  // The tensor cores really ran: their gradients sit nearer the f16-operand reference.
  const near16 = allclose(got.grads, ref16.grads, { atol: 0, rtol: 0 }).maxAbsErr;
  const near32 = allclose(got.grads, ref32.grads, { atol: 0, rtol: 0 }).maxAbsErr;
  check(`V=${V}${split ? ' split' : ''} tc nearer cpu-f16 than cpu fp32`, near16 < near32, `maxAbsErr vs cpu-f16 ${near16.toExponential(2)}, vs cpu fp32 ${near32.toExponential(2)}`);
  const fpErr = allclose(gotFp.grads, ref32.grads, { atol: 0, rtol: 0 }).maxAbsErr;
  console.log(`info V=${V} fp32 webgpu vs cpu fp32: loss |Δ| ${Math.abs(gotFp.loss - ref32.loss).toExponential(2)}, grads maxAbsErr ${fpErr.toExponential(2)}`);
}
tc.dispose();
console.log(failed ? `train-check: ${failed} check(s) FAILED` : 'train-check: all checks passed');
process.exit(failed ? 1 : 0);
