/**
 * Reference for the mixed-precision (tensor-core) matmul: the specification that
 * gpu-shaders' `encodeMatmulTc` is checked against. Inputs are rounded to IEEE binary16
 * (round to nearest even, overflow to ±Infinity, subnormals kept), products are formed and
 * summed in f32 (every partial sum rounded to f32), in k order.
 *
 * A product of two f16 values is exact in f32, so the only differences from a GPU's result
 * are the order of the f32 additions (tensor cores add in blocks): compare with atol + rtol·|ref|.
 *
 * Not here: the fp32 matmul (matmul.ts), backward (the tensor-core path has none of its own).
 */
import type { MatmulShape } from './matmul.ts';

const F16_MAX = 65504;
const F16_MIN_SUBNORMAL = 2 ** -24;
const F16_MIN_NORMAL = 2 ** -14;

/**
 * `x` rounded to the nearest binary16 value (ties to even), returned as a number. Written out
 * (not Math.f16round) so that it runs on engines without Float16 support (Node 20).
 */
export function f16round(x: number): number {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const ax = Math.abs(x);
  // Spacing of binary16 values around ax: 2^(e-10) for normals, 2^-24 for subnormals.
  const e = Math.max(Math.floor(Math.log2(ax)), -14);
  // log2 can be off by one near powers of two; fix the exponent so that 2^e <= ax < 2^(e+1).
  let exp = e;
  if (ax >= F16_MIN_NORMAL) {
    if (2 ** exp > ax) exp--;
    else if (2 ** (exp + 1) <= ax) exp++;
  }
  const ulp = ax < F16_MIN_NORMAL ? F16_MIN_SUBNORMAL : 2 ** (exp - 10);
  const q = ax / ulp; // exact: dividing by a power of two
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r++;
  const y = r * ulp;
  // Values that round to >= 65520 overflow (65504 + half an ulp of 32 rounds to even = 65536).
  const out = y > F16_MAX ? Number.POSITIVE_INFINITY : y;
  return x < 0 ? -out : out;
}

/** Copy of `x` with every element rounded to binary16 (stored as f32, which holds them exactly). */
export function roundToF16(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f16round(x[i]!);
  return out;
}

// out (M,N) = f16(A)·f16(B), f32 accumulation; `accumulate` adds to out (in f32) instead.
export function matmulF16AccForward(
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  { M, K, N, transA = false, transB = false }: MatmulShape,
  accumulate = false,
): void {
  const ah = roundToF16(a);
  const bh = roundToF16(b);
  const f = Math.fround;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? ah[k * M + m]! : ah[m * K + k]!;
        const bv = transB ? bh[n * K + k]! : bh[k * N + n]!;
        acc = f(acc + av * bv); // av*bv is exact in f32 (11-bit significands)
      }
      out[m * N + n] = accumulate ? f(out[m * N + n]! + acc) : acc;
    }
  }
}
