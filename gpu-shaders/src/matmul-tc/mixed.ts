/**
 * Mixed-precision matmul forward and backward on the tensor-core path: the same contracts as
 * `encodeMatmul` / `encodeMatmulBackward` (../matmul, bias and accumulating gradients
 * included), with every product that `matmulTcEligible` accepts computed by `encodeMatmulTc`
 * (operands rounded to f16, f32 accumulation) and the rest by the fp32 kernels. Like PyTorch
 * AMP's matmuls, except that the operands stay f32 in memory and only the product rounds.
 *
 * - Forward with bias: out is first set to the bias broadcast over rows (f32, exact), then the
 *   tensor-core product accumulates onto it.
 * - Backward: dA and dB are the products `encodeMatmulBackward` records; dbias is the fp32
 *   column sum (`encodeColsum`). Gradients are small (the loss is a mean over B·T positions:
 *   GPT-2's dlogits are ~1e-9, below f16's smallest subnormal), so dout is scaled per tensor,
 *   on the GPU, by the power of two that brings max |dout| into [2^14, 2^15) before it is
 *   rounded (like AMP's loss scaling, but per product and never overflowing); each product
 *   goes to scratch and is added into dA / dB divided by the same power of two (exact).
 *   A product whose only obstacle is dout's row length N (not a multiple of 4, e.g. GPT-2's
 *   LM head, N = 50257) runs on zero-padded copies: dout padded to Np = N rounded up to 4
 *   columns, and for dA the other operand padded along N too (zeros change no sum); for dB
 *   the first N columns (or rows) of the padded product are added
 *   (`planMatmulBackwardMixed` says which product goes where).
 * - An A or B that is a view of out's GPUBuffer is copied to pooled scratch first, so that it
 *   is bound read-only (as `encodeMatmul` does).
 *
 * NOT here: the kernels (matmul_tc.wgsl, epilogue.wgsl, ../matmul), strides, batches, alpha.
 */
import { type BufferArg, bindingBytes, type GpuContext, isGpuBuffer } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import { encodeMatmul, encodeMatmulBackward } from '../matmul/matmul.ts';
import { encodeColsum } from '../reduce/colsum.ts';
import code from './epilogue.wgsl';
import { encodeMatmulTc, matmulTcEligible, matmulTcSlices, type MatmulTcVariant } from './matmul-tc.ts';

/** How a backend computes its matmuls: fp32 throughout, or f16 operands on tensor cores. */
export type MatmulPrecision = 'fp32' | 'tensor-core';
export const MATMUL_PRECISIONS: readonly MatmulPrecision[] = ['fp32', 'tensor-core'];

/**
 * Tuning read at encode time (benchmarks set it): a product whose `variant` is 'auto' runs on
 * 128×128 tiles (`tc128`) when it has at least `minTiles128` of them, else on 64×64 (`tc64`).
 */
export const matmulMixedTuning = {
  minTiles128: 128,
  /**
   * Split-K of backward products (which go to scratch anyway) with few workgroups and a long
   * K, e.g. GPT-2's weight gradients (768×3072 over K = 8192: 144 workgroups of tc128 for 132
   * SMs): slices of at least `splitMinSlice` along K, enough for ~`splitTargetWorkgroups`,
   * at most `splitMaxSlices`; only where the product has fewer than `splitBelowWorkgroups`.
   */
  splitBelowWorkgroups: 264,
  splitTargetWorkgroups: 528,
  splitMinSlice: 1024,
  splitMaxSlices: 8,
};

function pickVariant(s: Shape, v: MatmulTcVariant | undefined): Exclude<MatmulTcVariant, 'auto'> {
  if (v && v !== 'auto') return v;
  return Math.ceil(s.M / 128) * Math.ceil(s.N / 128) >= matmulMixedTuning.minTiles128 ? 'tc128' : 'tc64';
}

