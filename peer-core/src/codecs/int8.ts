/**
 * `int8`: blockwise 8-bit quantisation with unbiased stochastic rounding.
 *
 * Each block of B elements (default 256) shares a power-of-two scale s = 2^e, the smallest with
 * max|x| / s <= 127 (e >= -126). Each element becomes q = floor(t) + [u < t - floor(t)] with
 * t = x / s (exact: a power-of-two multiply) and u = hashUniform24(seed, i), so E[q·s] = x up to
 * the 2^-24 resolution of u, and |q·s - x| < s. Only exact operations (power-of-two multiplies,
 * floor, compares) are involved, which is why the WGSL kernel reproduces this bit for bit: a
 * float division (2.5 ulp in WGSL) would not. The power-of-two scale costs < 1 bit of range
 * against an absmax/127 scale (cf. the shared-exponent MX formats).
 *
 * Payload (little-endian): u32 seed | u32 B | nb = ceil(n/B) exponent bytes (e + 127),
 * zero-padded to a multiple of 4 | n int8 values, zero-padded to a multiple of 4.
 * Not here: error feedback (the rounding is unbiased, so it is not needed).
 */
import { BaseCodec, view } from './base.ts';
import { INT8_BLOCK } from './constants.ts';
import { CodecInputError, CodecPayloadError } from './errors.ts';
import { hashUniform24 } from './hash.ts';
import type { CodecName } from './types.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const pad4 = (b: number) => Math.ceil(b / 4) * 4;

/** Block exponent e for a block whose largest magnitude is `absmax` (reference for int8.wgsl). */
export function int8BlockExponent(absmax: number): number {
  if (absmax === 0) return -126;
  f32[0] = absmax;
  let e = ((u32[0] >>> 23) & 0xff) - 127 - 6;
  if (e < -126) e = -126;
  if (Math.fround(absmax * 2 ** -e) > 127) e += 1;
  return e;
}

/** Stochastic rounding of one element (reference for int8.wgsl). */
export function int8Quantize(x: number, e: number, seed: number, i: number): number {
  const t = Math.fround(x * 2 ** -e);
  const q0 = Math.floor(t);
  const frac = t - q0;
  return hashUniform24(seed, i) < frac ? q0 + 1 : q0;
}

export interface Int8Init {
  /** Elements per scale block (1..65536). Default 256. */
  blockSize?: number;
}

export class Int8Codec extends BaseCodec {
  readonly name: CodecName = 'int8';
  readonly blockSize: number;
  constructor(init: Int8Init = {}) {
    super(false);
    this.blockSize = init.blockSize ?? INT8_BLOCK;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 1 || this.blockSize > 65536) throw new CodecInputError('int8', `blockSize must be an integer in 1..65536, got ${this.blockSize}`);
  }
  protected encode(p: Float32Array, seed: number): Uint8Array {
    const n = p.length;
    const B = this.blockSize;
    const nb = Math.ceil(n / B);
    const out = new Uint8Array(this.payloadBytes(n));
    const dv = view(out);
    dv.setUint32(0, seed, true);
    dv.setUint32(4, B, true);
    const qOff = 8 + pad4(nb);
    for (let b = 0; b < nb; b++) {
      const lo = b * B;
      const hi = Math.min(n, lo + B);
      let absmax = 0;
      for (let i = lo; i < hi; i++) absmax = Math.max(absmax, Math.abs(p[i]));
      const e = int8BlockExponent(absmax);
      out[8 + b] = e + 127;
      for (let i = lo; i < hi; i++) dv.setInt8(qOff + i, int8Quantize(p[i], e, seed, i));
    }
    return out;
  }
  protected decode(payload: Uint8Array, n: number): Float32Array {
    const dv = view(payload);
    const B = dv.getUint32(4, true);
    const nb = Math.ceil(n / B);
    const qOff = 8 + pad4(nb);
    const out = new Float32Array(n);
    for (let b = 0; b < nb; b++) {
      const code = payload[8 + b];
      if (code === 0 || code === 255) throw new CodecPayloadError('int8', `block ${b} has reserved exponent code ${code}`);
      const s = 2 ** (code - 127);
      const hi = Math.min(n, (b + 1) * B);
      for (let i = b * B; i < hi; i++) out[i] = dv.getInt8(qOff + i) * s;
    }
    return out;
  }
  payloadBytes(n: number): number {
    return 8 + pad4(Math.ceil(n / this.blockSize)) + pad4(n);
  }
  protected override expectedPayloadBytes(payload: Uint8Array, n: number): number {
    if (payload.byteLength < 8) throw new CodecPayloadError('int8', `payload is ${payload.byteLength} bytes, shorter than its 8-byte preamble`);
    const B = view(payload).getUint32(4, true);
    if (B < 1 || B > 65536) throw new CodecPayloadError('int8', `block size ${B} out of range 1..65536`);
    return 8 + pad4(Math.ceil(n / B)) + pad4(n);
  }
}
