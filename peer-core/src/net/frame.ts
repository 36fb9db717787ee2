/**
 * The tensor wire format: versioned frames, chunking, a streaming decoder and reassembly.
 *
 * Frame = header + payload, all integers little-endian:
 *
 *   off  size  field
 *    0    4    magic "SGTF" (protocol id)
 *    4    1    version (FRAME_VERSION = 1)
 *    5    1    codec id (WIRE_CODECS)
 *    6    1    dtype id (DTYPES)
 *    7    1    ndim (0..MAX_NDIM)
 *    8    2    flags (reserved, must be 0)
 *   10    2    header bytes (= 48 + 4*ndim)
 *   12    4    job id
 *   16    4    step
 *   20    4    tensor id
 *   24    4    chunk index (< chunk count)
 *   28    4    chunk count (>= 1)
 *   32    4    payload length (this chunk)
 *   36    4    total length (all chunks)
 *   40    4    payload CRC32
 *   44  4*nd   shape (u32 per dimension)
 *   ..    4    header CRC32 (over every header byte before it)
 *
 * The decoder checks, in order: magic, version, ndim, header CRC, then every field against the
 * receiver's limits, then the payload CRC. It allocates nothing before the header CRC passed and
 * the sizes were checked against the limits. It throws only FrameError subclasses.
 *
 * What this file is not: a transport (see stream.ts) or a compressor (codecs are just ids here).
 */
import { WIRE_CODECS, type WireCodecName, DTYPES, type DType, FRAME_FIXED_HEADER_BYTES, FRAME_MAGIC, FRAME_VERSION, MAX_NDIM, NET_DEFAULTS } from './constants.ts';
import { crc32 } from './crc32.ts';
import {
  FrameChecksumError,
  FrameFieldError,
  FrameMagicError,
  FrameSequenceError,
  FrameTooLargeError,
  FrameTruncatedError,
  FrameVersionError,
  ReassemblyLimitError,
  TensorEncodeError,
} from './errors.ts';

/** What a tensor is, apart from its bytes. */
export interface TensorMeta {
  /** Job the tensor belongs to (u32). */
  jobId: number;
  /** Training step (u32). */
  step: number;
  /** Tensor id within the step (u32), e.g. the parameter index. */
  tensorId: number;
  codec: WireCodecName;
  dtype: DType;
  shape: number[];
}

/** A tensor on the wire: metadata plus its (possibly compressed) bytes. */
export interface WireTensor extends TensorMeta {
  data: Uint8Array;
}

export interface FrameHeader extends TensorMeta {
  version: number;
  chunkIndex: number;
  chunkCount: number;
  payloadLength: number;
  totalLength: number;
  payloadCrc: number;
}

export interface Frame {
  header: FrameHeader;
  payload: Uint8Array;
}

/** Receiver limits (defaults in NET_DEFAULTS). */
export interface FrameLimits {
  maxChunkBytes?: number;
  maxTensorBytes?: number;
  maxElements?: number;
  maxPendingTensors?: number;
}

const DTYPE_BY_ID = new Map<number, DType>(Object.entries(DTYPES).map(([k, v]) => [v.id, k as DType]));
const CODEC_BY_ID = new Map<number, WireCodecName>(Object.entries(WIRE_CODECS).map(([k, v]) => [v, k as WireCodecName]));
const U32_MAX = 0xffffffff;

