/**
 * Thin wrapper for embedding.wgsl: token + position embedding forward, and its backward into
 * dwte and dwpe (accumulating, deterministic, no atomics). Token ids are i32 on the GPU.
 * Reference: `encoderForward` / `encoderBackward` in @swarmgrad/peer-core/reference.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './embedding.wgsl';

/** Vocabulary groups of the dwte pass (more = more parallel threads, each scanning all tokens). */
const DWTE_GROUPS = 128;

export interface EncoderForwardArgs {
  out: BufferArg;
  /** i32 token ids (B,T). */
  inp: BufferArg;
  wte: BufferArg;
  wpe: BufferArg;
  B: number;
  T: number;
  C: number;
  /** Rows of wte (vocabulary size). */
  V: number;
}

export function encodeEncoderForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: EncoderForwardArgs): void {
  const { B, T, C, V } = args;
  checkDims('encoder', { B, T, C, V });
  checkBuffers('encoder', [
    ['out', args.out, B * T * C],
    ['inp', args.inp, B * T],
    ['wte', args.wte, V * C],
    ['wpe', args.wpe, T * C],
  ]);
  encodeDispatches(ctx, encoder, 'encoder', [
    {
      kernel: 'embedding',
      code,
      entryPoint: 'forward',
      params: packParams([B, T, C, V, 1]),
      buffers: [args.inp, args.wte, args.wpe, args.out],
      workgroups: grid(Math.ceil((B * T * C) / 256)),
    },
  ]);
}

export interface EncoderBackwardArgs {
  dwte: BufferArg;
  dwpe: BufferArg;
  dout: BufferArg;
  inp: BufferArg;
  B: number;
  T: number;
  C: number;
  V: number;
}

export function encodeEncoderBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: EncoderBackwardArgs): void {
  const { B, T, C, V } = args;
  checkDims('encoderBackward', { B, T, C, V });
  checkBuffers('encoderBackward', [
    ['dwte', args.dwte, V * C],
    ['dwpe', args.dwpe, T * C],
    ['dout', args.dout, B * T * C],
    ['inp', args.inp, B * T],
  ]);
  const G = Math.min(V, DWTE_GROUPS);
  const params = packParams([B, T, C, V, G]);
  encodeDispatches(ctx, encoder, 'encoderBackward', [
    { kernel: 'embedding', code, entryPoint: 'dwpe', params, buffers: [null, args.dout, null, args.dwpe], workgroups: [Math.ceil(C / 64), T] },
    { kernel: 'embedding', code, entryPoint: 'dwte', params, buffers: [args.inp, args.dout, null, args.dwte], workgroups: [Math.ceil(C / 64), G] },
  ]);
}
