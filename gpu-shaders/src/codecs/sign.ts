/**
 * Thin wrapper for sign.wgsl / sign_decode.wgsl: scaled sign with fused error feedback.
 * Bit-identical to `SignCodec` in @swarmgrad/peer-core (same tree-order block sums).
 */
import type { GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkCount, f32Bits, launch, needFloats, readWords } from './dispatch.ts';
import code from './sign.wgsl';
import decodeCode from './sign_decode.wgsl';

export interface SignEncodeArgs {
  n: number;
  /** Power of two in 1..256 (default 256). */
  blockSize?: number;
  /** Default true: p = x + residual, residual <- p - decoded. */
  errorFeedback?: boolean;
  x: GPUBuffer;
  /** n f32, read and updated in place when errorFeedback (bind any buffer otherwise). */
  residual: GPUBuffer;
  /** ceil(n/B) f32 */
  scales: GPUBuffer;
  /** ceil(n/32) u32 words, zeroed (bits are OR-ed in). */
  bits: GPUBuffer;
}

function blockOf(kernel: string, b: number | undefined): number {
  const B = b ?? 256;
  if (!Number.isInteger(B) || B < 1 || B > 256 || (B & (B - 1)) !== 0) throw new KernelInputError(kernel, `blockSize must be a power of two in 1..256, got ${B}`);
  return B;
}

export async function signEncode(ctx: GpuContext, a: SignEncodeArgs): Promise<void> {
  checkCount('sign_encode', a.n);
  const B = blockOf('sign_encode', a.blockSize);
  const ef = a.errorFeedback ?? true;
  const nb = Math.ceil(a.n / B);
  needFloats('sign_encode', 'x', a.x, a.n);
  if (ef) needFloats('sign_encode', 'residual', a.residual, a.n);
  needFloats('sign_encode', 'scales', a.scales, nb);
  needFloats('sign_encode', 'bits', a.bits, Math.ceil(a.n / 32));
  const last = a.n - (nb - 1) * B;
  const params = [a.n, nb, f32Bits(1 / B), f32Bits(nb > 0 ? 1 / last : 1)];
  await launch(ctx, { kernel: 'codec_sign', code, entryPoint: 'encode', constants: { BLOCK: B, EF: ef }, params, buffers: [a.x, a.residual, a.scales, a.bits], workgroups: nb });
}

export interface SignDecodeArgs {
  n: number;
  blockSize?: number;
  scales: GPUBuffer;
  bits: GPUBuffer;
  out: GPUBuffer;
}

export async function signDecode(ctx: GpuContext, a: SignDecodeArgs): Promise<void> {
  checkCount('sign_decode', a.n);
  const B = blockOf('sign_decode', a.blockSize);
  const nb = Math.ceil(a.n / B);
  needFloats('sign_decode', 'scales', a.scales, nb);
  needFloats('sign_decode', 'bits', a.bits, Math.ceil(a.n / 32));
  needFloats('sign_decode', 'out', a.out, a.n);
  await launch(ctx, { kernel: 'codec_sign_decode', code: decodeCode, entryPoint: 'main', constants: { BLOCK: B }, params: [a.n, nb, 0, 0], buffers: [a.scales, a.bits, a.out], workgroups: Math.ceil(a.n / 256) });
}

/** Convenience: `SignCodec` payload (u32 B | scales | bits) and the updated residual, from the GPU. */
export async function signCompressGpu(ctx: GpuContext, x: Float32Array, residual: Float32Array | undefined, blockSize = 256): Promise<{ payload: Uint8Array; residual: Float32Array }> {
  const n = x.length;
  const nb = Math.ceil(n / blockSize);
  const bw = Math.ceil(n / 32);
  const res = ctx.buffer(residual ?? new Float32Array(n));
  const scales = ctx.buffer(nb * 4);
  const bits = ctx.buffer(bw * 4);
  await signEncode(ctx, { n, blockSize, errorFeedback: true, x: ctx.buffer(x), residual: res, scales, bits });
  const out = new Uint8Array(4 + 4 * nb + 4 * bw);
  new DataView(out.buffer).setUint32(0, blockSize, true);
  out.set(new Uint8Array((await readWords(ctx, scales, nb)).slice().buffer), 4);
  out.set(new Uint8Array((await readWords(ctx, bits, bw)).slice().buffer), 4 + 4 * nb);
  return { payload: out, residual: n === 0 ? new Float32Array(0) : await ctx.readFloat32(res, n) };
}

/** Convenience: decode a `SignCodec` payload on the GPU. */
export async function signDecompressGpu(ctx: GpuContext, payload: Uint8Array, n: number): Promise<Float32Array> {
  const B = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
  const nb = Math.ceil(n / B);
  const scales = new Float32Array(nb);
  new Uint8Array(scales.buffer).set(payload.subarray(4, 4 + 4 * nb));
  const bits = new Uint32Array(Math.ceil(n / 32));
  new Uint8Array(bits.buffer).set(payload.subarray(4 + 4 * nb, 4 + 4 * nb + bits.byteLength));
  const out = ctx.buffer(n * 4);
  await signDecode(ctx, { n, blockSize: B, scales: ctx.buffer(scales), bits: ctx.buffer(bits), out });
  return n === 0 ? new Float32Array(0) : ctx.readFloat32(out, n);
}
