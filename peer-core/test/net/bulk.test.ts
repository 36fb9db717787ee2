/**
 * The simple-peer bulk channel's data path over in-memory message wires (bulk/wire.ts models a
 * DataChannel's send buffer and Chromium's 16 MiB "send queue is full" failure): tensors arrive
 * intact in both directions with backpressure, sends are serialized, malformed messages close
 * the channel with a named error, a vanished peer fails pending sends with
 * BulkChannelClosedError, and signalling lines are validated.
 */
import { describe, expect, it } from 'vitest';
import { BulkChannel, BulkChannelClosedError, BulkConfigError, BulkProtocolError, BulkSignalError, BulkUnavailableError, memoryWirePair, openSimplePeerBulk, parseSignalLine } from '../../src/net/bulk/index.ts';
import { crc32 } from '../../src/net/crc32.ts';
import { FrameChecksumError, FrameFieldError, FrameMagicError, FrameTooLargeError, FrameTruncatedError, FrameVersionError, TensorAckError } from '../../src/net/errors.ts';
import { encodeFrame, encodeFrameInto, encodeTensorFrames, headerBytes, type WireTensor } from '../../src/net/frame.ts';
import { encodeAck, tuneLowWater, type ByteStream } from '../../src/net/stream.ts';
import { freshSeed, mulberry32 } from '../../src/util/random.ts';

function tensor(bytes: number, seed: number, tensorId = 1): WireTensor {
  const rnd = mulberry32(seed);
  const data = new Uint8Array(bytes);
  for (let i = 0; i < data.length; i++) data[i] = (rnd() * 256) | 0;
  return { jobId: 7, step: 3, tensorId, codec: 'none', dtype: 'u8', shape: [bytes], data };
}

function pair(opts: { high?: number; low?: number; chunk?: number; hardLimit?: number; ackTimeoutMs?: number; maxChunkBytes?: number } = {}) {
  const [wa, wb] = memoryWirePair({ bytesPerTick: 128 * 1024, hardLimitBytes: opts.hardLimit });
  const got: { a: WireTensor[]; b: WireTensor[] } = { a: [], b: [] };
  const errors: { a: Error[]; b: Error[] } = { a: [], b: [] };
  const common = { highWaterBytes: opts.high ?? 512 * 1024, lowWaterBytes: opts.low ?? 128 * 1024, chunkBytes: opts.chunk ?? 64 * 1024, ackTimeoutMs: opts.ackTimeoutMs, limits: { maxChunkBytes: opts.maxChunkBytes } };
  const a = new BulkChannel(wa, { ...common, onTensor: (t) => got.a.push(t), onError: (e) => errors.a.push(e) });
  const b = new BulkChannel(wb, { ...common, onTensor: (t) => got.b.push(t), onError: (e) => errors.b.push(e) });
  return { a, b, wa, wb, got, errors };
}

