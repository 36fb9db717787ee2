/**
 * Thin wrapper for attention.wgsl: causal multi-head attention, unfused, forward and backward
 * (accumulating into dqkv, dpreatt, datt as the reference does). Head size hs = C/NH <= 256.
 * Reference: `attentionForward` / `attentionBackward` in @swarmgrad/peer-core/reference.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './attention.wgsl';

const WG = 64;
const MAX_HS = 256;

function checkHeads(kernel: string, C: number, NH: number): number {
  if (C % NH !== 0) throw new KernelInputError(kernel, `C=${C} is not a multiple of NH=${NH}`);
  const hs = C / NH;
  if (hs > MAX_HS) throw new KernelInputError(kernel, `head size ${hs} exceeds ${MAX_HS}`);
  return hs;
}

export interface AttentionForwardArgs {
  out: BufferArg;
  preatt: BufferArg;
  att: BufferArg;
  qkv: BufferArg;
  B: number;
  T: number;
  C: number;
  NH: number;
}

export function encodeAttentionForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: AttentionForwardArgs): void {
  const { B, T, C, NH } = args;
  checkDims('attention', { B, T, C, NH });
  const hs = checkHeads('attention', C, NH);
  checkBuffers('attention', [
    ['out', args.out, B * T * C],
    ['preatt', args.preatt, B * NH * T * T],
    ['att', args.att, B * NH * T * T],
    ['qkv', args.qkv, B * T * 3 * C],
  ]);
  encodeDispatches(ctx, encoder, 'attention', [
    {
      kernel: 'attention',
      code,
      entryPoint: 'forward',
      constants: { WG },
      params: packParams([B, T, C, NH, hs]),
      buffers: [args.qkv, args.out, args.preatt, args.att],
      workgroups: grid(B * NH * T),
    },
  ]);
}

export interface AttentionBackwardArgs {
  dqkv: BufferArg;
  dpreatt: BufferArg;
  datt: BufferArg;
  dout: BufferArg;
  qkv: BufferArg;
  att: BufferArg;
  B: number;
  T: number;
  C: number;
  NH: number;
}

export function encodeAttentionBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: AttentionBackwardArgs): void {
  const { B, T, C, NH } = args;
  checkDims('attentionBackward', { B, T, C, NH });
  const hs = checkHeads('attentionBackward', C, NH);
  checkBuffers('attentionBackward', [
    ['dqkv', args.dqkv, B * T * 3 * C],
    ['dpreatt', args.dpreatt, B * NH * T * T],
    ['datt', args.datt, B * NH * T * T],
    ['dout', args.dout, B * T * C],
    ['qkv', args.qkv, B * T * 3 * C],
    ['att', args.att, B * NH * T * T],
  ]);
  const params = packParams([B, T, C, NH, hs]);
  encodeDispatches(ctx, encoder, 'attentionBackward', [
    {
      kernel: 'attention',
      code,
      entryPoint: 'backward_q',
      constants: { WG },
      params,
      buffers: [args.qkv, null, args.dpreatt, args.att, args.datt, args.dout, args.dqkv],
      workgroups: grid(B * NH * T),
    },
    {
      kernel: 'attention',
      code,
      entryPoint: 'backward_kv',
      constants: { WG },
      params,
      buffers: [args.qkv, null, args.dpreatt, args.att, null, args.dout, args.dqkv],
      workgroups: grid(B * NH * T),
    },
  ]);
}
