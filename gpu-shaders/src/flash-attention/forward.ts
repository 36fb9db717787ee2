/**
 * Thin wrapper for forward.wgsl: fused (flash-style) causal multi-head attention, forward.
 * out (B,T,C) and lse (B,NH,T) from qkv (B,T,3C); overwrites both. Reference:
 * `flashAttentionForward` in @swarmgrad/peer-core/reference. Any T, head size hs = C/NH <= 256.
 * One dispatch: the register-tiled kernel (forward-tiled.wgsl) where its tiles fit the device,
 * ceil(T/BR) × B·NH workgroups of BR/4·CG invocations; else the one-row kernel (forward.wgsl),
 * ceil(T/BR) × B·NH workgroups of BR invocations.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, encodeDispatches, packParams } from '../kernel.ts';
import code from './forward.wgsl';
import tiledCode from './forward-tiled.wgsl';
import { checkFlashShape, flashTiledConsts, flashTiledTiles, flashTiles, flashTuning, specialise, tilesKey } from './tiles.ts';

export interface FlashAttentionForwardArgs {
  out: BufferArg;
  lse: BufferArg;
  qkv: BufferArg;
  B: number;
  T: number;
  C: number;
  NH: number;
}

/** Validates shapes and buffer sizes (KernelInputError); returns hs. */
export function validateFlashAttentionForward(args: FlashAttentionForwardArgs): number {
  const { B, T, C, NH } = args;
  const hs = checkFlashShape('flashAttention', B, T, C, NH);
  checkBuffers('flashAttention', [
    ['out', args.out, B * T * C],
    ['lse', args.lse, B * NH * T],
    ['qkv', args.qkv, B * T * 3 * C],
  ]);
  return hs;
}

export function encodeFlashAttentionForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: FlashAttentionForwardArgs): void {
  const hs = validateFlashAttentionForward(args);
  const { B, T, C, NH } = args;
  const limits = ctx.device.limits;
  const tt = flashTuning.tiled ? flashTiledTiles('forward', hs, limits.maxComputeWorkgroupStorageSize, limits.maxComputeInvocationsPerWorkgroup) : null;
  if (tt) {
    const consts = flashTiledConsts(tt);
    const nqb = Math.ceil(T / tt.BR);
    encodeDispatches(ctx, encoder, 'flashAttention', [
      {
        kernel: tilesKey('flashAttentionTiled', { ...consts, unroll: +flashTuning.unroll }),
        code: specialise(tiledCode, consts, flashTuning.unroll),
        entryPoint: 'forward',
        params: packParams([B, T, C, NH, hs, nqb]),
        buffers: [args.qkv, args.out, args.lse],
        workgroups: [nqb, B * NH],
      },
    ]);
    return;
  }
  const tiles = flashTiles(hs, ctx.device.limits.maxComputeWorkgroupStorageSize);
  const consts = { HS4: tiles.HS4, BR: tiles.BR, BC: tiles.BC };
  const nqb = Math.ceil(T / tiles.BR);
  encodeDispatches(ctx, encoder, 'flashAttention', [
    {
      kernel: tilesKey('flashAttention', { ...consts, unroll: +flashTuning.unroll }),
      code: specialise(code, consts, flashTuning.unroll),
      entryPoint: 'forward',
      params: packParams([B, T, C, NH, hs, nqb]),
      buffers: [args.qkv, args.out, args.lse],
      workgroups: [nqb, B * NH],
    },
  ]);
}
