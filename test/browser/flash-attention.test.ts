/**
 * Fused (flash-style) causal attention on WebGPU (SwiftShader here) vs the CPU flash reference,
 * forward (out, lse) and backward (dqkv, accumulated), on fresh random inputs: T not a
 * multiple of the blocks, head sizes 6 (not a multiple of 4), 8, 16, 32, 64, 128, B·NH > 1, both
 * kernel families (register-tiled: forward-tiled.wgsl, backward-tiled.wgsl, with 1, 2 and 4
 * tile rows per invocation and small blocks; one-row: forward.wgsl, backward.wgsl, with small
 * tiles), the model's arena bindings, and named input errors. The defaults run the tiled
 * forward and dq and the one-row dkv.
 * The reference itself is checked against the unfused one in
 * peer-core/test/reference/flash-attention.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { flashTiledBytes } from '@swarmgrad/gpu-shaders';
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
    ['hs 16, one-row kernels, small tiles (rows 16, 8 keys, 4 queries)', 2, 45, 32, 2, { tuning: { tiled: false, rows: 16, maxKeyTile: 8, maxQueryTile: 4 } }],
    ['hs 16, tiled, 4 tile rows per invocation, 8-row blocks', 2, 45, 32, 2, { tuning: { tiledRows: 8, tiledRowsDq: 8, tiledRowsDkv: 8, tiledKeys: 4, tiledKeysDq: 4, tiledKeysDkv: 4 } }],
    ['hs 32, tiled, 1 tile row per invocation in forward and dkv, 2 in dq, 16-row dkv blocks', 2, 50, 64, 2, { tuning: { tiledRowsDkv: 16, tiledKeysDkv: 1, tiledKeys: 1, tiledKeysDq: 2 } }],
    ['hs 16, tiled (2 tile rows per invocation in dkv), arena views (aliased bindings)', 1, 67, 32, 2, { arena: true, tuning: { tiledRowsDkv: 32, tiledKeysDkv: 2 } }],
  ];
  for (const [what, B, T, C, NH, opts] of cases) {
    it(`${what}: B=${B} T=${T} C=${C} NH=${NH}`, async () => {
      const seed = freshSeed();
      expectAll(await t.page.evaluate(([s, b, tt, c, nh, o]) => window.swarmgradFlashTest.flash(s, b, tt, c, nh, o), [seed, B, T, C, NH, opts] as const), seed);
    });
  }

  it('tiles fit the device: at least 4, within its workgroup memory and invocations', async () => {
    const { workgroupBytes, maxInvocations, tiles, tiled } = await t.page.evaluate(() => window.swarmgradFlashTest.tiles(64));
    for (const k of ['forward', 'dq', 'dkv'] as const) {
      const tt = tiled[k];
      if (tt === null) continue; // the one-row kernel runs (its tiles are checked below)
      expect(flashTiledBytes(k, tt), k).toBeLessThanOrEqual(workgroupBytes);
      expect((tt.BR / 4) * tt.CG, k).toBeLessThanOrEqual(maxInvocations);
    }
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
