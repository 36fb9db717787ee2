/**
 * Thin wrapper for pad.wgsl: copy an (R, C) matrix with row stride `ld` at element offset
 * `off` of `inp` into a packed, zero-padded (Rp, Cp) matrix (Cp a multiple of 4). Reference:
 * `padMatrix` in @swarmgrad/peer-core/reference. Used by the matmul (padded-K path).
 *
 * Not here: any arithmetic; the matmul decides when padding pays.
 */
import { type BufferArg, bindingBytes, type GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './pad.wgsl';

export interface PadArgs {
  R: number;
  C: number;
  Rp: number;
  /** A multiple of 4. */
  Cp: number;
  /** Row stride of inp in elements (>= C). */
  ld: number;
  /** Element offset of inp[0][0] within the binding; default 0. */
  off?: number;
  inp: BufferArg;
  /** (Rp, Cp) floats, overwritten. */
  out: BufferArg;
}

export function encodePad(ctx: GpuContext, encoder: GPUCommandEncoder, args: PadArgs): void {
  const { R, C, Rp, Cp, ld } = args;
  const off = args.off ?? 0;
  checkDims('pad', { R, C, Rp, Cp, ld });
  if (Rp < R || Cp < C || Cp % 4 !== 0) throw new KernelInputError('pad', `(${Rp}, ${Cp}) must cover (${R}, ${C}) with Cp a multiple of 4`);
  if (ld < C) throw new KernelInputError('pad', `row stride ${ld} is shorter than a row of ${C}`);
  if (!Number.isInteger(off) || off < 0) throw new KernelInputError('pad', `offset must be a non-negative integer, got ${off}`);
  const need = off + (R - 1) * ld + C;
  if (bindingBytes(args.inp) / 4 < need) throw new KernelInputError('pad', `inp holds ${bindingBytes(args.inp) / 4} floats, needs ${need}`);
  if (bindingBytes(args.out) / 4 < Rp * Cp) throw new KernelInputError('pad', `out holds ${bindingBytes(args.out) / 4} floats, needs ${Rp * Cp}`);
  encodeDispatches(ctx, encoder, 'pad', [
    { kernel: 'pad', code, params: packParams([R, C, Rp, Cp, ld, off]), buffers: [args.inp, args.out], workgroups: grid(Math.ceil((Rp * Cp) / 4 / 256)) },
  ]);
}
