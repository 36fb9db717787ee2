/**
 * Tensors over a byte stream (a libp2p stream, or the in-memory pair of memory.ts): the
 * sender writes the frames of one tensor with backpressure (`send()` false -> `onDrain()`),
 * then waits for the receiver's 16-byte ack. The receiver decodes, reassembles, acks, and on any
 * FrameError aborts only that stream (the peer keeps serving other streams).
 *
 * Before any frame, the receiver sends the 4-byte ready marker "SGTR" and the sender waits for
 * it (one round trip per tensor): a libp2p WebRTC stream has no receive window, and bytes that
 * arrive before the receiver's reader is attached pile up until the 4 MiB read-buffer limit
 * resets the stream.
 *
 * Ack: magic "SGTA" u32 | tensor id u32 | status u8 (0 = ok) | 3 bytes 0 | total length u32.
 *
 * On a libp2p WebRTC stream the sender also lowers the data channel's idle point: libp2p sets
 * `bufferedAmountLowThreshold = 0`, so its 'drain' fires only once the channel's send queue is
 * EMPTY and the link idles while JavaScript encodes the next frames. writeTensor raises the
 * threshold to `lowWaterBytes` (STREAM_DEFAULTS) so the queue is refilled before it runs dry.
 */
import { ACK_BYTES, ACK_MAGIC, NET_DEFAULTS, READY_MAGIC } from './constants.ts';
import { FrameTruncatedError, TensorAckError } from './errors.ts';
import { type FrameLimits, FrameDecoder, Reassembler, type WireTensor, encodeTensorFrames } from './frame.ts';
import type { LinkShaper } from './shaper.ts';

/** The part of a libp2p 3 stream the tensor transport uses. */
export interface ByteStream extends AsyncIterable<Uint8Array | { subarray(): Uint8Array }> {
  send(data: Uint8Array): boolean;
  onDrain(options?: { signal?: AbortSignal }): Promise<void>;
  close(options?: { signal?: AbortSignal }): Promise<void>;
  abort(err: Error): void;
}

export const STREAM_DEFAULTS = {
  /** bufferedAmountLowThreshold of the RTCDataChannel under a libp2p WebRTC stream while a
   *  tensor is written (libp2p's own is 0: drain only when the queue is empty). */
  lowWaterBytes: 1024 * 1024,
  /** Largest message a libp2p WebRTC stream sends (SwarmNode passes it to @libp2p/webrtc's
   *  dataChannel options). libp2p's 16 KiB splits every 64 KiB frame into 5 protobuf messages;
   *  64 KiB is also the largest message node-datachannel (Node peers) accepts by default.
   *  It only changes what this side sends; receivers take up to 4 MiB. */
  maxMessageSize: 64 * 1024,
} as const;

export interface SendOptions {
  chunkBytes?: number;
  /** Data-channel low-water mark for libp2p WebRTC streams (STREAM_DEFAULTS.lowWaterBytes);
   *  0 keeps libp2p's behaviour. */
  lowWaterBytes?: number;
  shaper?: LinkShaper;
  signal?: AbortSignal;
}

export interface SendResult {
  bytes: number;
  frames: number;
  /** Time from the first frame to the ack (ms). */
  ms: number;
  /** Times send() returned false and the sender waited for drain. */
  drains: number;
}

const asBytes = (c: Uint8Array | { subarray(): Uint8Array }): Uint8Array => (c instanceof Uint8Array ? c : c.subarray());

export function encodeAck(tensorId: number, totalLength: number, status = 0): Uint8Array {
  const b = new Uint8Array(ACK_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, ACK_MAGIC, true);
  v.setUint32(4, tensorId, true);
  b[8] = status;
  v.setUint32(12, totalLength, true);
  return b;
}

/** Raise the low-water mark of the RTCDataChannel under a libp2p WebRTC stream (its public
 *  `channel` field); other streams are left alone. */
export function tuneLowWater(stream: ByteStream, bytes: number): void {
  const ch = (stream as { channel?: { bufferedAmountLowThreshold?: unknown } }).channel;
  if (bytes > 0 && ch && typeof ch.bufferedAmountLowThreshold === 'number') ch.bufferedAmountLowThreshold = bytes;
}

