/**
 * WGSL codec kernels on WebGPU (SwiftShader on GPU-less machines) vs the CPU codecs in
 * peer-core: payload bytes, decoded values and error-feedback residuals must be bit-identical
 * (the algorithms are deterministic given the seed; stochastic rounding uses the same hash RNG).
 */
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { freshSeed } from '@swarmgrad/peer-core/reference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradCodecs');
});

afterAll(() => t?.close());

describe('codec kernels on WebGPU vs CPU codecs (bit-exact)', () => {
  it('has a WebGPU adapter', async () => {
    expect(await t.page.evaluate(() => window.swarmgradCodecs.adapterInfo())).toBeTruthy();
  });

  for (const n of [1, 7, 1023, 70001]) {
    it(`fp16 pack/unpack n=${n}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m]) => window.swarmgradCodecs.fp16(s, m), [seed, n] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  for (const [n, B] of [[1, 256], [7, 4], [1023, 256], [5000, 64], [70001, 256]] as const) {
    it(`int8 stochastic rounding n=${n} block=${B}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m, b]) => window.swarmgradCodecs.int8(s, m, b), [seed, n, B] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  for (const [n, B] of [[1, 256], [7, 2], [1023, 256], [5000, 64]] as const) {
    it(`sign + error feedback, 3 steps, n=${n} block=${B}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m, b]) => window.swarmgradCodecs.sign(s, m, b, 3), [seed, n, B] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  for (const [n, fraction, ties] of [[1, 0.01, false], [1000, 0.01, false], [4099, 0.05, true], [70001, 0.01, false], [3000, 0.3, true]] as const) {
    it(`top-k radix select + error feedback, 3 steps, n=${n} k=${Math.ceil(n * fraction)}${ties ? ' (many ties)' : ''}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m, f, t]) => window.swarmgradCodecs.topk(s, m, f, 3, t), [seed, n, fraction, ties] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  it('error-feedback accumulate/update n=4097', async () => {
    const seed = freshSeed();
    const r = await t.page.evaluate((s) => window.swarmgradCodecs.ef(s, 4097), seed);
    expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
  });

  it('rejects a bad block size with a named error before any GPU work', async () => {
    expect(await t.page.evaluate(() => window.swarmgradCodecs.badInput())).toMatch(/^KernelInputError: int8_quantize: blockSize must be a multiple of 4/);
  });

  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
