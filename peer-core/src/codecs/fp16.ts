/**
 * `fp16`: IEEE binary16, round to nearest even, computed with integer ops only so that the WGSL
 * kernel (gpu-shaders/src/codecs/fp16.wgsl) matches bit for bit. Magnitudes beyond the largest
 * finite half (65504) saturate to ±65504 instead of becoming Inf. Values below half the smallest
 * subnormal (2^-25) become ±0.
 * Payload: ceil(n/2) u32 words, element 2j in the low 16 bits of word j (odd n: top half is 0).
 * Not here: bf16 or scaled fp16 (a global scale would let larger values survive).
 */
import { BaseCodec, bytesOf, readU32 } from './base.ts';
import type { CodecName } from './types.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 bits -> f16 bits (RNE, saturating). Reference for fp16.wgsl. */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const e = (bits >>> 23) & 0xff;
  const m = bits & 0x7fffff;
  if (e === 255) return sign | 0x7bff; // callers reject NaN/Inf before this; saturate if not
  if (e >= 113) {
    // normal half (or overflow)
    const hm = m >>> 13;
    const rem = m & 0x1fff;
    let h = ((e - 112) << 10) | hm;
    if (rem > 0x1000 || (rem === 0x1000 && (hm & 1) === 1)) h += 1;
    if (h >= 0x7c00) h = 0x7bff;
    return sign | h;
  }
  if (e >= 102) {
    // subnormal half: value = m' * 2^(e-150) = (m' >> (126-e)) * 2^-24
    const mm = m | 0x800000;
    const shift = 126 - e;
    let h = mm >>> shift;
    const rem = mm & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  return sign;
}

/** f16 bits -> f32 value (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function f32ToF16(x: number): number {
  f32[0] = x;
  return f32BitsToF16(u32[0]);
}

export class Fp16Codec extends BaseCodec {
  readonly name: CodecName = 'fp16';
  constructor() {
    super(false);
  }
  protected encode(p: Float32Array): Uint8Array {
    const bits = new Uint32Array(p.buffer, p.byteOffset, p.length);
    const words = new Uint32Array(Math.ceil(p.length / 2));
    for (let i = 0; i < p.length; i++) words[i >>> 1] |= f32BitsToF16(bits[i]) << ((i & 1) * 16);
    return bytesOf(words);
  }
  protected decode(payload: Uint8Array, n: number): Float32Array {
    const words = readU32(payload, 0, Math.ceil(n / 2));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f16ToF32((words[i >>> 1] >>> ((i & 1) * 16)) & 0xffff);
    return out;
  }
  payloadBytes(n: number): number {
    return 4 * Math.ceil(n / 2);
  }
}