/** Read exactly `n` bytes from an iterator, keeping any surplus in `state.rest`. */
async function readExact(reader: AsyncIterator<Uint8Array | { subarray(): Uint8Array }>, n: number, state: { rest: Uint8Array }, what: string): Promise<Uint8Array> {
  let buf = state.rest;
  while (buf.length < n) {
    const r = await reader.next();
    if (r.done) throw new TensorAckError(`stream closed before ${what}`);
    const b = asBytes(r.value);
    const m = new Uint8Array(buf.length + b.length);
    m.set(buf);
    m.set(b, buf.length);
    buf = m;
  }
  state.rest = buf.subarray(n);
  return buf.subarray(0, n);
}

/** Write one tensor's frames to `stream` (after the receiver's ready marker) and wait for its
 *  ack. Does not close the stream. */
export async function writeTensor(stream: ByteStream, t: WireTensor, opts: SendOptions = {}): Promise<SendResult> {
  const chunkBytes = opts.chunkBytes ?? NET_DEFAULTS.chunkBytes;
  const frames = encodeTensorFrames(t, chunkBytes);
  const reader = stream[Symbol.asyncIterator]();
  const state = { rest: new Uint8Array(0) };
  const ready = await readExact(reader, 4, state, 'the ready marker');
  if (new DataView(ready.buffer, ready.byteOffset, 4).getUint32(0, true) !== READY_MAGIC) throw new TensorAckError('bad ready marker');
  tuneLowWater(stream, opts.lowWaterBytes ?? STREAM_DEFAULTS.lowWaterBytes);
  await opts.shaper?.beforeMessage();
  const t0 = performance.now();
  let n = 0;
  let drains = 0;
  for (const f of frames) {
    if (opts.shaper) await opts.shaper.beforeBytes(f.length);
    n++;
    if (!stream.send(f)) {
      drains++;
      await stream.onDrain({ signal: opts.signal });
    }
  }
  const ack = await readExact(reader, ACK_BYTES, state, `the ack of tensor ${t.tensorId}`);
  const v = new DataView(ack.buffer, ack.byteOffset, ACK_BYTES);
  if (v.getUint32(0, true) !== ACK_MAGIC) throw new TensorAckError('bad ack magic');
  if (v.getUint32(4, true) !== t.tensorId || ack[8] !== 0 || v.getUint32(12, true) !== t.data.length) {
    throw new TensorAckError(`ack for tensor ${v.getUint32(4, true)} status ${ack[8]} length ${v.getUint32(12, true)}; sent tensor ${t.tensorId} of ${t.data.length} bytes`);
  }
  return { bytes: t.data.length, frames: n, ms: performance.now() - t0, drains };
}

/** Send one tensor on a fresh stream and close it. */
export async function sendTensorOverStream(stream: ByteStream, t: WireTensor, opts: SendOptions = {}): Promise<SendResult> {
  try {
    const r = await writeTensor(stream, t, opts);
    await stream.close({ signal: opts.signal });
    return r;
  } catch (e) {
    stream.abort(e as Error);
    throw e;
  }
}

export interface ReceiveOptions extends FrameLimits {
  onTensor(t: WireTensor): void;
}

/**
 * Serve one inbound stream until it ends: every completed tensor goes to `onTensor` and is acked.
 * A FrameError aborts the stream and is rethrown (callers count it; nothing else breaks).
 */
export async function receiveTensors(stream: ByteStream, opts: ReceiveOptions): Promise<number> {
  const dec = new FrameDecoder(opts);
  const re = new Reassembler(opts);
  let count = 0;
  try {
    // Attach the reader (the generator's first next() registers the listener synchronously),
    // then tell the sender it may write.
    const reader = stream[Symbol.asyncIterator]();
    const first = reader.next();
    const ready = new Uint8Array(4);
    new DataView(ready.buffer).setUint32(0, READY_MAGIC, true);
    stream.send(ready);
    for (let r = await first; !r.done; r = await reader.next()) {
      const chunk = r.value;
      for (const f of dec.push(asBytes(chunk))) {
        const t = re.add(f);
        if (t) {
          count++;
          stream.send(encodeAck(t.tensorId, t.data.length));
          opts.onTensor(t);
        }
      }
    }
    dec.end();
    if (re.pendingCount > 0) {
      throw new FrameTruncatedError(`stream ended with ${re.pendingCount} incomplete tensor(s)`);
    }
    await stream.close();
    return count;
  } catch (e) {
    stream.abort(e as Error);
    throw e;
  }
}
