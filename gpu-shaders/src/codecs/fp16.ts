/**
 * Thin wrapper for fp16.wgsl (pack f32 -> half pairs, unpack). Bit-identical to the CPU codec
 * `Fp16Codec` in @swarmgrad/peer-core (payload = the packed words).
 */
import type { GpuContext } from '../context.ts';
import { checkCount, launch, needFloats, readWords } from './dispatch.ts';
import code from './fp16.wgsl';

export interface Fp16PackArgs {
  n: number;
  /** n f32 */
  x: GPUBuffer;
  /** ceil(n/2) u32 words */
  out: GPUBuffer;
}

export async function fp16Pack(ctx: GpuContext, a: Fp16PackArgs): Promise<void> {
  checkCount('fp16_pack', a.n);
  const words = Math.ceil(a.n / 2);
  needFloats('fp16_pack', 'x', a.x, a.n);
  needFloats('fp16_pack', 'out', a.out, words);
  await launch(ctx, { kernel: 'codec_fp16', code, entryPoint: 'pack', params: [a.n, words, 0, 0], buffers: [a.x, a.out], workgroups: Math.ceil(words / 256) });
}

export interface Fp16UnpackArgs {
  n: number;
  words: GPUBuffer;
  out: GPUBuffer;
}

export async function fp16Unpack(ctx: GpuContext, a: Fp16UnpackArgs): Promise<void> {
  checkCount('fp16_unpack', a.n);
  const words = Math.ceil(a.n / 2);
  needFloats('fp16_unpack', 'words', a.words, words);
  needFloats('fp16_unpack', 'out', a.out, a.n);
  await launch(ctx, { kernel: 'codec_fp16', code, entryPoint: 'unpack', params: [a.n, words, 0, 0], buffers: [a.words, a.out], workgroups: Math.ceil(a.n / 256) });
}

/** Convenience: payload bytes of `Fp16Codec` computed on the GPU. */
export async function fp16CompressGpu(ctx: GpuContext, x: Float32Array): Promise<Uint8Array> {
  const words = Math.ceil(x.length / 2);
  const out = ctx.buffer(words * 4);
  await fp16Pack(ctx, { n: x.length, x: ctx.buffer(x), out });
  const w = await readWords(ctx, out, words);
  out.destroy();
  return new Uint8Array(w.buffer, w.byteOffset, words * 4);
}

/** Convenience: decode an `Fp16Codec` payload on the GPU. */
export async function fp16DecompressGpu(ctx: GpuContext, payload: Uint8Array, n: number): Promise<Float32Array> {
  const words = new Uint32Array(Math.ceil(n / 2));
  new Uint8Array(words.buffer).set(payload.subarray(0, words.byteLength));
  const out = ctx.buffer(n * 4);
  await fp16Unpack(ctx, { n, words: ctx.buffer(words), out });
  return n === 0 ? new Float32Array(0) : ctx.readFloat32(out, n);
}
