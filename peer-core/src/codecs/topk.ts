/**
 * `topk`: keep the k = ceil(fraction·n) largest-magnitude elements, with error feedback
 * (Stich et al. 2018, "Sparsified SGD with Memory"; Lin et al. 2018, Deep Gradient Compression):
 * p = x + e; send the top-k of p; e <- p with the sent elements zeroed.
 *
 * Selection is defined so that a GPU threshold select (radix select on |p| bit patterns) gives
 * the same set: T = the k-th largest |p|; take every element with |p| > T, then elements with
 * |p| == T in increasing index order until k are taken. Sent in increasing index order.
 *
 * Payload (little-endian): u32 k | k u32 indices (strictly increasing, < n) | k f32 values.
 * Not here: index delta/varint coding (would shave ~half the index bytes).
 */
import { BaseCodec, bytesOf, readF32, readU32, view } from './base.ts';
import { DEFAULT_KEEP_FRACTION } from './constants.ts';
import { CodecInputError, CodecPayloadError } from './errors.ts';
import type { CodecName } from './types.ts';

export function keepCount(n: number, fraction: number): number {
  return n === 0 ? 0 : Math.min(n, Math.max(1, Math.ceil(fraction * n)));
}

/** Indices of the top-k |p| (ties at the threshold: lowest indices first), ascending. */
export function topkIndices(p: Float32Array, k: number): Uint32Array {
  const n = p.length;
  const out = new Uint32Array(k);
  if (k === 0) return out;
  const mags = new Float32Array(n);
  for (let i = 0; i < n; i++) mags[i] = Math.abs(p[i]);
  const sorted = mags.slice().sort();
  const T = sorted[n - k];
  let above = 0;
  for (let i = 0; i < n; i++) if (mags[i] > T) above++;
  let ties = k - above;
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (mags[i] > T) out[j++] = i;
    else if (mags[i] === T && ties > 0) {
      out[j++] = i;
      ties--;
    }
  }
  return out;
}

export interface TopkInit {
  /** Fraction of elements kept, in (0, 1]. Default 0.01. */
  fraction?: number;
  /** Error feedback on (default) or off. */
  errorFeedback?: boolean;
}

export class TopkCodec extends BaseCodec {
  readonly name: CodecName = 'topk';
  readonly fraction: number;
  constructor(init: TopkInit = {}) {
    super(init.errorFeedback ?? true);
    this.fraction = init.fraction ?? DEFAULT_KEEP_FRACTION;
    if (!(this.fraction > 0 && this.fraction <= 1)) throw new CodecInputError('topk', `fraction must be in (0, 1], got ${this.fraction}`);
  }
  protected encode(p: Float32Array): Uint8Array {
    const k = keepCount(p.length, this.fraction);
    const idx = topkIndices(p, k);
    const vals = new Float32Array(k);
    for (let j = 0; j < k; j++) vals[j] = p[idx[j]];
    const out = new Uint8Array(4 + 8 * k);
    view(out).setUint32(0, k, true);
    out.set(bytesOf(idx), 4);
    out.set(bytesOf(vals), 4 + 4 * k);
    return out;
  }
  protected decode(payload: Uint8Array, n: number): Float32Array {
    const k = view(payload).getUint32(0, true);
    const idx = readU32(payload, 4, k);
    const vals = readF32(payload, 4 + 4 * k, k);
    const out = new Float32Array(n);
    for (let j = 0; j < k; j++) {
      const i = idx[j];
      if (i >= n || (j > 0 && i <= idx[j - 1])) throw new CodecPayloadError('topk', `index ${j} is ${i}: indices must be strictly increasing and < ${n}`);
      out[i] = vals[j];
    }
    return out;
  }
  payloadBytes(n: number): number {
    return 4 + 8 * keepCount(n, this.fraction);
  }
  protected override expectedPayloadBytes(payload: Uint8Array, n: number): number {
    if (payload.byteLength < 4) throw new CodecPayloadError('topk', `payload is ${payload.byteLength} bytes, shorter than its 4-byte preamble`);
    const k = view(payload).getUint32(0, true);
    if (k > n) throw new CodecPayloadError('topk', `k=${k} exceeds n=${n}`);
    return 4 + 8 * k;
  }
}
