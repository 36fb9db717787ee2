/**
 * `sign`: scaled sign compression, 1 bit per element, with error feedback (EF-SignSGD,
 * Karimireddy et al. 2019, "Error Feedback Fixes SignSGD and other Gradient Compression Schemes").
 *
 * p = x + e (residual); per block of B elements (default 256) the scale is
 * s = (sum |p_i| over the block) · fround(1/len), the sum taken in f32 in the fixed pairwise-tree
 * order of a 256-wide workgroup reduction (`treeSumAbs`) so the WGSL kernel matches bit for bit.
 * Element i decodes to +s if p_i >= 0 else -s; the new residual is e = p - decoded.
 *
 * Payload (little-endian): u32 B | nb = ceil(n/B) f32 scales | ceil(n/32) u32 words of sign bits
 * (bit i%32 of word i/32 set when p_i < 0).
 * Not here: majority vote across peers (signSGD-MV); averaging is done by the gossip layer.
 */
import { BaseCodec, readF32, readU32, view } from './base.ts';
import { SIGN_BLOCK } from './constants.ts';
import { CodecInputError, CodecPayloadError } from './errors.ts';
import type { CodecName } from './types.ts';

/**
 * f32 sum of |p[lo..hi)| in the order of a workgroup tree reduction of width `width` (a power of
 * two >= hi-lo): slot j holds |p[lo+j]| (0 past the end); for stride = width/2 .. 1, slot j +=
 * slot j+stride. Reference for the reduction in sign.wgsl.
 */
export function treeSumAbs(p: Float32Array, lo: number, hi: number, width: number): number {
  const s = new Float32Array(width);
  for (let j = 0; j < width && lo + j < hi; j++) s[j] = Math.abs(p[lo + j]);
  for (let stride = width >>> 1; stride > 0; stride >>>= 1) {
    for (let j = 0; j < stride; j++) s[j] = s[j] + s[j + stride];
  }
  return s[0];
}

export interface SignInit {
  /** Elements per scale block: a power of two in 1..256 (the WGSL workgroup width). Default 256. */
  blockSize?: number;
  /** Error feedback on (default) or off (plain scaled sign, biased). */
  errorFeedback?: boolean;
}

export class SignCodec extends BaseCodec {
  readonly name: CodecName = 'sign';
  readonly blockSize: number;
  constructor(init: SignInit = {}) {
    super(init.errorFeedback ?? true);
    const B = init.blockSize ?? SIGN_BLOCK;
    if (!Number.isInteger(B) || B < 1 || B > 256 || (B & (B - 1)) !== 0) throw new CodecInputError('sign', `blockSize must be a power of two in 1..256, got ${B}`);
    this.blockSize = B;
  }
  protected encode(p: Float32Array): Uint8Array {
    const n = p.length;
    const B = this.blockSize;
    const nb = Math.ceil(n / B);
    const out = new Uint8Array(this.payloadBytes(n));
    const dv = view(out);
    dv.setUint32(0, B, true);
    for (let b = 0; b < nb; b++) {
      const lo = b * B;
      const hi = Math.min(n, lo + B);
      const scale = Math.fround(treeSumAbs(p, lo, hi, B) * Math.fround(1 / (hi - lo)));
      dv.setFloat32(4 + 4 * b, scale, true);
    }
    const wOff = 4 + 4 * nb;
    for (let w = 0; w < Math.ceil(n / 32); w++) {
      let word = 0;
      for (let j = 0; j < 32 && w * 32 + j < n; j++) if (p[w * 32 + j] < 0) word |= 1 << j;
      dv.setUint32(wOff + 4 * w, word >>> 0, true);
    }
    return out;
  }
  protected decode(payload: Uint8Array, n: number): Float32Array {
    const B = view(payload).getUint32(0, true);
    const nb = Math.ceil(n / B);
    const scales = readF32(payload, 4, nb);
    const words = readU32(payload, 4 + 4 * nb, Math.ceil(n / 32));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = scales[Math.floor(i / B)];
      out[i] = (words[i >>> 5] >>> (i & 31)) & 1 ? -s : s;
    }
    return out;
  }
  payloadBytes(n: number): number {
    return 4 + 4 * Math.ceil(n / this.blockSize) + 4 * Math.ceil(n / 32);
  }
  protected override expectedPayloadBytes(payload: Uint8Array, n: number): number {
    if (payload.byteLength < 4) throw new CodecPayloadError('sign', `payload is ${payload.byteLength} bytes, shorter than its 4-byte preamble`);
    const B = view(payload).getUint32(0, true);
    if (B < 1 || B > 65536) throw new CodecPayloadError('sign', `block size ${B} out of range`);
    return 4 + 4 * Math.ceil(n / B) + 4 * Math.ceil(n / 32);
  }
}
