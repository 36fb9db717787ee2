/**
 * Wire framing of one Encoded tensor: an 8-byte little-endian header
 *   u8 codec id | u8 layout version (1) | u16 reserved (0) | u32 element count n
 * followed by the codec's payload. decodeWire checks the header only; the codec's decompress
 * checks the payload length against its own layout.
 */
import { view } from './base.ts';
import { CODEC_IDS, WIRE_HEADER_BYTES, WIRE_VERSION } from './constants.ts';
import { CodecPayloadError } from './errors.ts';
import type { CodecName, Encoded } from './types.ts';

const NAMES = Object.fromEntries(Object.entries(CODEC_IDS).map(([k, v]) => [v, k])) as Record<number, CodecName>;

export function encodeWire(enc: Encoded): Uint8Array {
  const out = new Uint8Array(WIRE_HEADER_BYTES + enc.payload.byteLength);
  const dv = view(out);
  dv.setUint8(0, CODEC_IDS[enc.codec]);
  dv.setUint8(1, WIRE_VERSION);
  dv.setUint16(2, 0, true);
  dv.setUint32(4, enc.n, true);
  out.set(enc.payload, WIRE_HEADER_BYTES);
  return out;
}

export function decodeWire(bytes: Uint8Array): Encoded {
  if (bytes.byteLength < WIRE_HEADER_BYTES) throw new CodecPayloadError('wire', `message is ${bytes.byteLength} bytes, shorter than the ${WIRE_HEADER_BYTES}-byte header`);
  const dv = view(bytes);
  const codec = NAMES[dv.getUint8(0)];
  if (!codec) throw new CodecPayloadError('wire', `unknown codec id ${dv.getUint8(0)}`);
  const version = dv.getUint8(1);
  if (version !== WIRE_VERSION) throw new CodecPayloadError('wire', `unsupported layout version ${version} (this peer speaks ${WIRE_VERSION})`);
  return { codec, n: dv.getUint32(4, true), payload: bytes.subarray(WIRE_HEADER_BYTES) };
}
