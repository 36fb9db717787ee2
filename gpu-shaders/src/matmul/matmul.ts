/**
 * Thin wrapper for the matmul kernels: validates shapes and buffer sizes, picks the kernel
 * variant, owns the bind-group layout (uniform dims, a, b, bias, out), the dispatch size and
 * the pipeline cache key.
 *
 * Variants:
 *  - `tiled16`   matmul.wgsl, plain 16×16 tiles, scalar loads: any shape (v1, the fallback);
 *  - `blocked64` / `blocked128` / `blocked128k16` / `blocked64k16`: matmul_blocked.wgsl,
 *    register-blocked 8×8 outputs per thread with vec4 loads, for shapes whose contiguous
 *    dimensions are multiples of 4 (see `blockedEligible`);
 *  - `any64` / `any128`: matmul_blocked_any.wgsl, the same kernel with scalar gathers and
 *    stores, for any shape.
 * `auto` (default) takes the vec4 blocked kernel when eligible and the `any` one otherwise,
 * with 128×128 tiles when there are enough of them to fill a large GPU and 64×64 otherwise.
 *
 * Backward (`encodeMatmulBackward`) is three forward matmuls with transposed operands plus a
 * column sum for the bias, all accumulating, as `matmulBackward` in
 * @swarmgrad/peer-core/reference (the specification) does.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims, encodeDispatches, packParams } from '../kernel.ts';
import { encodeColsum } from '../reduce/colsum.ts';
import blockedCode from './matmul_blocked.wgsl';
import blockedAnyCode from './matmul_blocked_any.wgsl';
import code from './matmul.wgsl';

const TILE = 16;

export type MatmulVariant = 'auto' | 'tiled16' | 'blocked64' | 'blocked128' | 'blocked128k16' | 'blocked64k16' | 'any64' | 'any128';

interface BlockedConfig {
  BM: number;
  BN: number;
  BK: number;
}

const BLOCKED: Record<string, BlockedConfig> = {
  blocked64: { BM: 64, BN: 64, BK: 8 },
  blocked64k16: { BM: 64, BN: 64, BK: 16 },
  blocked128: { BM: 128, BN: 128, BK: 8 },
  blocked128k16: { BM: 128, BN: 128, BK: 16 },
  any64: { BM: 64, BN: 64, BK: 8 },
  any128: { BM: 128, BN: 128, BK: 8 },
};

export interface MatmulArgs {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** out += A·B (+ bias) instead of out = A·B (+ bias). */
  accumulate?: boolean;
  a: BufferArg;
  b: BufferArg;
  bias?: BufferArg | null;
  out: BufferArg;
  variant?: MatmulVariant;
}

export function validateMatmul(args: MatmulArgs): void {
  const { M, K, N } = args;
  checkDims('matmul', { M, K, N });
  checkBuffers('matmul', [
    ['a', args.a, M * K],
    ['b', args.b, K * N],
    ['bias', args.bias, N],
    ['out', args.out, M * N],
  ]);
}

/** The blocked kernel binds vec4 arrays: every contiguous dimension must be a multiple of 4. */
export function blockedEligible({ M, K, N, transA, transB }: Pick<MatmulArgs, 'M' | 'K' | 'N' | 'transA' | 'transB'>): boolean {
  const aContig = transA ? M : K;
  const bContig = transB ? K : N;
  return aContig % 4 === 0 && bContig % 4 === 0 && N % 4 === 0;
}

/** The variant `auto` resolves to for this shape. */
export function chooseMatmulVariant(args: Pick<MatmulArgs, 'M' | 'K' | 'N' | 'transA' | 'transB'>): Exclude<MatmulVariant, 'auto'> {
  const tiles128 = Math.ceil(args.M / 128) * Math.ceil(args.N / 128);
  const big = tiles128 >= 256;
  if (!blockedEligible(args)) return big ? 'any128' : 'any64';
  return big ? 'blocked128' : 'blocked64';
}

