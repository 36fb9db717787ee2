/**
 * Thin wrapper for backward.wgsl: fused (flash-style) causal multi-head attention, backward.
 * Accumulates (+=) into dqkv (B,T,3C) from dout (B,T,C) and the forward's qkv, out, lse.
 * Reference: `flashAttentionBackward` in @swarmgrad/peer-core/reference.
 * Two dispatches in one pass: `dq` (query blocks; also writes D = rowsum(dout∘out) to a pooled
 * (B,NH,T) scratch buffer) then `dkv` (key blocks), each ceil(T/(BR/2)) × B·NH workgroups of BR
 * invocations (two per row). Any T, hs <= 256.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, encodeDispatches, packParams } from '../kernel.ts';
import code from './backward.wgsl';
import { checkFlashShape, flashTiles, flashTuning, specialise, tilesKey } from './tiles.ts';

export interface FlashAttentionBackwardArgs {
  dqkv: BufferArg;
  dout: BufferArg;
  qkv: BufferArg;
  out: BufferArg;
  lse: BufferArg;
  B: number;
  T: number;
  C: number;
  NH: number;
}

/** Validates shapes and buffer sizes (KernelInputError); returns hs. */
export function validateFlashAttentionBackward(args: FlashAttentionBackwardArgs): number {
  const { B, T, C, NH } = args;
  const hs = checkFlashShape('flashAttentionBackward', B, T, C, NH);
  checkBuffers('flashAttentionBackward', [
    ['dqkv', args.dqkv, B * T * 3 * C],
    ['dout', args.dout, B * T * C],
    ['qkv', args.qkv, B * T * 3 * C],
    ['out', args.out, B * T * C],
    ['lse', args.lse, B * NH * T],
  ]);
  return hs;
}

export function encodeFlashAttentionBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: FlashAttentionBackwardArgs): void {
  const hs = validateFlashAttentionBackward(args);
  const { B, T, C, NH } = args;
  const tiles = flashTiles(hs, ctx.device.limits.maxComputeWorkgroupStorageSize);
  const consts = { HS4: tiles.HS4, BR: tiles.BR, BC: tiles.BCB, BQ: tiles.BQ };
  const nb = Math.ceil(T / (tiles.BR / 2)); // two invocations per row
  const kernel = tilesKey('flashAttentionBackward', { ...consts, unroll: +flashTuning.unroll });
  const src = specialise(code, consts, flashTuning.unroll);
  const params = packParams([B, T, C, NH, hs, nb]);
  const D = ctx.pool.acquire(B * NH * T * 4, 'flashAttention.D');
  encodeDispatches(ctx, encoder, 'flashAttentionBackward', [
    { kernel, code: src, entryPoint: 'dq', params, buffers: [args.qkv, args.out, args.dout, args.lse, args.dqkv, D], workgroups: [nb, B * NH] },
    { kernel, code: src, entryPoint: 'dkv', params, buffers: [args.qkv, null, args.dout, args.lse, args.dqkv, D], workgroups: [nb, B * NH] },
  ]);
  ctx.pool.release(D);
}
