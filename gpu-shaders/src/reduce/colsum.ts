/**
 * Thin wrapper for colsum.wgsl + colsum_final.wgsl: out (C) += column sums of inp (R,C).
 * Used for bias gradients. Scratch comes from the context's pool. Reference: the dbias loop
 * of `matmulBackward` in @swarmgrad/peer-core/reference.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, packParams } from '../kernel.ts';
import code from './colsum.wgsl';
import finalCode from './colsum_final.wgsl';

/** Rows per partial sum (benchmarks may change it; see encodeColsum). */
export const colsumTuning = { rows: 256 };

export interface ColsumArgs {
  R: number;
  C: number;
  inp: BufferArg;
  /** Accumulated into (+=). */
  out: BufferArg;
}

export function encodeColsum(ctx: GpuContext, encoder: GPUCommandEncoder, args: ColsumArgs): void {
  const { R, C } = args;
  checkDims('colsum', { R, C });
  checkBuffers('colsum', [
    ['inp', args.inp, R * C],
    ['out', args.out, C],
  ]);
  const ROWS = colsumTuning.rows;
  const nChunks = Math.ceil(R / ROWS);
  const scratch = ctx.pool.acquire(nChunks * C * 4, 'colsum.scratch');
  const params = packParams([R, C, nChunks]);
  encodeDispatches(ctx, encoder, 'colsum', [
    { kernel: 'colsum', code, entryPoint: 'partial', constants: { ROWS }, params, buffers: [args.inp, scratch], workgroups: [Math.ceil(C / 64), nChunks] },
    { kernel: 'colsum_final', code: finalCode, params, buffers: [scratch, args.out], workgroups: [Math.ceil(C / 64)] },
  ]);
  ctx.pool.release(scratch);
}
