/**
 * Wire framing of one Encoded tensor: an 8-byte little-endian header
 *   u8 codec id | u8 layout version (1) | u16 flags | u32 element count n
 * followed by the codec's payload. decodeWire checks the header only; the codec's decompress
 * checks the payload length against its own layout.
 *
 * Optional lossless stage (flags bit 0, WIRE_FLAG_DEFLATE): the payload is compressed with raw
 * DEFLATE (RFC 1951) through the platform's CompressionStream('deflate-raw') (browsers, Node >= 18),
 * and only when that makes it smaller; the header stays uncompressed. packWire / unpackWire are
 * the async entry points; the sync encodeWire / decodeWire never compress, and decodeWire
 * refuses a compressed message with a CodecPayloadError. Inflation is bounded: a payload that
 * inflates beyond the largest layout any codec has for n elements (8n + 64 bytes) is rejected,
 * so a small hostile message cannot make a peer allocate without limit.
 * Not here: choosing when to compress (the caller passes `deflate`), or other entropy coders.
 */
import { view } from './base.ts';
import { CODEC_IDS, WIRE_HEADER_BYTES, WIRE_VERSION } from './constants.ts';
import { CodecPayloadError } from './errors.ts';
import type { CodecName, Encoded } from './types.ts';

const NAMES = Object.fromEntries(Object.entries(CODEC_IDS).map(([k, v]) => [v, k])) as Record<number, CodecName>;

/** flags bit 0: the payload is raw-DEFLATE compressed (see packWire). */
export const WIRE_FLAG_DEFLATE = 1;

function frame(enc: Encoded, payload: Uint8Array, flags: number): Uint8Array {
  const out = new Uint8Array(WIRE_HEADER_BYTES + payload.byteLength);
  const dv = view(out);
  dv.setUint8(0, CODEC_IDS[enc.codec]);
  dv.setUint8(1, WIRE_VERSION);
  dv.setUint16(2, flags, true);
  dv.setUint32(4, enc.n, true);
  out.set(payload, WIRE_HEADER_BYTES);
  return out;
}

export function encodeWire(enc: Encoded): Uint8Array {
  return frame(enc, enc.payload, 0);
}

interface Header {
  codec: CodecName;
  n: number;
  flags: number;
}

function readHeader(bytes: Uint8Array): Header {
  if (bytes.byteLength < WIRE_HEADER_BYTES) throw new CodecPayloadError('wire', `message is ${bytes.byteLength} bytes, shorter than the ${WIRE_HEADER_BYTES}-byte header`);
  const dv = view(bytes);
  const codec = NAMES[dv.getUint8(0)];
  if (!codec) throw new CodecPayloadError('wire', `unknown codec id ${dv.getUint8(0)}`);
  const version = dv.getUint8(1);
  if (version !== WIRE_VERSION) throw new CodecPayloadError('wire', `unsupported layout version ${version} (this peer speaks ${WIRE_VERSION})`);
  const flags = dv.getUint16(2, true);
  if (flags & ~WIRE_FLAG_DEFLATE) throw new CodecPayloadError('wire', `unknown header flags 0x${flags.toString(16)}`);
  return { codec, n: dv.getUint32(4, true), flags };
}

export function decodeWire(bytes: Uint8Array): Encoded {
  const h = readHeader(bytes);
  if (h.flags & WIRE_FLAG_DEFLATE) throw new CodecPayloadError('wire', 'payload is deflate-compressed: decode it with unpackWire');
  return { codec: h.codec, n: h.n, payload: bytes.subarray(WIRE_HEADER_BYTES) };
}

/** Largest payload any codec has for n elements (topk with fraction 1: 4 + 8n), plus slack. */
export function maxPayloadBytes(n: number): number {
  return 8 * n + 64;
}

export interface PackOptions {
  /** Try the raw-DEFLATE stage; kept only when it makes the payload smaller. Default false. */
  deflate?: boolean;
}

/** encodeWire plus the optional lossless DEFLATE stage (async: CompressionStream). */
export async function packWire(enc: Encoded, opts: PackOptions = {}): Promise<Uint8Array> {
  if (opts.deflate && enc.payload.byteLength > 0) {
    const z = await pipe(enc.payload, new CompressionStream('deflate-raw'), Number.POSITIVE_INFINITY);
    if (z.byteLength < enc.payload.byteLength) return frame(enc, z, WIRE_FLAG_DEFLATE);
  }
  return encodeWire(enc);
}

/** decodeWire for messages that may carry the DEFLATE stage; malformed or oversized streams throw CodecPayloadError. */
export async function unpackWire(bytes: Uint8Array): Promise<Encoded> {
  const h = readHeader(bytes);
  const body = bytes.subarray(WIRE_HEADER_BYTES);
  if (!(h.flags & WIRE_FLAG_DEFLATE)) return { codec: h.codec, n: h.n, payload: body };
  let payload: Uint8Array;
  try {
    payload = await pipe(body, new DecompressionStream('deflate-raw'), maxPayloadBytes(h.n));
  } catch (e) {
    if (e instanceof CodecPayloadError) throw e;
    throw new CodecPayloadError('wire', `deflate payload does not inflate: ${(e as Error).message}`);
  }
  return { codec: h.codec, n: h.n, payload };
}

/** Run bytes through a (de)compression stream, stopping with CodecPayloadError past `limit` output bytes. */
async function pipe(input: Uint8Array, ts: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  const written = writer.write(input as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => undefined);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new CodecPayloadError('wire', `deflate payload inflates beyond ${limit} bytes`);
    }
    parts.push(value);
  }
  await written;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
