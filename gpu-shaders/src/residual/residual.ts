/**
 * Thin wrapper for residual.wgsl. Forward: out = a + b. Backward: da += dout, db += dout
 * (da and db must be different buffers). Reference: `residualForward` / `residualBackward`.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './residual.wgsl';

export function encodeResidualForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: { out: BufferArg; a: BufferArg; b: BufferArg; N: number }): void {
  const { N } = args;
  checkDims('residual', { N });
  checkBuffers('residual', [
    ['a', args.a, N],
    ['b', args.b, N],
    ['out', args.out, N],
  ]);
  encodeDispatches(ctx, encoder, 'residual', [
    { kernel: 'residual', code, entryPoint: 'forward', params: packParams([N]), buffers: [args.a, args.out, args.b], workgroups: grid(Math.ceil(N / 256)) },
  ]);
}

export function encodeResidualBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: { da: BufferArg; db: BufferArg; dout: BufferArg; N: number }): void {
  const { N } = args;
  checkDims('residualBackward', { N });
  checkBuffers('residualBackward', [
    ['da', args.da, N],
    ['db', args.db, N],
    ['dout', args.dout, N],
  ]);
  encodeDispatches(ctx, encoder, 'residualBackward', [
    { kernel: 'residual', code, entryPoint: 'backward', params: packParams([N]), buffers: [args.dout, args.da, null, args.db], workgroups: grid(Math.ceil(N / 256)) },
  ]);
}