/** K per slice for a backward product (a multiple of BK = 32 and of 4), or undefined for none. */
export function splitKSlice(s: Shape, variant: Exclude<MatmulTcVariant, 'auto'>): number | undefined {
  const t = matmulMixedTuning;
  const tile = variant === 'tc64' ? 64 : 128;
  const wgs = Math.ceil(s.M / tile) * Math.ceil(s.N / tile);
  if (wgs >= t.splitBelowWorkgroups) return undefined;
  const slices = Math.min(t.splitMaxSlices, Math.floor(s.K / t.splitMinSlice), Math.ceil(t.splitTargetWorkgroups / wgs));
  if (slices < 2) return undefined;
  return Math.ceil(s.K / slices / 32) * 32;
}

/** Where one product goes: tensor cores as is, tensor cores on N-padded copies, or fp32. */
export type ProductRoute = 'tensor-core' | 'tensor-core-padded' | 'fp32';

type Shape = { M: number; K: number; N: number; transA?: boolean; transB?: boolean };

export interface MatmulMixedArgs extends Shape {
  accumulate?: boolean;
  a: BufferArg;
  b: BufferArg;
  bias?: BufferArg | null;
  out: BufferArg;
  /** Tensor-core variant (default 'auto'). */
  variant?: MatmulTcVariant;
}

export interface MatmulBackwardMixedArgs extends Shape {
  dout: BufferArg;
  a: BufferArg;
  b: BufferArg;
  /** Accumulated (+=); each may be omitted. */
  da?: BufferArg | null;
  db?: BufferArg | null;
  dbias?: BufferArg | null;
  variant?: MatmulTcVariant;
}

/** The forward product's route: tensor cores where eligible, else fp32. */
export function routeMatmulMixed(shape: Shape): 'tensor-core' | 'fp32' {
  return matmulTcEligible(shape) ? 'tensor-core' : 'fp32';
}

/** The products of the backward of out = A·B, as `encodeMatmulBackward` forms them. */
function daProduct(s: Shape, N = s.N): Shape {
  return s.transA ? { M: s.K, K: N, N: s.M, transA: !!s.transB, transB: true } : { M: s.M, K: N, N: s.K, transA: false, transB: !s.transB };
}
function dbProduct(s: Shape, N = s.N): Shape {
  return s.transB ? { M: N, K: s.M, N: s.K, transA: true, transB: !!s.transA } : { M: s.K, K: s.M, N, transA: !s.transA, transB: false };
}

/** Routes of the backward products (null where that gradient is not wanted). */
export function planMatmulBackwardMixed(shape: Shape, want: { da: boolean; db: boolean }): { da: ProductRoute | null; db: ProductRoute | null; Np: number } {
  const Np = Math.ceil(shape.N / 4) * 4;
  const route = (product: (s: Shape, N?: number) => Shape): ProductRoute => {
    if (matmulTcEligible(product(shape))) return 'tensor-core';
    if (Np !== shape.N && matmulTcEligible(product(shape, Np))) return 'tensor-core-padded';
    return 'fp32';
  };
  return { da: want.da ? route(daProduct) : null, db: want.db ? route(dbProduct) : null, Np };
}

const bufferOf = (b: BufferArg): GPUBuffer => (isGpuBuffer(b) ? b : b.buffer);

/** Record out = A·B (+ bias) (or out += …) with tensor cores where eligible. Returns the route. */
export function encodeMatmulMixed(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulMixedArgs): 'tensor-core' | 'fp32' {
  const { M, K, N } = args;
  if (routeMatmulMixed(args) === 'fp32') {
    encodeMatmul(ctx, encoder, { M, K, N, transA: args.transA, transB: args.transB, accumulate: args.accumulate, a: args.a, b: args.b, bias: args.bias, out: args.out });
    return 'fp32';
  }
  checkDims('matmulMixed', { M, K, N });
  checkBuffers('matmulMixed', [
    ['a', args.a, M * K],
    ['b', args.b, K * N],
    ['bias', args.bias, N],
    ['out', args.out, M * N],
  ]);
  let accumulate = !!args.accumulate;
  if (args.bias) {
    encodeMatmulEpilogue(ctx, encoder, 'bias_rows', args.bias, args.out, { R: M, C: N, Rp: M, Cp: N }, { accumulate });
    accumulate = true;
  }
  const scratch: GPUBuffer[] = [];
  const a = detach(ctx, encoder, args.a, args.out, scratch);
  const b = detach(ctx, encoder, args.b, args.out, scratch);
  encodeMatmulTc(ctx, encoder, { M, K, N, transA: args.transA, transB: args.transB, accumulate, a, b, out: args.out, variant: pickVariant(args, args.variant) });
  for (const s of scratch) ctx.pool.release(s);
  return 'tensor-core';
}