/** Record one matmul into `encoder` (its own compute pass). */
export function encodeMatmul(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulArgs): void {
  validateMatmul(args);
  const variant = !args.variant || args.variant === 'auto' ? chooseMatmulVariant(args) : args.variant;
  const flags = { TRANS_A: !!args.transA, TRANS_B: !!args.transB, HAS_BIAS: !!args.bias, ACCUMULATE: !!args.accumulate };
  const params = packParams([args.M, args.K, args.N]);
  const buffers = [args.a, args.b, args.bias ?? ctx.emptyBuffer, args.out];
  if (variant === 'tiled16') {
    encodeDispatches(ctx, encoder, 'matmul:tiled16', [
      { kernel: 'matmul_tiled16', code, constants: { TILE, ...flags }, params, buffers, workgroups: [Math.ceil(args.N / TILE), Math.ceil(args.M / TILE)] },
    ]);
    return;
  }
  const cfg = BLOCKED[variant];
  if (!cfg) throw new KernelInputError('matmul', `unknown variant '${variant}'`);
  const any = variant.startsWith('any');
  if (!any && !blockedEligible(args)) {
    throw new KernelInputError('matmul', `variant ${variant} needs the contiguous dimensions (A: ${args.transA ? 'M' : 'K'}, B: ${args.transB ? 'K' : 'N'}, out: N) to be multiples of 4`);
  }
  const WG = (cfg.BM / 8) * (cfg.BN / 8);
  const constants = { ...cfg, WG, LOADS_A: (cfg.BM * cfg.BK) / 4 / WG, LOADS_B: (cfg.BN * cfg.BK) / 4 / WG, ...flags };
  encodeDispatches(ctx, encoder, `matmul:${variant}`, [
    {
      kernel: any ? 'matmul_blocked_any' : 'matmul_blocked',
      code: any ? blockedAnyCode : blockedCode,
      constants,
      params,
      buffers,
      workgroups: [Math.ceil(args.N / cfg.BN), Math.ceil(args.M / cfg.BM)],
    },
  ]);
}

/** Convenience: run one matmul and wait for it, with GPU errors thrown. */
export async function matmul(ctx: GpuContext, args: MatmulArgs): Promise<void> {
  await ctx.checked('matmul', async () => {
    const enc = ctx.device.createCommandEncoder();
    encodeMatmul(ctx, enc, args);
    ctx.device.queue.submit([enc.finish()]);
  });
  await ctx.device.queue.onSubmittedWorkDone();
}

export interface MatmulBackwardArgs {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** (M,N) gradient of out. */
  dout: BufferArg;
  a: BufferArg;
  b: BufferArg;
  /** Gradients, accumulated (+=); each may be omitted. Shapes as a, b and bias. */
  da?: BufferArg | null;
  db?: BufferArg | null;
  dbias?: BufferArg | null;
  variant?: MatmulVariant;
}

/** Record the gradients of out = A·B + bias (accumulating) into `encoder`. */
export function encodeMatmulBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulBackwardArgs): void {
  const { M, K, N, dout, a, b } = args;
  const transA = !!args.transA;
  const transB = !!args.transB;
  checkDims('matmulBackward', { M, K, N });
  checkBuffers('matmulBackward', [
    ['dout', dout, M * N],
    ['a', a, M * K],
    ['b', b, K * N],
    ['da', args.da, M * K],
    ['db', args.db, K * N],
    ['dbias', args.dbias, N],
  ]);
  // A forced blocked variant applies where the transposed shape allows it, else auto.
  const pick = (shape: Pick<MatmulArgs, 'M' | 'K' | 'N' | 'transA' | 'transB'>): MatmulVariant | undefined =>
    args.variant?.startsWith('blocked') && !blockedEligible(shape) ? 'auto' : args.variant;
  const mm = (call: MatmulArgs) => encodeMatmul(ctx, encoder, { ...call, variant: pick(call) });
  if (args.da) {
    if (!transA) {
      // dA (M,K) += dout (M,N) · B^T
      mm({ M, K: N, N: K, a: dout, b, transB: !transB, out: args.da, accumulate: true });
    } else {
      // dA stored (K,M) += B · dout^T
      mm({ M: K, K: N, N: M, a: b, transA: transB, b: dout, transB: true, out: args.da, accumulate: true });
    }
  }
  if (args.db) {
    if (!transB) {
      // dB (K,N) += A^T · dout
      mm({ M: K, K: M, N, a, transA: !transA, b: dout, out: args.db, accumulate: true });
    } else {
      // dB stored (N,K) += dout^T · A
      mm({ M: N, K: M, N: K, a: dout, transA: true, b: a, transB: transA, out: args.db, accumulate: true });
    }
  }
  if (args.dbias) encodeColsum(ctx, encoder, { R: M, C: N, inp: dout, out: args.dbias });
}
