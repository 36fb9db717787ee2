/**
 * Thin wrapper for int8.wgsl / int8_decode.wgsl: blockwise stochastic rounding with power-of-two
 * scales. Bit-identical to `Int8Codec` in @swarmgrad/peer-core (same hash RNG, same exact ops).
 */
import type { GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkCount, launch, needFloats, readWords } from './dispatch.ts';
import code from './int8.wgsl';
import decodeCode from './int8_decode.wgsl';

export interface Int8QuantizeArgs {
  n: number;
  seed: number;
  /** Multiple of 4 in 4..65536 (default 256). */
  blockSize?: number;
  x: GPUBuffer;
  /** ceil(nblocks/4) u32 words, zeroed (exponent bytes are OR-ed in). */
  exps: GPUBuffer;
  /** ceil(n/4) u32 words of packed int8. */
  q: GPUBuffer;
}

function blockOf(kernel: string, b: number | undefined): number {
  const B = b ?? 256;
  if (!Number.isInteger(B) || B < 4 || B > 65536 || B % 4 !== 0) throw new KernelInputError(kernel, `blockSize must be a multiple of 4 in 4..65536, got ${B}`);
  return B;
}

export async function int8Quantize(ctx: GpuContext, a: Int8QuantizeArgs): Promise<void> {
  checkCount('int8_quantize', a.n);
  const B = blockOf('int8_quantize', a.blockSize);
  const nb = Math.ceil(a.n / B);
  needFloats('int8_quantize', 'x', a.x, a.n);
  needFloats('int8_quantize', 'exps', a.exps, Math.ceil(nb / 4));
  needFloats('int8_quantize', 'q', a.q, Math.ceil(a.n / 4));
  await launch(ctx, { kernel: 'codec_int8', code, entryPoint: 'quantize', constants: { BLOCK: B }, params: [a.n, a.seed >>> 0, nb, 0], buffers: [a.x, a.exps, a.q], workgroups: nb });
}

export interface Int8DequantizeArgs {
  n: number;
  blockSize?: number;
  exps: GPUBuffer;
  q: GPUBuffer;
  out: GPUBuffer;
}

export async function int8Dequantize(ctx: GpuContext, a: Int8DequantizeArgs): Promise<void> {
  checkCount('int8_dequantize', a.n);
  const B = blockOf('int8_dequantize', a.blockSize);
  const nb = Math.ceil(a.n / B);
  needFloats('int8_dequantize', 'exps', a.exps, Math.ceil(nb / 4));
  needFloats('int8_dequantize', 'q', a.q, Math.ceil(a.n / 4));
  needFloats('int8_dequantize', 'out', a.out, a.n);
  await launch(ctx, { kernel: 'codec_int8_decode', code: decodeCode, entryPoint: 'dequantize', constants: { BLOCK: B }, params: [a.n, 0, nb, 0], buffers: [a.exps, a.q, a.out], workgroups: Math.ceil(a.n / 256) });
}

/** Convenience: the `Int8Codec` payload (u32 seed | u32 B | exponent bytes | int8 values) from the GPU. */
export async function int8CompressGpu(ctx: GpuContext, x: Float32Array, seed: number, blockSize = 256): Promise<Uint8Array> {
  const n = x.length;
  const nb = Math.ceil(n / blockSize);
  const ew = Math.ceil(nb / 4);
  const qw = Math.ceil(n / 4);
  const exps = ctx.buffer(ew * 4);
  const q = ctx.buffer(qw * 4);
  await int8Quantize(ctx, { n, seed, blockSize, x: ctx.buffer(x), exps, q });
  const out = new Uint8Array(8 + 4 * ew + 4 * qw);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, seed >>> 0, true);
  dv.setUint32(4, blockSize, true);
  out.set(new Uint8Array((await readWords(ctx, exps, ew)).slice().buffer), 8);
  out.set(new Uint8Array((await readWords(ctx, q, qw)).slice().buffer), 8 + 4 * ew);
  return out;
}

/** Convenience: decode an `Int8Codec` payload on the GPU. */
export async function int8DecompressGpu(ctx: GpuContext, payload: Uint8Array, n: number): Promise<Float32Array> {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const B = dv.getUint32(4, true);
  const ew = Math.ceil(Math.ceil(n / B) / 4);
  const words = (off: number, count: number) => {
    const w = new Uint32Array(count);
    new Uint8Array(w.buffer).set(payload.subarray(off, off + 4 * count));
    return w;
  };
  const out = ctx.buffer(n * 4);
  await int8Dequantize(ctx, { n, blockSize: B, exps: ctx.buffer(words(8, ew)), q: ctx.buffer(words(8 + 4 * ew, Math.ceil(n / 4))), out });
  return n === 0 ? new Float32Array(0) : ctx.readFloat32(out, n);
}
