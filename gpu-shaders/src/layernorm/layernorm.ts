/**
 * Thin wrapper for layernorm.wgsl (+ layernorm_params.wgsl): forward writes out, mean, rstd;
 * backward accumulates into dinp, dweight, dbias. Row count N may exceed 65535 (2-D grid).
 * Reference: `layernormForward` / `layernormBackward` in @swarmgrad/peer-core/reference.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './layernorm.wgsl';
import paramsCode from './layernorm_params.wgsl';

const ROWS = 256;

/** Threads per row: a power of two, up to 256, about C/4 (each thread handles >= ~4 columns). */
function rowThreads(C: number): number {
  let wg = 32;
  while (wg < 256 && wg * 4 < C) wg *= 2;
  return wg;
}

export interface LayernormForwardArgs {
  out: BufferArg;
  mean: BufferArg;
  rstd: BufferArg;
  inp: BufferArg;
  weight: BufferArg;
  bias: BufferArg;
  N: number;
  C: number;
}

export function encodeLayernormForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: LayernormForwardArgs): void {
  const { N, C } = args;
  checkDims('layernorm', { N, C });
  checkBuffers('layernorm', [
    ['out', args.out, N * C],
    ['mean', args.mean, N],
    ['rstd', args.rstd, N],
    ['inp', args.inp, N * C],
    ['weight', args.weight, C],
    ['bias', args.bias, C],
  ]);
  encodeDispatches(ctx, encoder, 'layernorm', [
    {
      kernel: 'layernorm',
      code,
      entryPoint: 'forward',
      constants: { WG: rowThreads(C) },
      params: packParams([N, C, 0]),
      buffers: [args.inp, args.weight, args.bias, args.out, args.mean, args.rstd],
      workgroups: grid(N),
    },
  ]);
}

export interface LayernormBackwardArgs {
  dinp: BufferArg;
  dweight: BufferArg;
  dbias: BufferArg;
  dout: BufferArg;
  inp: BufferArg;
  weight: BufferArg;
  mean: BufferArg;
  rstd: BufferArg;
  N: number;
  C: number;
}

export function encodeLayernormBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: LayernormBackwardArgs): void {
  const { N, C } = args;
  checkDims('layernormBackward', { N, C });
  checkBuffers('layernormBackward', [
    ['dinp', args.dinp, N * C],
    ['dweight', args.dweight, C],
    ['dbias', args.dbias, C],
    ['dout', args.dout, N * C],
    ['inp', args.inp, N * C],
    ['weight', args.weight, C],
    ['mean', args.mean, N],
    ['rstd', args.rstd, N],
  ]);
  const nChunks = Math.ceil(N / ROWS);
  const scratch = ctx.pool.acquire(nChunks * 2 * C * 4, 'layernorm.scratch');
  const params = packParams([N, C, nChunks]);
  encodeDispatches(ctx, encoder, 'layernormBackward', [
    {
      kernel: 'layernorm',
      code,
      entryPoint: 'backward',
      constants: { WG: rowThreads(C) },
      params,
      buffers: [args.inp, args.weight, null, args.dinp, args.mean, args.rstd, args.dout],
      workgroups: grid(N),
    },
    {
      kernel: 'layernorm',
      code,
      entryPoint: 'params_partial',
      constants: { ROWS },
      params,
      buffers: [args.inp, null, null, null, args.mean, args.rstd, args.dout, scratch],
      workgroups: [Math.ceil(C / 64), nChunks],
    },
    { kernel: 'layernorm_params', code: paramsCode, params, buffers: [scratch, args.dweight, args.dbias], workgroups: [Math.ceil(C / 64)] },
  ]);
  ctx.pool.release(scratch);
}