export function headerBytes(ndim: number): number {
  return FRAME_FIXED_HEADER_BYTES + 4 * ndim + 4;
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

/** Encode one frame (header + payload copied into one buffer, ready to be one message). */
export function encodeFrame(h: Omit<FrameHeader, 'version' | 'payloadLength' | 'payloadCrc'>, payload: Uint8Array): Uint8Array {
  return encodeFrameInto(new Uint8Array(headerBytes(h.shape.length) + payload.length), h, payload);
}

/** Encode one frame into the start of `buf` (at least headerBytes + payload bytes) and return the
 *  view of it: lets a sender whose transport copies on send (an RTCDataChannel) reuse one buffer
 *  instead of allocating every frame. */
export function encodeFrameInto(buf: Uint8Array, h: Omit<FrameHeader, 'version' | 'payloadLength' | 'payloadCrc'>, payload: Uint8Array): Uint8Array {
  const nd = h.shape.length;
  const hb = headerBytes(nd);
  if (buf.length < hb + payload.length) throw new RangeError(`frame of ${hb + payload.length} bytes does not fit a ${buf.length}-byte buffer`);
  const out = buf.subarray(0, hb + payload.length);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(0, FRAME_MAGIC, true);
  out[4] = FRAME_VERSION;
  out[5] = WIRE_CODECS[h.codec];
  out[6] = DTYPES[h.dtype].id;
  out[7] = nd;
  v.setUint16(8, 0, true);
  v.setUint16(10, hb, true);
  v.setUint32(12, h.jobId, true);
  v.setUint32(16, h.step, true);
  v.setUint32(20, h.tensorId, true);
  v.setUint32(24, h.chunkIndex, true);
  v.setUint32(28, h.chunkCount, true);
  v.setUint32(32, payload.length, true);
  v.setUint32(36, h.totalLength, true);
  v.setUint32(40, crc32(payload), true);
  for (let i = 0; i < nd; i++) v.setUint32(44 + 4 * i, h.shape[i]!, true);
  v.setUint32(hb - 4, crc32(out.subarray(0, hb - 4)), true);
  out.set(payload, hb);
  return out;
}

/** Check a tensor before sending; throws TensorEncodeError. */
export function checkTensor(t: WireTensor, chunkBytes: number): void {
  for (const k of ['jobId', 'step', 'tensorId'] as const) if (!isU32(t[k])) throw new TensorEncodeError(`${k} must be a u32, got ${t[k]}`);
  if (!(t.dtype in DTYPES)) throw new TensorEncodeError(`unknown dtype ${t.dtype}`);
  if (!(t.codec in WIRE_CODECS)) throw new TensorEncodeError(`unknown codec ${t.codec}`);
  if (t.shape.length > MAX_NDIM) throw new TensorEncodeError(`ndim ${t.shape.length} > ${MAX_NDIM}`);
  if (!t.shape.every(isU32)) throw new TensorEncodeError(`shape must be u32 dims, got [${t.shape}]`);
  if (t.data.length > U32_MAX) throw new TensorEncodeError(`tensor of ${t.data.length} bytes is above 4 GiB`);
  if (t.codec === 'none' && elementCount(t.shape) * DTYPES[t.dtype].bytes !== t.data.length) {
    throw new TensorEncodeError(`dense ${t.dtype} tensor of shape [${t.shape}] needs ${elementCount(t.shape) * DTYPES[t.dtype].bytes} bytes, got ${t.data.length}`);
  }
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new TensorEncodeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
}

/** Number of frames a tensor of `bytes` bytes takes. */
export function chunkCountFor(bytes: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(bytes / chunkBytes));
}

/** Frames of one tensor, produced lazily (one chunk's copy in memory at a time). With `scratch`
 *  every frame is written into that one buffer (at least chunkBytes + headerBytes): the caller
 *  must have consumed (sent, copied) a frame before asking for the next. */
export function* encodeTensorFrames(t: WireTensor, chunkBytes: number = NET_DEFAULTS.chunkBytes, scratch?: Uint8Array): Generator<Uint8Array> {
  checkTensor(t, chunkBytes);
  const chunkCount = chunkCountFor(t.data.length, chunkBytes);
  const h = { jobId: t.jobId, step: t.step, tensorId: t.tensorId, codec: t.codec, dtype: t.dtype, shape: t.shape, chunkIndex: 0, chunkCount, totalLength: t.data.length };
  for (let i = 0; i < chunkCount; i++) {
    const payload = t.data.subarray(i * chunkBytes, Math.min(t.data.length, (i + 1) * chunkBytes));
    h.chunkIndex = i;
    yield scratch ? encodeFrameInto(scratch, h, payload) : encodeFrame(h, payload);
  }
}

function limitsOf(l: FrameLimits) {
  return {
    maxChunkBytes: l.maxChunkBytes ?? NET_DEFAULTS.maxChunkBytes,
    maxTensorBytes: l.maxTensorBytes ?? NET_DEFAULTS.maxTensorBytes,
    maxElements: l.maxElements ?? NET_DEFAULTS.maxElements,
    maxPendingTensors: l.maxPendingTensors ?? NET_DEFAULTS.maxPendingTensors,
  };
}

