/**
 * The WASM kernels run in headless Chromium too (not only in Node): the page instantiates
 * @swarmgrad/wasm asynchronously, and every op, forward and backward, matches the CPU reference
 * computed in the same page on fresh random inputs. Also drives the peer-core `wasm` backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { freshSeed } from '@swarmgrad/peer-core/reference';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradWasmTest');
});

afterAll(() => t?.close());

describe('wasm kernels in Chromium vs CPU reference', () => {
  it('has WebAssembly SIMD', async () => {
    expect(await t.page.evaluate(() => window.swarmgradWasmTest.simd())).toBe(true);
  });

  it('every op forward and backward matches the reference, in every variant the page supports', async () => {
    const variants = await t.page.evaluate(() => window.swarmgradWasmTest.variants());
    // Chromium ships relaxed SIMD, so both builds run here
    expect(variants).toEqual(['relaxed-simd', 'simd']);
    for (const variant of variants) {
      const seed = freshSeed();
      const reports = await t.page.evaluate(([s, v]) => window.swarmgradWasmTest.ops(s, v), [seed, variant] as const);
      expect(reports.length).toBeGreaterThan(20);
      const bad = reports.filter((r) => !r.ok).map((r) => `${r.name}: ${r.message}`);
      expect(bad, `${variant} seed ${seed}`).toEqual([]);
    }
  });

  it('the peer-core wasm backend runs in the page', async () => {
    const seed = freshSeed();
    const r = await t.page.evaluate((s) => window.swarmgradWasmTest.backendMatmul(s), seed);
    expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
  });

  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
