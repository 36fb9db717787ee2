/**
 * Fused (flash-style) causal attention on WebGPU (SwiftShader here) vs the CPU flash reference,
 * forward (out, lse) and backward (dqkv, accumulated), on fresh random inputs: T not a
 * multiple of the blocks, head sizes 6 (not a multiple of 4), 8, 16, 64, 128, B·NH > 1, small
 * tile sizes (many tiles at small T), the model's arena bindings, and named input errors.
 * The reference itself is checked against the unfused one in
 * peer-core/test/reference/flash-attention.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { type AllcloseReport, freshSeed } from '@swarmgrad/peer-core/reference';
import type { FlashOpts } from './pages/flash-attention.page.ts';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradFlashTest', { path: 'flash-attention.html' });
});

afterAll(() => t?.close());

function expectAll(reports: Record<string, AllcloseReport>, seed: number): void {
  for (const [name, r] of Object.entries(reports)) expect(r.ok, `${name} (seed ${seed}): ${r.message}`).toBe(true);
}

describe('fused attention on WebGPU vs the CPU flash reference (forward and backward)', () => {
  const cases: Array<[string, number, number, number, number, FlashOpts]> = [
    ['hs 8', 2, 70, 16, 2, {}],
    ['hs 16', 1, 37, 48, 3, {}],
    ['hs 64', 2, 70, 128, 2, {}],
    ['hs 6 (scalar tails)', 2, 9, 30, 5, {}],
    // hs 128 with the loops kept as loops: the written-out kernel is the hs 64 one with more
    // copies, and takes SwiftShader minutes to compile on a loaded 2-core machine
    ['hs 128 (loops not written out)', 1, 20, 256, 2, { tuning: { unroll: false } }],
    ['hs 16, small tiles (rows 16, 8 keys, 4 queries)', 2, 45, 32, 2, { tuning: { rows: 16, maxKeyTile: 8, maxQueryTile: 4 } }],
    ['hs 16, arena views (aliased bindings)', 1, 67, 32, 2, { arena: true }],
  ];
  for (const [what, B, T, C, NH, opts] of cases) {
    it(`${what}: B=${B} T=${T} C=${C} NH=${NH}`, async () => {
      const seed = freshSeed();
      expectAll(await t.page.evaluate(([s, b, tt, c, nh, o]) => window.swarmgradFlashTest.flash(s, b, tt, c, nh, o), [seed, B, T, C, NH, opts] as const), seed);
    });
  }

  it('tiles fit the device: at least 4, within its workgroup memory', async () => {
    const { workgroupBytes, tiles } = await t.page.evaluate(() => window.swarmgradFlashTest.tiles(64));
    const swap = 4 * tiles.BR * 16;
    expect(2 * tiles.BC * tiles.HS4 * 16).toBeLessThanOrEqual(workgroupBytes);
    expect(2 * tiles.BCB * tiles.HS4 * 16 + swap).toBeLessThanOrEqual(workgroupBytes);
    expect(2 * tiles.BQ * tiles.HS4 * 16 + 8 * tiles.BQ + swap).toBeLessThanOrEqual(workgroupBytes);
    expect(Math.min(tiles.BC, tiles.BCB, tiles.BQ)).toBeGreaterThanOrEqual(4);
  });

  it('bad input gives KernelInputError before any GPU work', async () => {
    expect(await t.page.evaluate(() => window.swarmgradFlashTest.badInput('heads'))).toMatch(/^KernelInputError: .*not a multiple/);
    expect(await t.page.evaluate(() => window.swarmgradFlashTest.badInput('buffer'))).toMatch(/^KernelInputError: .*lse/);
    expect(await t.page.evaluate(() => window.swarmgradFlashTest.badInput('hs'))).toMatch(/^KernelInputError: .*head size 512/);
  });

  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