/** Record the accumulated gradients of out = A·B + bias with tensor cores where eligible. */
export function encodeMatmulBackwardMixed(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulBackwardMixedArgs): { da: ProductRoute | null; db: ProductRoute | null } {
  const { M, K, N, dout, a, b } = args;
  const transA = !!args.transA;
  const transB = !!args.transB;
  checkDims('matmulBackwardMixed', { M, K, N });
  checkBuffers('matmulBackwardMixed', [
    ['dout', dout, M * N],
    ['a', a, M * K],
    ['b', b, K * N],
    ['da', args.da, M * K],
    ['db', args.db, K * N],
    ['dbias', args.dbias, N],
  ]);
  const plan = planMatmulBackwardMixed(args, { da: !!args.da, db: !!args.db });
  const { Np } = plan;
  // fp32 products (and nothing else) through the fp32 backward.
  const fpDa = plan.da === 'fp32' ? args.da : null;
  const fpDb = plan.db === 'fp32' ? args.db : null;
  if (fpDa || fpDb) encodeMatmulBackward(ctx, encoder, { M, K, N, transA, transB, dout, a, b, da: fpDa, db: fpDb });

  const scratch: GPUBuffer[] = [];
  const acquire = (floats: number, label: string) => {
    const buf = ctx.pool.acquire(floats * 4, label);
    scratch.push(buf);
    return { buffer: buf, offset: 0, size: floats * 4 };
  };
  if ((args.da && plan.da !== 'fp32') || (args.db && plan.db !== 'fp32')) {
    // dout scaled by the power of two that brings max |dout| into [2^14, 2^15) (and padded to
    // Np columns where a product needs it); the products go to scratch and are added back
    // divided by the same scale.
    const padded = plan.da === 'tensor-core-padded' || plan.db === 'tensor-core-padded';
    const nS = padded ? Np : N;
    const amax = acquire(4, 'matmulMixed.amax');
    encoder.clearBuffer(amax.buffer, 0, 16);
    encodeMatmulEpilogue(ctx, encoder, 'absmax', dout, null, { R: M, C: N, Rp: M, Cp: N }, { amax });
    const doutS = acquire(M * nS, 'matmulMixed.doutScaled');
    encodeMatmulEpilogue(ctx, encoder, 'pad', dout, doutS, { R: M, C: N, Rp: M, Cp: nS }, { amax, scaled: true });
    // One product into fresh scratch (split-K slices where it pays); returns it and its slice count.
    const tc = (s: Shape, x: BufferArg, y: BufferArg, label: string) => {
      const variant = pickVariant(s, args.variant);
      const kSlice = splitKSlice(s, variant);
      const slices = matmulTcSlices({ K: s.K, kSlice });
      const out = acquire(slices * s.M * s.N, label);
      encodeMatmulTc(ctx, encoder, { ...s, a: x, b: y, out, accumulate: false, variant, kSlice });
      return { out, slices };
    };
    if (args.da && plan.da !== 'fp32') {
      // B padded along N where dout is: rows when stored (N,K), columns when stored (K,N).
      let bb: BufferArg = b;
      if (nS !== N) {
        bb = acquire(K * nS, 'matmulMixed.bPadded');
        encodeMatmulEpilogue(ctx, encoder, 'pad', b, bb, transB ? { R: N, C: K, Rp: nS, Cp: K } : { R: K, C: N, Rp: K, Cp: nS }, { amax, scaled: false });
      }
      const s = daProduct(args, nS);
      // dA (M,K) = dout · B^T, or dA stored (K,M) = B · dout^T
      const p = !transA ? tc(s, doutS, bb, 'matmulMixed.daScaled') : tc(s, bb, doutS, 'matmulMixed.daScaled');
      encodeMatmulEpilogue(ctx, encoder, 'add_cols', p.out, args.da, { R: M * K, C: 1, Rp: M * K, Cp: 1 }, { amax, scaled: true, slices: p.slices });
    }
    if (args.db && plan.db !== 'fp32') {
      const s = dbProduct(args, nS);
      // dB (K,N) = A^T · dout stored (K,nS), or dB stored (N,K) = dout^T · A stored (nS,K)
      const p = !transB ? tc(s, a, doutS, 'matmulMixed.dbScaled') : tc(s, doutS, a, 'matmulMixed.dbScaled');
      // Fold back (summing split-K slices): the first N columns of (K,nS), or the first N rows of (nS,K).
      const d = transB ? { R: N, C: K, Rp: nS, Cp: K } : { R: K, C: N, Rp: K, Cp: nS };
      encodeMatmulEpilogue(ctx, encoder, 'add_cols', p.out, args.db, d, { amax, scaled: true, slices: p.slices });
    }
  }
  if (args.dbias) encodeColsum(ctx, encoder, { R: M, C: N, inp: dout, out: args.dbias });
  for (const s of scratch) ctx.pool.release(s);
  return { da: plan.da, db: plan.db };
}

