/**
 * Tensor transport over in-memory streams (libp2p 3 stream semantics): backpressure is
 * honoured, tensors arrive intact and are acked, a malformed stream is aborted with a named
 * error while the receiver keeps serving other streams, and link shaping delays and paces.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/net/crc32.ts';
import { FrameChecksumError, FrameTruncatedError, FrameVersionError } from '../../src/net/errors.ts';
import { encodeTensorFrames, type WireTensor } from '../../src/net/frame.ts';
import { memoryStreamPair } from '../../src/net/memory.ts';
import { LinkShaper, TokenBucket } from '../../src/net/shaper.ts';
import { receiveTensors, sendTensorOverStream } from '../../src/net/stream.ts';
import { freshSeed, mulberry32 } from '../../src/util/random.ts';

function tensor(n: number, seed: number, tensorId = 1): WireTensor {
  const rnd = mulberry32(seed);
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < data.length; i++) data[i] = (rnd() * 256) | 0;
  return { jobId: 7, step: 3, tensorId, codec: 'none', dtype: 'f32', shape: [n], data };
}

describe('tensor transport over streams', () => {
  it('moves a 4 MiB tensor with backpressure and random re-splitting, acked and intact', async () => {
    const seed = freshSeed();
    const [a, b] = memoryStreamPair({ highWaterBytes: 128 * 1024, maxPieceBytes: 20_000, random: mulberry32(seed) });
    const t = tensor(1 << 20, seed);
    const got: WireTensor[] = [];
    const rx = receiveTensors(b, { onTensor: (x) => got.push(x) });
    const r = await sendTensorOverStream(a, t, { chunkBytes: 65536 });
    expect(await rx).toBe(1);
    expect(r.frames).toBe(64);
    expect(r.drains).toBeGreaterThan(0);
    expect(crc32(got[0]!.data)).toBe(crc32(t.data));
    expect(got[0]!.shape).toEqual([1 << 20]);
  });

  it('aborts only the bad stream with a named error; the receiver serves the next stream', async () => {
    const good = tensor(1000, freshSeed());
    const cases: [(f: Uint8Array[]) => Uint8Array[], new (...a: never[]) => Error][] = [
      [(f) => f.map((x, i) => (i === 1 ? Object.assign(x.slice(), { [200]: x[200]! ^ 1 }) : x)), FrameChecksumError],
      [(f) => f.map((x) => Object.assign(x.slice(), { 4: 9 })), FrameVersionError],
      [(f) => [f[0]!, f[1]!.subarray(0, 100)], FrameTruncatedError],
    ];
    for (const [mutate, Err] of cases) {
      const [a, b] = memoryStreamPair();
      const got: WireTensor[] = [];
      const rx = receiveTensors(b, { onTensor: (x) => got.push(x) });
      for (const f of mutate([...encodeTensorFrames(good, 1024)])) a.send(f);
      await a.close();
      await expect(rx).rejects.toThrow(Err);
      expect(got).toEqual([]);
      // the same receiver logic on a new stream still works
      const [c, d] = memoryStreamPair();
      const ok: WireTensor[] = [];
      const rx2 = receiveTensors(d, { onTensor: (x) => ok.push(x) });
      await sendTensorOverStream(c, good);
      await rx2;
      expect(ok[0]!.data).toEqual(good.data);
    }
  });

  it('token bucket paces to its rate; the shaper adds its delay', async () => {
    let now = 0;
    const tb = new TokenBucket(1000, 100, () => now);
    expect(tb.reserve(100)).toBe(0);
    expect(tb.reserve(50)).toBeCloseTo(50, 6); // 50 bytes at 1000 B/s
    now += 50;
    expect(tb.reserve(0)).toBe(0);
    const [a, b] = memoryStreamPair();
    const rate = 2 * 1024 * 1024;
    const shaper = new LinkShaper({ bytesPerSecond: rate, burstBytes: 16 * 1024, delayMs: 100 });
    const t = tensor(128 * 1024, 5); // 512 KiB
    const rx = receiveTensors(b, { onTensor: () => {} });
    const t0 = performance.now();
    await sendTensorOverStream(a, t, { shaper, chunkBytes: 16 * 1024 });
    await rx;
    const ms = performance.now() - t0;
    const expected = 100 + ((t.data.length - 16 * 1024) / rate) * 1000; // delay + (bytes - burst) / rate
    expect(ms).toBeGreaterThan(expected * 0.9);
    expect(ms).toBeLessThan(expected + 1000);
  });
});
