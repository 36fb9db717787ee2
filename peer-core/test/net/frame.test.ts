/**
 * Tensor wire format: CRC32 against its bit-level reference, encode/decode round trips on fresh
 * random tensors split at random points, every named rejection, and a fuzz run that throws
 * thousands of random and mutated frames at the decoder: it may only ever throw FrameError
 * subclasses, and it decodes valid frames correctly afterwards.
 */
import { describe, expect, it } from 'vitest';
import { DTYPES, FRAME_VERSION, NET_DEFAULTS } from '../../src/net/constants.ts';
import { crc32, crc32Reference } from '../../src/net/crc32.ts';
import {
  FrameChecksumError,
  FrameError,
  FrameFieldError,
  FrameMagicError,
  FrameSequenceError,
  FrameTooLargeError,
  FrameTruncatedError,
  FrameVersionError,
  ReassemblyLimitError,
  TensorEncodeError,
} from '../../src/net/errors.ts';
import { decodeFrame, encodeFrame, encodeTensorFrames, FrameDecoder, headerBytes, Reassembler, type WireTensor } from '../../src/net/frame.ts';
import { freshSeed, mulberry32 } from '../../src/util/random.ts';

function randomBytes(n: number, rnd: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

function randomTensor(rnd: () => number, maxElems = 5000): WireTensor {
  const ndim = 1 + ((rnd() * 3) | 0);
  const shape = Array.from({ length: ndim }, () => 1 + ((rnd() * Math.cbrt(maxElems)) | 0));
  const elems = shape.reduce((a, b) => a * b, 1);
  return { jobId: (rnd() * 2 ** 32) >>> 0, step: (rnd() * 1e6) | 0, tensorId: (rnd() * 1000) | 0, codec: 'none', dtype: 'f32', shape, data: randomBytes(elems * 4, rnd) };
}

/** Feed `bytes` in random pieces; collect frames. */
function feed(dec: FrameDecoder, bytes: Uint8Array, rnd: () => number) {
  const out = [];
  let off = 0;
  while (off < bytes.length) {
    const n = 1 + ((rnd() * 700) | 0);
    out.push(...dec.push(bytes.subarray(off, off + n)));
    off += n;
  }
  return out;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe('crc32', () => {
  it('matches the bit-level reference on random inputs and the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(crc32Reference(new TextEncoder().encode('123456789')));
    expect(crc32Reference(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the CRC-32 catalogue's check value
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    for (let i = 0; i < 50; i++) {
      const b = randomBytes((rnd() * 3000) | 0, rnd);
      expect(crc32(b), `seed ${seed}`).toBe(crc32Reference(b));
      const cut = (rnd() * b.length) | 0;
      expect(crc32(b.subarray(cut), crc32(b.subarray(0, cut)))).toBe(crc32Reference(b));
    }
  });
});

describe('frames', () => {
  it('round-trips random tensors through chunking, random splits and reassembly', () => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    for (let i = 0; i < 30; i++) {
      const t = randomTensor(rnd);
      const chunk = 1 + ((rnd() * 9000) | 0);
      const frames = [...encodeTensorFrames(t, chunk)];
      expect(frames.length).toBe(Math.ceil(t.data.length / chunk));
      const got = feed(new FrameDecoder(), concat(frames), rnd);
      const re = new Reassembler();
      const done = got.map((f) => re.add(f)).filter((x) => x !== undefined);
      expect(done.length, `seed ${seed}`).toBe(1);
      expect(done[0]!.shape).toEqual(t.shape);
      expect(done[0]!.jobId).toBe(t.jobId);
      expect(crc32(done[0]!.data)).toBe(crc32(t.data));
      expect(done[0]!.data).toEqual(t.data);
    }
  });

  it('carries every dtype, codec, empty tensors and 0-d scalars', () => {
    for (const dtype of Object.keys(DTYPES) as (keyof typeof DTYPES)[]) {
      const t: WireTensor = { jobId: 1, step: 2, tensorId: 3, codec: 'none', dtype, shape: [3], data: new Uint8Array(3 * DTYPES[dtype].bytes).fill(7) };
      expect(decodeFrame([...encodeTensorFrames(t)][0]!).header.dtype).toBe(dtype);
    }
    const comp: WireTensor = { jobId: 1, step: 2, tensorId: 3, codec: 'topk', dtype: 'f32', shape: [1000], data: new Uint8Array(37) };
    expect(decodeFrame([...encodeTensorFrames(comp)][0]!).header.codec).toBe('topk');
    const empty: WireTensor = { jobId: 0, step: 0, tensorId: 0, codec: 'none', dtype: 'f32', shape: [0, 5], data: new Uint8Array(0) };
    const [f] = [...encodeTensorFrames(empty)];
    expect(new Reassembler().add(decodeFrame(f!))?.data.length).toBe(0);
    const scalar: WireTensor = { jobId: 0, step: 0, tensorId: 0, codec: 'none', dtype: 'f32', shape: [], data: new Uint8Array(4) };
    expect(decodeFrame([...encodeTensorFrames(scalar)][0]!).header.shape).toEqual([]);
  });

  it('refuses to encode inconsistent tensors with TensorEncodeError', () => {
    const t: WireTensor = { jobId: 1, step: 0, tensorId: 0, codec: 'none', dtype: 'f32', shape: [4], data: new Uint8Array(15) };
    expect(() => [...encodeTensorFrames(t)]).toThrow(TensorEncodeError);
    expect(() => [...encodeTensorFrames({ ...t, data: new Uint8Array(16), jobId: -1 })]).toThrow(TensorEncodeError);
    expect(() => [...encodeTensorFrames({ ...t, data: new Uint8Array(16), shape: [1, 1, 1, 1, 1, 1, 1, 1, 4] })]).toThrow(TensorEncodeError);
  });
});

describe('named rejections', () => {
  const t: WireTensor = { jobId: 9, step: 1, tensorId: 5, codec: 'none', dtype: 'f32', shape: [2, 8], data: new Uint8Array(64).map((_, i) => i) };
  const good = () => [...encodeTensorFrames(t)][0]!;
  const hb = headerBytes(2);
  /** Rewrite header fields and fix the header CRC so that only the field check can fail. */
  const patched = (edit: (v: DataView, b: Uint8Array) => void) => {
    const b = good();
    const v = new DataView(b.buffer);
    edit(v, b);
    v.setUint32(hb - 4, crc32(b.subarray(0, hb - 4)), true);
    return b;
  };

  it('wrong magic, wrong version', () => {
    const b = good();
    b[0] = 0x58;
    expect(() => decodeFrame(b)).toThrow(FrameMagicError);
    const w = good();
    w[4] = FRAME_VERSION + 1;
    expect(() => decodeFrame(w)).toThrow(FrameVersionError);
  });

  it('truncated header, truncated payload, stream ending inside a frame', () => {
    expect(() => decodeFrame(good().subarray(0, 10))).toThrow(FrameTruncatedError);
    expect(() => decodeFrame(good().subarray(0, hb + 10))).toThrow(FrameTruncatedError);
    const d = new FrameDecoder();
    d.push(good().subarray(0, 30));
    expect(() => d.end()).toThrow(FrameTruncatedError);
  });

  it('oversized chunk, tensor and shape against receiver limits', () => {
    expect(() => decodeFrame(good(), { maxChunkBytes: 63 })).toThrow(FrameTooLargeError);
    expect(() => decodeFrame(good(), { maxTensorBytes: 63 })).toThrow(FrameTooLargeError);
    expect(() => decodeFrame(good(), { maxElements: 15 })).toThrow(FrameTooLargeError);
    // A forged header announcing 4 GiB: rejected before anything is allocated.
    const huge = patched((v) => {
      v.setUint32(32, 0xffffffff, true);
      v.setUint32(36, 0xffffffff, true);
    });
    expect(() => new FrameDecoder().push(huge)).toThrow(FrameTooLargeError);
  });

  it('header and payload checksums', () => {
    const b = good();
    b[13] ^= 1; // job id bit flip
    expect(() => decodeFrame(b)).toThrow(FrameChecksumError);
    const p = good();
    p[hb + 3] ^= 0x80;
    expect(() => decodeFrame(p)).toThrow(FrameChecksumError);
  });

  it('bad fields: dtype, codec, flags, index >= count, length vs shape, ndim', () => {
    expect(() => decodeFrame(patched((_, b) => (b[6] = 99)))).toThrow(FrameFieldError);
    expect(() => decodeFrame(patched((_, b) => (b[5] = 200)))).toThrow(FrameFieldError);
    expect(() => decodeFrame(patched((v) => v.setUint16(8, 1, true)))).toThrow(FrameFieldError);
    expect(() => decodeFrame(patched((v) => v.setUint32(24, 1, true)))).toThrow(FrameFieldError);
    expect(() => decodeFrame(patched((v) => v.setUint32(44, 3, true)))).toThrow(FrameFieldError);
    const nd = good();
    nd[7] = 200;
    expect(() => decodeFrame(nd)).toThrow(FrameFieldError);
  });

  it('sequence errors: duplicate chunk, disagreeing chunk, chunk after completion, too many in flight', () => {
    const big: WireTensor = { ...t, shape: [4, 8], data: new Uint8Array(128) };
    const [a, b] = [...encodeTensorFrames(big, 64)].map((f) => decodeFrame(f));
    const re = new Reassembler();
    re.add(a!);
    expect(() => re.add(a!)).toThrow(FrameSequenceError);
    const re2 = new Reassembler();
    re2.add(a!);
    const other = decodeFrame(encodeFrame({ ...big, shape: [32], chunkIndex: 1, chunkCount: 2, totalLength: 128 }, new Uint8Array(64)));
    expect(() => re2.add(other)).toThrow(FrameSequenceError);
    const re3 = new Reassembler();
    re3.add(a!);
    expect(re3.add(b!)).toBeDefined();
    expect(() => re3.add(b!)).toThrow(FrameSequenceError);
    const re4 = new Reassembler({ maxPendingTensors: 2 });
    for (let i = 0; i < 2; i++) re4.add(decodeFrame([...encodeTensorFrames({ ...big, tensorId: i }, 64)][0]!));
    expect(() => re4.add(decodeFrame([...encodeTensorFrames({ ...big, tensorId: 7 }, 64)][0]!))).toThrow(ReassemblyLimitError);
    expect(re4.sweep(Date.now() + NET_DEFAULTS.reassemblyTimeoutMs + 1)).toBe(2);
  });
});

describe('fuzz', () => {
  it('only named errors from thousands of random and mutated frames; decoding still works after', () => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const valid = [...encodeTensorFrames(randomTensor(rnd, 300), 200)];
    const counts: Record<string, number> = {};
    const dec = new FrameDecoder({ maxChunkBytes: 4096, maxTensorBytes: 1 << 20 });
    const re = new Reassembler({ maxPendingTensors: 8 });
    const N = 5000;
    for (let i = 0; i < N; i++) {
      let bytes: Uint8Array;
      const kind = i % 5;
      if (kind === 0) bytes = randomBytes((rnd() * 300) | 0, rnd);
      else {
        bytes = valid[(rnd() * valid.length) | 0]!.slice();
        if (kind === 1) for (let k = 0; k < 1 + ((rnd() * 4) | 0); k++) bytes[(rnd() * bytes.length) | 0] = (rnd() * 256) | 0;
        else if (kind === 2) bytes = bytes.subarray(0, (rnd() * bytes.length) | 0);
        else if (kind === 3) {
          // a mutated header with a recomputed CRC: exercises the field checks, not just the CRC
          const nd = Math.min(bytes[7]!, 8);
          const hb = headerBytes(nd);
          bytes[8 + ((rnd() * (hb - 12)) | 0)] = (rnd() * 256) | 0;
          if (bytes[7] === nd) new DataView(bytes.buffer).setUint32(hb - 4, crc32(bytes.subarray(0, hb - 4)), true);
        } else bytes = concat([bytes, randomBytes((rnd() * 64) | 0, rnd)]);
      }
      dec.reset();
      try {
        for (const f of feed(dec, bytes, rnd)) re.add(f);
        dec.end();
      } catch (e) {
        if (!(e instanceof FrameError)) throw new Error(`seed ${seed} case ${i}: unnamed ${(e as Error)?.name}: ${(e as Error)?.message}`);
        counts[e.name] = (counts[e.name] ?? 0) + 1;
      }
      re.sweep(Number.POSITIVE_INFINITY, 0);
    }
    // Mutations must reach more than one kind of check.
    expect(Object.keys(counts).length, JSON.stringify(counts)).toBeGreaterThanOrEqual(5);
    // And the decoder still decodes a whole valid tensor afterwards.
    const t = randomTensor(rnd, 1000);
    dec.reset();
    const out = feed(dec, concat([...encodeTensorFrames(t, 512)]), rnd);
    const fresh = new Reassembler();
    const got = out.map((f) => fresh.add(f)).find((x) => x);
    expect(got?.data).toEqual(t.data);
  });
});