/** An input that is a range of out's GPUBuffer, copied to pooled scratch (bound read-only then). */
function detach(ctx: GpuContext, encoder: GPUCommandEncoder, x: BufferArg, out: BufferArg, scratch: GPUBuffer[]): BufferArg {
  if (isGpuBuffer(x) || x.buffer !== bufferOf(out)) return x;
  const bytes = bindingBytes(x);
  if (bytes % 4 !== 0 || !(x.buffer.usage & GPUBufferUsage.COPY_SRC)) return x;
  const buf = ctx.pool.acquire(bytes, 'matmulMixed.aliasedInput');
  encoder.copyBufferToBuffer(x.buffer, x.offset ?? 0, buf, 0, bytes);
  scratch.push(buf);
  return { buffer: buf, offset: 0, size: bytes };
}

export type EpilogueDims = { R: number; C: number; Rp: number; Cp: number };

/**
 * One epilogue.wgsl dispatch (exported for tests). `amax` is the absmax cell (a u32 holding f32
 * bits), which 'absmax' writes (zero it first) and which 'pad' and 'add_cols' always bind and
 * read when `scaled`. 'bias_rows' takes neither. 'add_cols' sums `slices` slices of src, slice
 * s at s·Rp·Cp.
 */
export function encodeMatmulEpilogue(
  ctx: GpuContext,
  encoder: GPUCommandEncoder,
  entry: 'bias_rows' | 'pad' | 'add_cols' | 'absmax',
  src: BufferArg,
  dst: BufferArg | null,
  d: EpilogueDims,
  opts: { accumulate?: boolean; amax?: BufferArg; scaled?: boolean; slices?: number } = {},
): void {
  const n = entry === 'pad' ? d.Rp * d.Cp : d.R * d.C;
  checkDims(`matmulEpilogue:${entry}`, d);
  if (entry !== 'bias_rows' && !opts.amax) throw new KernelInputError(`matmulEpilogue:${entry}`, 'needs the amax cell');
  if (entry !== 'absmax' && !dst) throw new KernelInputError(`matmulEpilogue:${entry}`, 'needs dst');
  const constants: Record<string, boolean | number> = {};
  if (entry === 'bias_rows') constants.ACCUMULATE = !!opts.accumulate;
  if (entry === 'pad' || entry === 'add_cols') constants.SCALED = !!opts.scaled;
  if (entry === 'add_cols') constants.SLICES = opts.slices ?? 1;
  // absmax: a grid-stride loop over at most 4096 workgroups.
  const groups = entry === 'absmax' ? Math.min(4096, Math.ceil(n / 256)) : Math.ceil(n / 256);
  encodeDispatches(ctx, encoder, `matmulMixed:${entry}`, [
    {
      kernel: `matmul_tc_epilogue_${entry}`,
      code,
      entryPoint: entry,
      constants,
      params: packParams([d.R, d.C, d.Rp, d.Cp]),
      buffers: entry === 'bias_rows' ? [src, dst] : [src, dst, opts.amax!],
      workgroups: grid(groups),
    },
  ]);
}