/** Parse and validate a complete header (`bytes` holds at least headerBytes(ndim)). */
function parseHeader(bytes: Uint8Array, lim: ReturnType<typeof limitsOf>): FrameHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nd = bytes[7]!;
  const hb = headerBytes(nd);
  const want = v.getUint32(hb - 4, true);
  if (crc32(bytes.subarray(0, hb - 4)) !== want) throw new FrameChecksumError('header CRC32 mismatch');
  if (v.getUint16(10, true) !== hb) throw new FrameFieldError(`header length field ${v.getUint16(10, true)} != ${hb} for ndim ${nd}`);
  if (v.getUint16(8, true) !== 0) throw new FrameFieldError(`reserved flags ${v.getUint16(8, true)} must be 0`);
  const codec = CODEC_BY_ID.get(bytes[5]!);
  if (codec === undefined) throw new FrameFieldError(`unknown codec id ${bytes[5]}`);
  const dtype = DTYPE_BY_ID.get(bytes[6]!);
  if (dtype === undefined) throw new FrameFieldError(`unknown dtype id ${bytes[6]}`);
  const shape: number[] = [];
  for (let i = 0; i < nd; i++) shape.push(v.getUint32(44 + 4 * i, true));
  const h: FrameHeader = {
    version: bytes[4]!,
    codec,
    dtype,
    shape,
    jobId: v.getUint32(12, true),
    step: v.getUint32(16, true),
    tensorId: v.getUint32(20, true),
    chunkIndex: v.getUint32(24, true),
    chunkCount: v.getUint32(28, true),
    payloadLength: v.getUint32(32, true),
    totalLength: v.getUint32(36, true),
    payloadCrc: v.getUint32(40, true),
  };
  if (h.chunkCount < 1) throw new FrameFieldError('chunk count 0');
  if (h.chunkIndex >= h.chunkCount) throw new FrameFieldError(`chunk index ${h.chunkIndex} >= count ${h.chunkCount}`);
  if (h.payloadLength > lim.maxChunkBytes) throw new FrameTooLargeError(`chunk of ${h.payloadLength} bytes > limit ${lim.maxChunkBytes}`);
  if (h.totalLength > lim.maxTensorBytes) throw new FrameTooLargeError(`tensor of ${h.totalLength} bytes > limit ${lim.maxTensorBytes}`);
  const elems = elementCount(shape);
  if (elems > lim.maxElements) throw new FrameTooLargeError(`shape [${shape}] has ${elems} elements > limit ${lim.maxElements}`);
  if (h.payloadLength > h.totalLength) throw new FrameFieldError(`chunk of ${h.payloadLength} bytes > tensor total ${h.totalLength}`);
  if (h.chunkCount > Math.max(1, h.totalLength)) throw new FrameFieldError(`${h.chunkCount} chunks for ${h.totalLength} bytes`);
  if (h.payloadLength === 0 && h.totalLength > 0) throw new FrameFieldError('empty chunk of a non-empty tensor');
  if (codec === 'none' && elems * DTYPES[dtype].bytes !== h.totalLength) {
    throw new FrameFieldError(`dense ${dtype} shape [${shape}] needs ${elems * DTYPES[dtype].bytes} bytes, header says ${h.totalLength}`);
  }
  return h;
}

/**
 * Streaming decoder: push bytes as they arrive (any split), get whole frames out. After it
 * throws, framing of that byte stream is lost: it stays failed (rethrows) until reset().
 */
export class FrameDecoder {
  private readonly lim: ReturnType<typeof limitsOf>;
  private parts: Uint8Array[] = [];
  private buffered = 0;
  private header: FrameHeader | undefined;
  private hb = 0;
  private failed: Error | undefined;

  constructor(limits: FrameLimits = {}) {
    this.lim = limitsOf(limits);
  }

  /** Bytes held that do not yet form a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  reset(): void {
    this.parts = [];
    this.buffered = 0;
    this.header = undefined;
    this.failed = undefined;
  }

  /** Feed bytes; returns the frames completed by them (possibly none). */
  push(bytes: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    try {
      if (bytes.length) {
        this.parts.push(bytes);
        this.buffered += bytes.length;
      }
      const out: Frame[] = [];
      for (;;) {
        const f = this.next();
        if (!f) return out;
        out.push(f);
      }
    } catch (e) {
      this.failed = e as Error;
      this.parts = [];
      this.buffered = 0;
      throw e;
    }
  }

