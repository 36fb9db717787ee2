/**
 * `randomk`: keep k = ceil(fraction·n) elements chosen uniformly at random without replacement
 * (Floyd's algorithm driven by the codec hash RNG under the message's seed), so the receiver
 * regenerates the indices from the seed and only the values travel. With `scaled` (default) the
 * values are multiplied by n/k, making the codec unbiased: E[D(C(x))] = x, variance (n/k - 1)·x_i^2
 * per element (Stich et al. 2018; Wangni et al. 2018). Unscaled rand-k is the contraction
 * compressor CHOCO-SGD uses (Koloskova et al. 2019).
 *
 * Payload (little-endian): u32 seed | u32 k | u32 flags (bit 0: scaled) | k f32 values (in
 * increasing index order, already scaled).
 * Not here: error feedback (unbiased; use topk when biased + memory is wanted).
 */
import { BaseCodec, bytesOf, readF32, view } from './base.ts';
import { DEFAULT_KEEP_FRACTION } from './constants.ts';
import { CodecInputError, CodecPayloadError } from './errors.ts';
import { hashU32 } from './hash.ts';
import { keepCount } from './topk.ts';
import type { CodecName } from './types.ts';

/** Uniform integer in [0, m) from two hash draws (53-bit, bias < m·2^-53). */
function uniformInt(seed: number, counter: number, m: number): number {
  const hi = hashU32(seed, 2 * counter) >>> 5; // 27 bits
  const lo = hashU32(seed, 2 * counter + 1) >>> 6; // 26 bits
  return Math.floor(((hi * 67108864 + lo) / 9007199254740992) * m);
}

/** The k indices (ascending) randomk uses for `seed`: Floyd's sampling without replacement. */
export function randomkIndices(n: number, k: number, seed: number): Uint32Array {
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = uniformInt(seed, j, j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Uint32Array.from(chosen).sort();
}

export interface RandomkInit {
  /** Fraction of elements kept, in (0, 1]. Default 0.01. */
  fraction?: number;
  /** Multiply by n/k so the codec is unbiased (default true). */
  scaled?: boolean;
}

export class RandomkCodec extends BaseCodec {
  readonly name: CodecName = 'randomk';
  readonly fraction: number;
  readonly scaled: boolean;
  constructor(init: RandomkInit = {}) {
    super(false);
    this.fraction = init.fraction ?? DEFAULT_KEEP_FRACTION;
    this.scaled = init.scaled ?? true;
    if (!(this.fraction > 0 && this.fraction <= 1)) throw new CodecInputError('randomk', `fraction must be in (0, 1], got ${this.fraction}`);
  }
  protected encode(p: Float32Array, seed: number): Uint8Array {
    const n = p.length;
    const k = keepCount(n, this.fraction);
    const idx = randomkIndices(n, k, seed);
    const scale = this.scaled && k > 0 ? n / k : 1;
    const vals = new Float32Array(k);
    for (let j = 0; j < k; j++) vals[j] = p[idx[j]] * scale;
    const out = new Uint8Array(12 + 4 * k);
    const dv = view(out);
    dv.setUint32(0, seed, true);
    dv.setUint32(4, k, true);
    dv.setUint32(8, this.scaled ? 1 : 0, true);
    out.set(bytesOf(vals), 12);
    return out;
  }
  protected decode(payload: Uint8Array, n: number): Float32Array {
    const dv = view(payload);
    const seed = dv.getUint32(0, true);
    const k = dv.getUint32(4, true);
    const idx = randomkIndices(n, k, seed);
    const vals = readF32(payload, 12, k);
    const out = new Float32Array(n);
    for (let j = 0; j < k; j++) out[idx[j]] = vals[j];
    return out;
  }
  payloadBytes(n: number): number {
    return 12 + 4 * keepCount(n, this.fraction);
  }
  protected override expectedPayloadBytes(payload: Uint8Array, n: number): number {
    if (payload.byteLength < 12) throw new CodecPayloadError('randomk', `payload is ${payload.byteLength} bytes, shorter than its 12-byte preamble`);
    const k = view(payload).getUint32(4, true);
    if (k > n) throw new CodecPayloadError('randomk', `k=${k} exceeds n=${n}`);
    return 12 + 4 * k;
  }
}
