/**
 * Codec CPU references: round trips at awkward sizes, error bounds, unbiasedness (tolerances
 * from Bernstein's inequality on the known per-element variance), error feedback, exact size
 * accounting, and named errors on bad input.
 */
import { describe, expect, it } from 'vitest';
import {
  CODEC_NAMES,
  type CodecName,
  CodecInputError,
  CodecPayloadError,
  createCodec,
  decodeWire,
  encodeWire,
  f16ToF32,
  f32ToF16,
  hashUniform24,
  Int8Codec,
  int8BlockExponent,
  RandomkCodec,
  randomkIndices,
  SignCodec,
  TopkCodec,
  UnknownCodecError,
} from '../../src/codecs/index.ts';
import { freshSeed, randomNormal, randomUniform } from '../../src/util/random.ts';

const SIZES = [0, 1, 7, 1023, 65537];

/** Bernstein: |mean of S iid draws - mu| <= t with prob >= 1-delta, for draws within mu±range. */
function bernsteinTol(variance: number, range: number, S: number, delta: number): number {
  const L = Math.log(2 / delta);
  return ((2 / 3) * range * L + Math.sqrt(((2 / 3) * range * L) ** 2 + 8 * variance * S * L)) / (2 * S);
}

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe('round trips and size accounting', () => {
  for (const name of CODEC_NAMES) {
    for (const n of SIZES) {
      it(`${name} n=${n}`, () => {
        const seed = freshSeed();
        const codec = createCodec(name);
        const x = randomNormal(n, seed);
        const enc = codec.compress(x, { seed });
        const wire = encodeWire(enc);
        expect(wire.byteLength, `seed ${seed}`).toBe(codec.encodedBytes(n));
        if (n > 0) expect(codec.estimateRatio(n) * 4 * n).toBeCloseTo(wire.byteLength, 6);
        const y = codec.decompress(decodeWire(wire));
        expect(y.length).toBe(n);
        if (name === 'none') expect(Array.from(y)).toEqual(Array.from(x));
        for (const v of y) expect(Number.isFinite(v)).toBe(true);
      });
    }
  }

  it('compression ratios are what the layouts promise (n = 2^20)', () => {
    const n = 1 << 20;
    expect(createCodec('none').estimateRatio(n)).toBeCloseTo(1, 4);
    expect(createCodec('fp16').estimateRatio(n)).toBeCloseTo(0.5, 4);
    expect(1 / createCodec('int8').estimateRatio(n)).toBeGreaterThan(3.9);
    expect(1 / createCodec({ name: 'topk', fraction: 0.01 }).estimateRatio(n)).toBeGreaterThan(45);
    expect(1 / createCodec('sign').estimateRatio(n)).toBeGreaterThan(28);
    expect(1 / createCodec({ name: 'randomk', fraction: 0.01 }).estimateRatio(n)).toBeGreaterThan(95);
  });
});

describe('fp16', () => {
  it('relative error <= 2^-11 in the normal range, exact on representable halves', () => {
    const seed = freshSeed();
    const u = randomUniform(4096, seed);
    const x = new Float32Array(u.length);
    for (let i = 0; i < x.length; i++) x[i] = Math.sign(u[i]) * 2 ** (-14 + 29.9 * Math.abs(u[i])); // 2^-14 .. ~2^15.9
    const codec = createCodec('fp16');
    const y = codec.decompress(codec.compress(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i]) / Math.abs(x[i]), `seed ${seed} i ${i} x ${x[i]}`).toBeLessThanOrEqual(2 ** -11);
    for (const h of [0x0000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x8001, 0xfbff]) expect(f32ToF16(f16ToF32(h))).toBe(h);
  });
  it('rounds ties to even and saturates instead of overflowing', () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f16ToF32(f32ToF16(1e6))).toBe(65504);
    expect(f16ToF32(f32ToF16(-7e4))).toBe(-65504);
    expect(f32ToF16(2 ** -26)).toBe(0);
  });
});

