/**
 * Thin wrapper for backward.wgsl: fused (flash-style) causal multi-head attention, backward.
 * Accumulates (+=) into dqkv (B,T,3C) from dout (B,T,C) and the forward's qkv, out, lse.
 * Reference: `flashAttentionBackward` in @swarmgrad/peer-core/reference.
 * Two dispatches in one pass: `dq` (query blocks; also writes D = rowsum(dout∘out) to a pooled
 * (B,NH,T) scratch buffer) then `dkv` (key blocks). Each runs the register-tiled kernel
 * (backward-tiled.wgsl, ceil(T/BR) × B·NH workgroups of BR/4·CG invocations) where its tiles fit
 * the device, else the kernel with two invocations per row (backward.wgsl, ceil(T/(BR/2)) × B·NH
 * workgroups of BR invocations). Any T, hs <= 256.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, encodeDispatches, packParams } from '../kernel.ts';
import code from './backward.wgsl';
import tiledCode from './backward-tiled.wgsl';
import { checkFlashShape, flashTiledConsts, flashTiledTiles, flashTiles, flashTuning, specialise, tilesKey } from './tiles.ts';

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
  const limits = ctx.device.limits;
  const D = ctx.pool.acquire(B * NH * T * 4, 'flashAttention.D');
  const pass = (entryPoint: 'dq' | 'dkv') => {
    const buffers = [args.qkv, entryPoint === 'dq' ? args.out : null, args.dout, args.lse, args.dqkv, D]; // dkv reads no out
    const tt = flashTuning.tiled ? flashTiledTiles(entryPoint, hs, limits.maxComputeWorkgroupStorageSize, limits.maxComputeInvocationsPerWorkgroup) : null;
    if (tt) {
      const nb = Math.ceil(T / tt.BR);
      const consts = flashTiledConsts(tt);
      const kernel = tilesKey(`flashAttentionBackwardTiled.${entryPoint}`, { ...consts, unroll: +flashTuning.unroll });
      return { kernel, code: specialise(tiledCode, consts, flashTuning.unroll), entryPoint, params: packParams([B, T, C, NH, hs, nb]), buffers, workgroups: [nb, B * NH] as [number, number] };
    }
    const tiles = flashTiles(hs, limits.maxComputeWorkgroupStorageSize);
    const consts = { HS4: tiles.HS4, BR: tiles.BR, BC: tiles.BCB, BQ: tiles.BQ };
    const nb = Math.ceil(T / (tiles.BR / 2)); // two invocations per row
    const kernel = tilesKey('flashAttentionBackward', { ...consts, unroll: +flashTuning.unroll });
    return { kernel, code: specialise(code, consts, flashTuning.unroll), entryPoint, params: packParams([B, T, C, NH, hs, nb]), buffers, workgroups: [nb, B * NH] as [number, number] };
  };
  encodeDispatches(ctx, encoder, 'flashAttentionBackward', [pass('dq'), pass('dkv')]);
  ctx.pool.release(D);
}
