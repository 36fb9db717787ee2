/**
 * Shared codec plumbing: input checks, little-endian byte views, error-feedback residual store,
 * and `BaseCodec` which turns a stateless `encode/decode` pair into a Codec with optional error
 * feedback (EF-SGD, Karimireddy et al. 2019: p = x + e; send C(p); e <- p - D(C(p))).
 */
import { WIRE_HEADER_BYTES } from './constants.ts';
import { CodecInputError, CodecPayloadError } from './errors.ts';
import type { Codec, CodecName, CompressContext, Encoded } from './types.ts';

export function assertFinite(codec: string, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new CodecInputError(codec, `input element ${i} is ${x[i]} (only finite values can be encoded)`);
  }
}

export function checkPayloadLength(codec: string, enc: Encoded, expected: number): void {
  if (enc.payload.byteLength !== expected) {
    throw new CodecPayloadError(codec, `payload is ${enc.payload.byteLength} bytes, expected ${expected} for n=${enc.n}`);
  }
}

export function checkEncoded(codec: CodecName, enc: Encoded): void {
  if (enc.codec !== codec) throw new CodecPayloadError(codec, `cannot decode a '${enc.codec}' payload`);
  if (!Number.isInteger(enc.n) || enc.n < 0) throw new CodecPayloadError(codec, `bad element count ${enc.n}`);
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Copy `count` little-endian f32 from `bytes` at `offset` (works at any alignment). */
export function readF32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * 4));
  return out;
}

export function readU32(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * 4));
  return out;
}

export function bytesOf(a: Float32Array | Uint32Array | Uint16Array | Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function assertFiniteOutput(codec: string, y: Float32Array): void {
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new CodecPayloadError(codec, `decoded element ${i} is ${y[i]}`);
  }
}

/** The little-endian byte order is assumed by the Float32Array views above (all browsers and Node targets). */
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('codecs require a little-endian platform');

export abstract class BaseCodec implements Codec {
  abstract readonly name: CodecName;
  readonly errorFeedback: boolean;
  private readonly residuals = new Map<string, Float32Array>();

  constructor(errorFeedback: boolean) {
    this.errorFeedback = errorFeedback;
  }

  /** Encode `p` (already finite-checked, residual already added). */
  protected abstract encode(p: Float32Array, seed: number): Uint8Array;
  /** Decode a payload of the right codec; must check the length. */
  protected abstract decode(payload: Uint8Array, n: number): Float32Array;
  /** Payload bytes (header excluded) for n elements, as this codec instance produces them. */
  abstract payloadBytes(n: number): number;
  /**
   * Payload bytes a received payload must have (self-describing layouts read their own fields,
   * e.g. k or the block size); may throw CodecPayloadError. Default: payloadBytes(n).
   */
  protected expectedPayloadBytes(_payload: Uint8Array, n: number): number {
    return this.payloadBytes(n);
  }

  compress(x: Float32Array, ctx: CompressContext = {}): Encoded {
    assertFinite(this.name, x);
    const key = ctx.key ?? 'default';
    const seed = (ctx.seed ?? 0) >>> 0;
    if (!this.errorFeedback) return { codec: this.name, n: x.length, payload: this.encode(x, seed) };
    let e = this.residuals.get(key);
    if (e && e.length !== x.length) throw new CodecInputError(this.name, `tensor '${key}' changed size from ${e.length} to ${x.length}; call resetState('${key}')`);
    const p = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) p[i] = x[i] + (e ? e[i] : 0);
    const payload = this.encode(p, seed);
    const d = this.decode(payload, x.length);
    e ??= new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) e[i] = p[i] - d[i];
    this.residuals.set(key, e);
    return { codec: this.name, n: x.length, payload };
  }

  decompress(enc: Encoded): Float32Array {
    checkEncoded(this.name, enc);
    checkPayloadLength(this.name, enc, this.expectedPayloadBytes(enc.payload, enc.n));
    const y = this.decode(enc.payload, enc.n);
    assertFiniteOutput(this.name, y);
    return y;
  }

  encodedBytes(n: number): number {
    return WIRE_HEADER_BYTES + this.payloadBytes(n);
  }

  estimateRatio(n: number): number {
    return n === 0 ? 1 : this.encodedBytes(n) / (4 * n);
  }

  residual(key = 'default'): Float32Array | undefined {
    return this.residuals.get(key)?.slice();
  }

  resetState(key?: string): void {
    if (key === undefined) this.residuals.clear();
    else this.residuals.delete(key);
  }
}