  /** The byte stream ended: throws FrameTruncatedError if it ended inside a frame. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.buffered > 0) {
      this.failed = new FrameTruncatedError(`stream ended inside a frame (${this.buffered} bytes pending)`);
      throw this.failed;
    }
  }

  private peek(n: number): Uint8Array {
    const first = this.parts[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of this.parts) {
      const k = Math.min(p.length, n - off);
      out.set(p.subarray(0, k), off);
      off += k;
      if (off === n) break;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    const out = this.peek(n);
    let left = n;
    while (left > 0) {
      const p = this.parts[0]!;
      if (p.length <= left) {
        left -= p.length;
        this.parts.shift();
      } else {
        this.parts[0] = p.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  private next(): Frame | undefined {
    if (!this.header) {
      if (this.buffered < 8) {
        if (this.buffered >= 4) this.checkMagic(this.peek(4));
        return undefined;
      }
      const pre = this.peek(8);
      this.checkMagic(pre);
      if (pre[4] !== FRAME_VERSION) throw new FrameVersionError(`frame version ${pre[4]}, this peer speaks ${FRAME_VERSION}`);
      if (pre[7]! > MAX_NDIM) throw new FrameFieldError(`ndim ${pre[7]} > ${MAX_NDIM}`);
      this.hb = headerBytes(pre[7]!);
      if (this.buffered < this.hb) return undefined;
      this.header = parseHeader(this.take(this.hb), this.lim);
    }
    const h = this.header;
    if (this.buffered < h.payloadLength) return undefined;
    const payload = h.payloadLength ? this.take(h.payloadLength) : new Uint8Array(0);
    this.header = undefined;
    if (crc32(payload) !== h.payloadCrc) throw new FrameChecksumError(`payload CRC32 mismatch in chunk ${h.chunkIndex}/${h.chunkCount} of tensor ${h.tensorId}`);
    return { header: h, payload };
  }

  private checkMagic(b: Uint8Array): void {
    const m = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    if (m !== FRAME_MAGIC) throw new FrameMagicError(`bad magic 0x${m.toString(16).padStart(8, '0')}`);
  }
}

/** Decode exactly one frame from one message (message-based channels such as an RTCDataChannel). */
export function decodeFrame(message: Uint8Array, limits: FrameLimits = {}): Frame {
  const d = new FrameDecoder(limits);
  const frames = d.push(message);
  if (frames.length === 0) throw new FrameTruncatedError(`message of ${message.length} bytes holds no complete frame`);
  if (frames.length > 1 || d.bufferedBytes > 0) throw new FrameFieldError('message holds more than one frame');
  return frames[0]!;
}

interface Pending {
  meta: FrameHeader;
  parts: Map<number, Uint8Array>;
  bytes: number;
  lastAt: number;
}

/**
 * Reassembles frames into tensors. Checks that chunks of one tensor agree on every field,
 * never repeat, and sum to the announced length. Bounded: at most maxPendingTensors partial
 * tensors (ReassemblyLimitError), each at most maxTensorBytes.
 */
export class Reassembler {
  private readonly lim: ReturnType<typeof limitsOf>;
  private readonly pending = new Map<string, Pending>();
  private readonly done: string[] = [];
  private readonly doneSet = new Set<string>();

  constructor(limits: FrameLimits = {}) {
    this.lim = limitsOf(limits);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Add a frame; returns the tensor when this frame completed it. */
  add(f: Frame, now = Date.now()): WireTensor | undefined {
    const h = f.header;
    const key = `${h.jobId}:${h.step}:${h.tensorId}`;
    if (this.doneSet.has(key)) throw new FrameSequenceError(`chunk ${h.chunkIndex} of tensor ${key} after it completed`);
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.lim.maxPendingTensors) throw new ReassemblyLimitError(`more than ${this.lim.maxPendingTensors} tensors in flight`);
      p = { meta: h, parts: new Map(), bytes: 0, lastAt: now };
      this.pending.set(key, p);
    } else {
      const m = p.meta;
      if (m.chunkCount !== h.chunkCount || m.totalLength !== h.totalLength || m.codec !== h.codec || m.dtype !== h.dtype || m.shape.join() !== h.shape.join()) {
        this.pending.delete(key);
        throw new FrameSequenceError(`chunk ${h.chunkIndex} of tensor ${key} disagrees with its first chunk`);
      }
    }
    if (p.parts.has(h.chunkIndex)) {
      this.pending.delete(key);
      throw new FrameSequenceError(`duplicate chunk ${h.chunkIndex} of tensor ${key}`);
    }
    p.bytes += f.payload.length;
    if (p.bytes > p.meta.totalLength) {
      this.pending.delete(key);
      throw new FrameSequenceError(`tensor ${key}: chunks carry more than the announced ${p.meta.totalLength} bytes`);
    }
    p.parts.set(h.chunkIndex, f.payload);
    p.lastAt = now;
    if (p.parts.size < p.meta.chunkCount) return undefined;
    this.pending.delete(key);
    if (p.bytes !== p.meta.totalLength) throw new FrameSequenceError(`tensor ${key}: ${p.bytes} bytes received, ${p.meta.totalLength} announced`);
    this.markDone(key);
    let data: Uint8Array;
    if (p.meta.chunkCount === 1) data = p.parts.get(0)!;
    else {
      data = new Uint8Array(p.meta.totalLength);
      let off = 0;
      for (let i = 0; i < p.meta.chunkCount; i++) {
        const part = p.parts.get(i)!;
        data.set(part, off);
        off += part.length;
      }
    }
    const { jobId, step, tensorId, codec, dtype, shape } = p.meta;
    return { jobId, step, tensorId, codec, dtype, shape, data };
  }

  /** Drop partial tensors idle for longer than `timeoutMs`; returns how many were dropped. */
  sweep(now = Date.now(), timeoutMs: number = NET_DEFAULTS.reassemblyTimeoutMs): number {
    let n = 0;
    for (const [k, p] of this.pending) {
      if (now - p.lastAt > timeoutMs) {
        this.pending.delete(k);
        n++;
      }
    }
    return n;
  }

  private markDone(key: string): void {
    this.done.push(key);
    this.doneSet.add(key);
    if (this.done.length > 4096) this.doneSet.delete(this.done.shift()!);
  }
}
