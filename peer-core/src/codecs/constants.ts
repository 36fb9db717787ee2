/** Codec defaults and the wire header constants (see docs/GOSSIP.md, "Wire layout"). */

/** Wire header: u8 codec id, u8 layout version, u16 reserved (0), u32 element count; little-endian. */
export const WIRE_HEADER_BYTES = 8;
export const WIRE_VERSION = 1;

/** Stable codec ids on the wire. Never renumber: peers of different versions must agree. */
export const CODEC_IDS = { none: 0, fp16: 1, int8: 2, topk: 3, sign: 4, randomk: 5 } as const;

/** int8: elements per block sharing one power-of-two scale. */
export const INT8_BLOCK = 256;
/** sign: elements per block sharing one scale (mean |x| of the block). */
export const SIGN_BLOCK = 256;
/** topk / randomk: default fraction of elements kept. */
export const DEFAULT_KEEP_FRACTION = 0.01;
/** Largest finite fp16 value; fp16 saturates to it instead of producing Inf. */
export const FP16_MAX = 65504;
