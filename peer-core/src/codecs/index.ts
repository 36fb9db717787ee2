/**
 * Codecs for gossip payloads (hivemind-style interface: compress / decompress / estimateRatio,
 * with the `none` baseline). CPU reference implementations; the WGSL fast paths live in
 * @swarmgrad/gpu-shaders (src/codecs/) and are tested bit-exact against these.
 */
import { UnknownCodecError } from './errors.ts';
import { Fp16Codec } from './fp16.ts';
import { Int8Codec } from './int8.ts';
import { NoneCodec } from './none.ts';
import { RandomkCodec } from './randomk.ts';
import { SignCodec } from './sign.ts';
import { TopkCodec } from './topk.ts';
import type { Codec, CodecName } from './types.ts';

export type * from './types.ts';
export * from './errors.ts';
export * from './constants.ts';
export { pcgHash, hashUniform24, hashU32 } from './hash.ts';
export { encodeWire, decodeWire, packWire, unpackWire, maxPayloadBytes, WIRE_FLAG_DEFLATE, type PackOptions } from './wire.ts';
export { NoneCodec } from './none.ts';
export { Fp16Codec, f32BitsToF16, f32ToF16, f16ToF32 } from './fp16.ts';
export { Int8Codec, int8BlockExponent, int8Quantize, type Int8Init } from './int8.ts';
export { SignCodec, treeSumAbs, type SignInit } from './sign.ts';
export { TopkCodec, topkIndices, keepCount, type TopkInit } from './topk.ts';
export { RandomkCodec, randomkIndices, type RandomkInit } from './randomk.ts';

export interface CodecSpec {
  name: CodecName;
  /** topk / randomk: fraction kept (default 0.01). */
  fraction?: number;
  /** int8 / sign: block size. */
  blockSize?: number;
  /** topk / sign: error feedback (default true). */
  errorFeedback?: boolean;
  /** randomk: scale by n/k to be unbiased (default true). */
  scaled?: boolean;
}

export const CODEC_NAMES: readonly CodecName[] = ['none', 'fp16', 'int8', 'topk', 'sign', 'randomk'];

/** Build a codec from its name or spec. Each call returns a fresh instance (own EF state). */
export function createCodec(spec: CodecName | CodecSpec): Codec {
  const s: CodecSpec = typeof spec === 'string' ? { name: spec } : spec;
  switch (s.name) {
    case 'none':
      return new NoneCodec();
    case 'fp16':
      return new Fp16Codec();
    case 'int8':
      return new Int8Codec({ blockSize: s.blockSize });
    case 'topk':
      return new TopkCodec({ fraction: s.fraction, errorFeedback: s.errorFeedback });
    case 'sign':
      return new SignCodec({ blockSize: s.blockSize, errorFeedback: s.errorFeedback });
    case 'randomk':
      return new RandomkCodec({ fraction: s.fraction, scaled: s.scaled });
    default:
      throw new UnknownCodecError(`unknown codec '${String((s as { name: unknown }).name)}'; known: ${CODEC_NAMES.join(', ')}`);
  }
}

