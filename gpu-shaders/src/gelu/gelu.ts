/**
 * Thin wrapper for gelu.wgsl (tanh form). Forward: out = gelu(inp). Backward: dinp +=
 * gelu'(inp) * dout. Reference: `geluForward` / `geluBackward` in @swarmgrad/peer-core/reference.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './gelu.wgsl';

export function encodeGeluForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: { out: BufferArg; inp: BufferArg; N: number }): void {
  const { N } = args;
  checkDims('gelu', { N });
  checkBuffers('gelu', [
    ['inp', args.inp, N],
    ['out', args.out, N],
  ]);
  encodeDispatches(ctx, encoder, 'gelu', [
    { kernel: 'gelu', code, entryPoint: 'forward', params: packParams([N]), buffers: [args.inp, args.out], workgroups: grid(Math.ceil(N / 256)) },
  ]);
}

export function encodeGeluBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: { dinp: BufferArg; inp: BufferArg; dout: BufferArg; N: number }): void {
  const { N } = args;
  checkDims('geluBackward', { N });
  checkBuffers('geluBackward', [
    ['dinp', args.dinp, N],
    ['inp', args.inp, N],
    ['dout', args.dout, N],
  ]);
  encodeDispatches(ctx, encoder, 'geluBackward', [
    { kernel: 'gelu', code, entryPoint: 'backward', params: packParams([N]), buffers: [args.inp, args.dinp, args.dout], workgroups: grid(Math.ceil(N / 256)) },
  ]);
}
