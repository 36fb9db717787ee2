/** The codec interface (hivemind style: compress / decompress / estimateRatio, no-op baseline). */

export type CodecName = 'none' | 'fp16' | 'int8' | 'topk' | 'sign' | 'randomk';

/**
 * One compressed tensor. `payload` is the codec's bytes (layout per codec, documented in its
 * file and in docs/GOSSIP.md); `n` is the element count of the original Float32Array.
 * `encodeWire` prepends the 8-byte header to get the bytes that travel.
 */
export interface Encoded {
  codec: CodecName;
  n: number;
  payload: Uint8Array;
}

export interface CompressContext {
  /**
   * Identifies the tensor whose error-feedback residual this call reads and updates (e.g.
   * 'params' or 'layer3.w'). Codecs without state ignore it. Default: 'default'.
   */
  key?: string;
  /** Seed for the codec's randomness (int8 stochastic rounding, randomk indices). Default 0. */
  seed?: number;
}

export interface Codec {
  readonly name: CodecName;
  /** True when compress() adds the stored residual before encoding and stores the new residual. */
  readonly errorFeedback: boolean;
  /** Encode `x` (never modified). Throws CodecInputError on NaN/Inf. */
  compress(x: Float32Array, ctx?: CompressContext): Encoded;
  /** Decode; throws CodecPayloadError when the payload does not fit the layout or holds non-finite values. */
  decompress(enc: Encoded): Float32Array;
  /** Exact number of wire bytes (header included) for a tensor of `n` elements. */
  encodedBytes(n: number): number;
  /** encodedBytes(n) / (4n): wire bytes relative to fp32; lower is better (hivemind's convention). */
  estimateRatio(n: number): number;
  /** Current residual for `key` (a copy), or undefined when none is stored. */
  residual(key?: string): Float32Array | undefined;
  /** Forget error-feedback state (one key, or all). */
  resetState(key?: string): void;
}
