/**
 * WGSL kernels of the transformer's non-matmul ops on WebGPU vs the CPU reference, forward
 * and backward, on fresh random inputs of awkward sizes: token + position embedding,
 * layernorm, GELU, residual, softmax cross-entropy (with an ignored target), causal
 * attention (unfused), the global gradient norm, AdamW and SGD with momentum (with clipping
 * on the GPU), and a check that a repeated step creates no new GPU objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { type AllcloseReport, freshSeed } from '@swarmgrad/peer-core/reference';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradTest');
});

afterAll(() => t?.close());

function expectAll(reports: Record<string, AllcloseReport>, seed: number): void {
  for (const [name, r] of Object.entries(reports)) expect(r.ok, `${name} (seed ${seed}): ${r.message}`).toBe(true);
}

describe('transformer kernels on WebGPU vs CPU reference (forward and backward)', () => {
  it('embedding: B=3 T=7 C=37 V=53 (maxT 9)', async () => {
    const seed = freshSeed();
    expectAll(await t.page.evaluate((s) => window.swarmgradTest.encoder(s, 3, 7, 37, 53, 9), seed), seed);
  });

  it('embedding: V above the dwte group count (V=301, C=20)', async () => {
    const seed = freshSeed();
    expectAll(await t.page.evaluate((s) => window.swarmgradTest.encoder(s, 2, 33, 20, 301, 33), seed), seed);
  });

  for (const [N, C] of [
    [13, 37],
    [70, 130],
    [300, 9],
  ] as const) {
    it(`layernorm N=${N} C=${C}`, async () => {
      const seed = freshSeed();
      expectAll(await t.page.evaluate(([s, n, c]) => window.swarmgradTest.layernorm(s, n, c), [seed, N, C] as const), seed);
    });
  }

  it('GELU and residual, N=1237', async () => {
    const seed = freshSeed();
    expectAll(await t.page.evaluate((s) => window.swarmgradTest.elementwise(s, 1237), seed), seed);
  });

  for (const [N, V] of [
    [7, 53],
    [5, 1500],
  ] as const) {
    it(`softmax cross-entropy N=${N} V=${V}`, async () => {
      const seed = freshSeed();
      expectAll(await t.page.evaluate(([s, n, v]) => window.swarmgradTest.crossEntropy(s, n, v), [seed, N, V] as const), seed);
    });
  }

  for (const [B, T, C, NH, impl] of [
    [2, 7, 12, 3, 'rows'],
    [1, 70, 24, 2, 'rows'],
    [2, 5, 96, 1, 'rows'],
    [2, 7, 12, 3, 'matmul'], // hs 4: vec4 batched matmuls
    [2, 9, 30, 5, 'matmul'], // hs 6, odd strides: the any-shape matmuls
    [1, 70, 24, 2, 'matmul'],
  ] as const) {
    it(`attention (${impl}) B=${B} T=${T} C=${C} NH=${NH}`, async () => {
      const seed = freshSeed();
      expectAll(await t.page.evaluate(([s, b, t, c, nh, im]) => window.swarmgradTest.attention(s, b, t, c, nh, im), [seed, B, T, C, NH, impl] as const), seed);
    });
  }

  it('global norm, AdamW and SGD momentum with clipping active (N=3001)', async () => {
    const seed = freshSeed();
    expectAll(await t.page.evaluate((s) => window.swarmgradTest.optimizers(s, 3001, 1.0), seed), seed);
  });

  it('global norm, AdamW and SGD momentum with clipping inactive (N=517)', async () => {
    const seed = freshSeed();
    expectAll(await t.page.evaluate((s) => window.swarmgradTest.optimizers(s, 517, 1e6), seed), seed);
  });

  it('a repeated step creates no pipelines, uniforms, bind groups or pool buffers', async () => {
    const { first, second } = await t.page.evaluate(() => window.swarmgradTest.steadyState());
    expect(first.pipelines).toBeGreaterThan(0);
    expect(second).toEqual(first);
  });

  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