describe('int8', () => {
  it('per-block error < block scale, scale is the smallest power of two fitting max|x|/127', () => {
    const seed = freshSeed();
    const n = 1000;
    const x = randomNormal(n, seed, 3);
    const codec = new Int8Codec({ blockSize: 64 });
    const y = codec.decompress(codec.compress(x, { seed }));
    for (let b = 0; b < Math.ceil(n / 64); b++) {
      const blk = Array.from(x.subarray(b * 64, (b + 1) * 64));
      const absmax = Math.max(...blk.map(Math.abs));
      const e = int8BlockExponent(absmax);
      expect(absmax / 2 ** e).toBeLessThanOrEqual(127);
      expect(absmax / 2 ** (e - 1)).toBeGreaterThan(127);
      for (let i = b * 64; i < Math.min(n, (b + 1) * 64); i++) expect(Math.abs(y[i] - x[i]), `seed ${seed} i ${i}`).toBeLessThan(2 ** e);
    }
  });

  it('stochastic rounding is unbiased: the mean over seeds converges to x', () => {
    const seed0 = freshSeed();
    const n = 512;
    const S = 400;
    const x = randomUniform(n, seed0);
    const codec = new Int8Codec({ blockSize: 128 });
    const mean = new Float64Array(n);
    for (let s = 0; s < S; s++) {
      const y = codec.decompress(codec.compress(x, { seed: seed0 + 1 + s }));
      for (let i = 0; i < n; i++) mean[i] += y[i] / S;
    }
    let zNum = 0;
    let zVar = 0;
    for (let b = 0; b < n / 128; b++) {
      const blk = Array.from(x.subarray(b * 128, (b + 1) * 128));
      const sc = 2 ** int8BlockExponent(Math.max(...blk.map(Math.abs)));
      for (let i = b * 128; i < (b + 1) * 128; i++) {
        const t = x[i] / sc;
        const f = t - Math.floor(t);
        const variance = sc * sc * f * (1 - f);
        zNum += mean[i] - x[i];
        zVar += variance / S;
        const tol = bernsteinTol(variance, sc, S, 1e-9 / n) + sc * 2 ** -24;
        expect(Math.abs(mean[i] - x[i]), `seed ${seed0} i ${i}`).toBeLessThanOrEqual(tol);
      }
    }
    // the sum of all errors is a sum of independent terms: a 5-sigma z-test
    expect(Math.abs(zNum) / Math.sqrt(zVar), `seed ${seed0}`).toBeLessThan(5);
  });

  it('the hash RNG is uniform enough (mean and variance of 2^16 draws)', () => {
    const seed = freshSeed();
    const N = 1 << 16;
    let m = 0;
    let v = 0;
    for (let i = 0; i < N; i++) m += hashUniform24(seed, i) / N;
    for (let i = 0; i < N; i++) v += (hashUniform24(seed, i) - m) ** 2 / N;
    expect(Math.abs(m - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(v - 1 / 12)).toBeLessThan(0.005);
  });
});

describe('randomk', () => {
  it('picks k distinct indices, each with probability k/n, reproducible from the seed', () => {
    const seed0 = freshSeed();
    const n = 50;
    const k = 5;
    const S = 4000;
    const counts = new Float64Array(n);
    for (let s = 0; s < S; s++) {
      const idx = randomkIndices(n, k, seed0 + s);
      expect(new Set(idx).size).toBe(k);
      for (const i of idx) counts[i]++;
    }
    const p = k / n;
    const tol = bernsteinTol(p * (1 - p), 1, S, 1e-9 / n);
    for (let i = 0; i < n; i++) expect(Math.abs(counts[i] / S - p), `seed ${seed0} i ${i}`).toBeLessThanOrEqual(tol);
    expect(Array.from(randomkIndices(n, k, seed0))).toEqual(Array.from(randomkIndices(n, k, seed0)));
  });

  it('scaled randomk is unbiased: the mean over seeds converges to x', () => {
    const seed0 = freshSeed();
    const n = 64;
    const S = 4000;
    const codec = new RandomkCodec({ fraction: 0.1 });
    const k = Math.ceil(0.1 * n);
    const x = randomUniform(n, seed0);
    const mean = new Float64Array(n);
    for (let s = 0; s < S; s++) {
      const y = codec.decompress(codec.compress(x, { seed: seed0 + 1 + s }));
      for (let i = 0; i < n; i++) mean[i] += y[i] / S;
    }
    let zNum = 0;
    let zVar = 0;
    for (let i = 0; i < n; i++) {
      const variance = x[i] * x[i] * (n / k - 1);
      zNum += mean[i] - x[i];
      zVar += variance / S;
      const tol = bernsteinTol(variance, (Math.abs(x[i]) * n) / k, S, 1e-9 / n) + 1e-6;
      expect(Math.abs(mean[i] - x[i]), `seed ${seed0} i ${i}`).toBeLessThanOrEqual(tol);
    }
    expect(Math.abs(zNum) / Math.sqrt(zVar), `seed ${seed0}`).toBeLessThan(5);
  });
});

describe('topk', () => {
  it('keeps exactly the k largest magnitudes (ties: lowest index) and zeroes the rest', () => {
    const x = new Float32Array([0.5, -3, 2, 2, -2, 0.1, 7]);
    const codec = new TopkCodec({ fraction: 4 / 7, errorFeedback: false });
    expect(Array.from(codec.decompress(codec.compress(x)))).toEqual([0, -3, 2, 2, 0, 0, 7]);
  });
});

describe('error feedback', () => {
  for (const name of ['topk', 'sign'] as CodecName[]) {
    it(`${name}: sum of decoded outputs tracks the sum of inputs (residual stays bounded)`, () => {
      const seed = freshSeed();
      const n = 2000;
      const g = randomNormal(n, seed);
      const run = (ef: boolean, T: number) => {
        const codec = createCodec({ name, fraction: 0.02, errorFeedback: ef });
        const sumX = new Float64Array(n);
        const sumD = new Float64Array(n);
        for (let t = 0; t < T; t++) {
          const noise = randomNormal(n, seed + 1 + t, 0.5);
          const x = new Float32Array(n);
          for (let i = 0; i < n; i++) x[i] = g[i] + noise[i];
          const d = codec.decompress(codec.compress(x, { key: 'w' }));
          for (let i = 0; i < n; i++) {
            sumX[i] += x[i];
            sumD[i] += d[i];
          }
        }
        const gap = new Float64Array(n);
        for (let i = 0; i < n; i++) gap[i] = sumX[i] - sumD[i];
        return { rel: norm(gap) / norm(sumX), gap, residual: codec.residual('w') };
      };
      const ef = run(true, 200);
      // identity: sum x - sum D = final residual (up to f32 rounding of the running residual)
      const r = ef.residual!;
      for (let i = 0; i < n; i += 97) expect(Math.abs(ef.gap[i] - r[i])).toBeLessThan(1e-2 * (1 + Math.abs(r[i])));
      const efShort = run(true, 40);
      const noEf = run(false, 200);
      expect(ef.rel, `seed ${seed}`).toBeLessThan(efShort.rel); // the gap does not grow with T
      expect(ef.rel, `seed ${seed}`).toBeLessThan(0.5 * noEf.rel);
      expect(ef.rel, `seed ${seed}`).toBeLessThan(name === 'topk' ? 0.3 : 0.2);
    });
  }

  it('keeps residuals per tensor key and rejects a size change', () => {
    const codec = new SignCodec();
    codec.compress(new Float32Array([1, -2, 3]), { key: 'a' });
    codec.compress(new Float32Array([1, 2]), { key: 'b' });
    expect(codec.residual('a')!.length).toBe(3);
    expect(() => codec.compress(new Float32Array(5), { key: 'a' })).toThrow(CodecInputError);
    codec.resetState('a');
    expect(codec.residual('a')).toBeUndefined();
  });
});

describe('bad input', () => {
  for (const name of CODEC_NAMES) {
    it(`${name}: NaN/Inf input -> CodecInputError; wrong payload length -> CodecPayloadError`, () => {
      const codec = createCodec(name);
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const x = new Float32Array([1, 2, bad, 4]);
        expect(() => codec.compress(x)).toThrow(CodecInputError);
      }
      const enc = codec.compress(randomUniform(300, 1));
      expect(() => codec.decompress({ ...enc, payload: enc.payload.subarray(0, enc.payload.length - 1) })).toThrow(CodecPayloadError);
      expect(() => codec.decompress({ ...enc, payload: new Uint8Array(enc.payload.length + 4) })).toThrow(CodecPayloadError);
      expect(() => codec.decompress({ ...enc, payload: new Uint8Array(0) })).toThrow(CodecPayloadError);
      expect(() => codec.decompress({ ...enc, codec: name === 'none' ? 'fp16' : 'none' })).toThrow(CodecPayloadError);
    });
  }

  it('non-finite values inside a payload are rejected on decode', () => {
    const none = createCodec('none');
    const enc = none.compress(new Float32Array([1, 2, 3]));
    new DataView(enc.payload.buffer, enc.payload.byteOffset).setFloat32(4, Number.NaN, true);
    expect(() => none.decompress(enc)).toThrow(/decoded element 1 is NaN/);
    const fp = createCodec('fp16');
    const e2 = fp.compress(new Float32Array([1, 2]));
    e2.payload[2] = 0x00;
    e2.payload[3] = 0x7c; // +Inf half
    expect(() => fp.decompress(e2)).toThrow(CodecPayloadError);
    const i8 = createCodec('int8');
    const e3 = i8.compress(new Float32Array([1, 2]));
    e3.payload[8] = 255;
    expect(() => i8.decompress(e3)).toThrow(CodecPayloadError);
  });

  it('topk rejects out-of-range and repeated indices', () => {
    const codec = new TopkCodec({ fraction: 0.5 });
    const enc = codec.compress(new Float32Array([1, 2, 3, 4]));
    const dv = new DataView(enc.payload.buffer, enc.payload.byteOffset);
    dv.setUint32(4, 9, true);
    expect(() => codec.decompress(enc)).toThrow(/strictly increasing and < 4/);
    dv.setUint32(4, 3, true);
    dv.setUint32(8, 3, true);
    expect(() => codec.decompress(enc)).toThrow(CodecPayloadError);
  });

  it('wire header checks and unknown codecs', () => {
    expect(() => decodeWire(new Uint8Array(3))).toThrow(CodecPayloadError);
    expect(() => decodeWire(new Uint8Array([99, 1, 0, 0, 0, 0, 0, 0]))).toThrow(/unknown codec id 99/);
    expect(() => decodeWire(new Uint8Array([0, 7, 0, 0, 0, 0, 0, 0]))).toThrow(/version 7/);
    expect(() => createCodec('zip' as CodecName)).toThrow(UnknownCodecError);
    expect(() => new TopkCodec({ fraction: 0 })).toThrow(CodecInputError);
  });
});