describe('bulk channel (in-memory wire)', () => {
  it('moves tensors both ways, intact and acked, with the send buffer bounded by the water marks', async () => {
    const seed = freshSeed();
    const p = pair({ high: 512 * 1024, low: 128 * 1024, chunk: 64 * 1024 });
    const t1 = tensor(3 * 1024 * 1024 + 123, seed, 1);
    const t2 = tensor(1024 * 1024, seed + 1, 2);
    const [r1, r2] = await Promise.all([p.a.send(t1), p.b.send(t2)]);
    expect(r1.frames).toBe(Math.ceil(t1.data.length / 65536));
    expect(r1.drains).toBeGreaterThan(0);
    expect(p.wa.maxBuffered).toBeLessThanOrEqual(512 * 1024 + 65536 + 64);
    expect(p.got.b.map((t) => crc32(t.data))).toEqual([crc32(t1.data)]);
    expect(p.got.a.map((t) => crc32(t.data))).toEqual([crc32(t2.data)]);
    expect(p.got.b[0]!.shape).toEqual(t1.shape);
    expect(r2.bytes).toBe(t2.data.length);
    expect(p.errors.a.concat(p.errors.b)).toEqual([]);
  });

  it('serializes concurrent sends: every tensor arrives once, in order, even with a repeated id', async () => {
    const seed = freshSeed();
    const p = pair();
    const ts = [0, 1, 2, 3].map((i) => tensor(200_000 + i * 1000, seed + i, i));
    ts.push(tensor(1000, seed + 9, 0)); // same (job, step, tensor id) as ts[0]: a later message
    const rs = await Promise.all(ts.map((t) => p.a.send(t)));
    expect(rs.map((r) => r.bytes)).toEqual(ts.map((t) => t.data.length));
    expect(p.got.b.map((t) => t.tensorId)).toEqual([0, 1, 2, 3, 0]);
    expect(p.got.b.map((t) => crc32(t.data))).toEqual(ts.map((t) => crc32(t.data)));
  });

  it('backpressure is what keeps a send queue below its hard limit', async () => {
    const t = tensor(6 * 1024 * 1024, freshSeed());
    // Water marks below the 2 MiB limit: fine.
    const ok = pair({ high: 1024 * 1024, low: 256 * 1024, hardLimit: 2 * 1024 * 1024 });
    await ok.a.send(t);
    expect(crc32(ok.got.b[0]!.data)).toBe(crc32(t.data));
    // High water above the limit: the queue overflows, like Chromium's "send queue is full".
    const bad = pair({ high: 8 * 1024 * 1024, low: 1024 * 1024, hardLimit: 2 * 1024 * 1024 });
    await expect(bad.a.send(t)).rejects.toBeInstanceOf(BulkChannelClosedError);
    expect(bad.a.closed).toBe(true);
  });

  it('closes on malformed messages with a named error; other channels of the receiver keep working', async () => {
    const seed = freshSeed();
    const t = tensor(100_000, seed);
    const frames = [...encodeTensorFrames(t, 64 * 1024)];
    const flip = (f: Uint8Array, at: number) => Object.assign(f.slice(), { [at]: f[at]! ^ 0x40 });
    const big = encodeFrame({ jobId: 1, step: 0, tensorId: 9, codec: 'none', dtype: 'u8', shape: [300_000], chunkIndex: 0, chunkCount: 2, totalLength: 300_000 }, new Uint8Array(200_000));
    const cases: [string, Uint8Array, new (...a: never[]) => Error][] = [
      ['payload bit flip', flip(frames[0]!, 500), FrameChecksumError],
      ['header bit flip', flip(frames[0]!, 20), FrameChecksumError],
      ['wrong version', Object.assign(frames[0]!.slice(), { 4: 9 }), FrameVersionError],
      ['truncated message', frames[0]!.subarray(0, 1000), FrameTruncatedError],
      ['two frames in one message', new Uint8Array([...frames[1]!, ...frames[1]!]), FrameFieldError],
      ['random bytes', Uint8Array.from({ length: 4096 }, (_, i) => (mulberry32(seed)() * 256 + i) & 255), FrameMagicError],
      ['chunk above the limit', big, FrameTooLargeError],
      ['unsolicited ack', encodeAck(1, 100), BulkProtocolError],
    ];
    for (const [what, msg, cls] of cases) {
      const p = pair({ maxChunkBytes: 128 * 1024 });
      p.wa.send(msg);
      await new Promise((r) => setTimeout(r, 5));
      expect(p.errors.b.map((e) => e.constructor), what).toEqual([cls]);
      expect(p.b.closed, what).toBe(true);
      expect(p.a.closed, what).toBe(true);
      await expect(p.a.send(t), what).rejects.toBeInstanceOf(BulkChannelClosedError);
    }
    const fresh = pair();
    await fresh.a.send(t);
    expect(crc32(fresh.got.b[0]!.data)).toBe(crc32(t.data));
  });

  it('a peer that vanishes mid-transfer fails the pending send with BulkChannelClosedError', async () => {
    const p = pair({ high: 256 * 1024, low: 64 * 1024 });
    const send = p.a.send(tensor(4 * 1024 * 1024, freshSeed()));
    setTimeout(() => p.wb.close(), 2);
    await expect(send).rejects.toBeInstanceOf(BulkChannelClosedError);
    await expect(p.a.send(tensor(10, 1))).rejects.toBeInstanceOf(BulkChannelClosedError);
    expect(p.got.b).toEqual([]);
  });

  it('a receiver that never acks times out with TensorAckError; an abort signal stops a send', async () => {
    const [wa] = memoryWirePair();
    const a = new BulkChannel(wa, { ackTimeoutMs: 50 });
    await expect(a.send(tensor(1000, 1))).rejects.toBeInstanceOf(TensorAckError);
    expect(a.closed).toBe(true);
    const p = pair({ high: 128 * 1024, low: 32 * 1024 });
    const ac = new AbortController();
    const s = p.a.send(tensor(8 * 1024 * 1024, freshSeed()), { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 2);
    await expect(s).rejects.toThrow('stop');
    expect(p.a.closed).toBe(true);
  });

  it('rejects options under which a frame cannot be one DataChannel message', () => {
    const [wa] = memoryWirePair();
    expect(() => new BulkChannel(wa, { chunkBytes: 256 * 1024 })).toThrow(BulkConfigError);
    expect(() => new BulkChannel(wa, { highWaterBytes: 100, lowWaterBytes: 100 })).toThrow(BulkConfigError);
  });
});

describe('bulk channel signalling', () => {
  it('accepts only offer/answer lines with an sdp string', () => {
    expect(parseSignalLine(JSON.stringify({ type: 'offer', sdp: 'v=0' }))).toEqual({ type: 'offer', sdp: 'v=0' });
    for (const bad of ['{', 'null', '[]', '{"type":"offer"}', '{"type":"candidate","sdp":"x"}', '{"type":"answer","sdp":5}']) {
      expect(() => parseSignalLine(bad), bad).toThrow(BulkSignalError);
    }
  });

  it('without WebRTC in this runtime it fails with BulkUnavailableError and aborts the stream', async () => {
    expect(typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection).toBe('undefined');
    let aborted: Error | undefined;
    const stream = { send: () => true, close: async () => {}, abort: (e: Error) => (aborted = e), async *[Symbol.asyncIterator]() {} };
    await expect(openSimplePeerBulk(stream as never, true)).rejects.toBeInstanceOf(BulkUnavailableError);
    expect(aborted).toBeInstanceOf(BulkUnavailableError);
  });
});

describe('frames encoded into a reused buffer', () => {
  it('are byte-identical to freshly allocated frames; a too-small buffer is a RangeError', () => {
    const t = tensor(200_000 + (freshSeed() % 1000), freshSeed());
    const fresh = [...encodeTensorFrames(t, 65536)];
    const scratch = new Uint8Array(65536 + headerBytes(8));
    const reused = [...encodeTensorFrames(t, 65536, scratch)].length;
    expect(reused).toBe(fresh.length);
    let i = 0;
    for (const f of encodeTensorFrames(t, 65536, scratch)) expect(f, `frame ${i}`).toEqual(fresh[i++]);
    const h = { jobId: 1, step: 2, tensorId: 3, codec: 'none' as const, dtype: 'u8' as const, shape: [10], chunkIndex: 0, chunkCount: 1, totalLength: 10 };
    expect(encodeFrameInto(new Uint8Array(100), h, new Uint8Array(10).fill(7))).toEqual(encodeFrame(h, new Uint8Array(10).fill(7)));
    expect(() => encodeFrameInto(new Uint8Array(20), h, new Uint8Array(10))).toThrow(RangeError);
  });
});

describe('libp2p WebRTC stream tuning', () => {
  it('raises the data channel low-water mark of a stream that has one, and leaves others alone', () => {
    const channel = { bufferedAmountLowThreshold: 0 };
    tuneLowWater({ channel } as unknown as ByteStream, 1 << 20);
    expect(channel.bufferedAmountLowThreshold).toBe(1 << 20);
    tuneLowWater({ channel } as unknown as ByteStream, 0);
    expect(channel.bufferedAmountLowThreshold).toBe(1 << 20);
    expect(() => tuneLowWater({} as ByteStream, 1 << 20)).not.toThrow();
  });
});
