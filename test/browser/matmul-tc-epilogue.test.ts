/**
 * The elementwise kernels around the tensor-core matmul (gpu-shaders/src/matmul-tc/
 * epilogue.wgsl) on WebGPU (SwiftShader on GPU-less machines) vs plain loops on fresh random
 * inputs: absmax, the per-tensor power-of-two scaling that keeps small gradients out of f16's
 * subnormal range (scaled pad, unscaled add back), bias broadcast; and the fp32 routes of the
 * mixed-precision matmul API. The tensor-core products need subgroup matrices (none under
 * SwiftShader): bench/gpu/train-check.ts checks them on a GPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { freshSeed } from '@swarmgrad/peer-core/reference';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradTcEpilogue', { path: 'matmul-tc-epilogue.html' });
});

afterAll(() => t?.close());

describe('tensor-core epilogue kernels vs plain loops', () => {
  for (const [R, C, Rp, Cp, mag, S] of [
    [37, 67, 37, 68, 1e-9, 1], // LM-head-like: odd columns padded to 4, tiny gradients
    [300, 129, 300, 132, 3.0, 1],
    [20, 33, 24, 33, 1e3, 3], // rows padded; the add back sums 3 split-K slices
    [513, 260, 513, 260, 2e-5, 1], // no padding: a scaled copy; > 256 workgroups of absmax
    [48, 40, 48, 40, 0.5, 4],
  ] as const) {
    it(`absmax, scaled pad and scaled add back (${S} slice(s)) at ${R}x${C} -> ${Rp}x${Cp}, |x| ~ ${mag}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, a, b, c, d, m, z]) => window.swarmgradTcEpilogue.scaled(s, a, b, c, d, m, z), [seed, R, C, Rp, Cp, mag, S] as const);
      expect(r.gotMax, `seed ${seed}`).toBe(r.refMax);
      expect(r.scaledMax).toBeGreaterThanOrEqual(2 ** 14);
      expect(r.scaledMax).toBeLessThan(2 ** 15);
      expect(r.pad.message, `seed ${seed}`).toMatch(/ok/);
      expect(r.add.message, `seed ${seed}`).toMatch(/ok/);
    });
  }

  for (const accumulate of [false, true]) {
    it(`bias_rows${accumulate ? ' (accumulate)' : ''}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, acc]) => window.swarmgradTcEpilogue.biasRows(s, 53, 37, acc), [seed, accumulate] as const);
      expect(r.message, `seed ${seed}`).toMatch(/ok/);
    });
  }

  it('mixed matmul forward and backward take the fp32 kernels for a shape the tensor cores do not take', async () => {
    const seed = freshSeed();
    // B stored (N,K), K = 53: no product's operand rows split into vec4s, with or without N padded.
    const r = await t.page.evaluate((s) => window.swarmgradTcEpilogue.fp32Route(s, 37, 53, 29), seed);
    expect(r.routes).toEqual({ fwd: 'fp32', bwd: { da: 'fp32', db: 'fp32' } });
    for (const k of ['out', 'da', 'db', 'dbias'] as const) expect(r[k].message, `${k}, seed ${seed}`).toMatch(/ok/);
  });
});
