/**
 * The fused attention wrappers' decisions before any GPU work, in Node without a GPU: input
 * validation (named KernelInputError), tile sizes under a workgroup-memory budget, and the
 * specialisation of the WGSL constants. Numerics: test/browser/flash-attention.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FLASH_MAX_HS, type FlashTiledTuning, flashTiledBytes, flashTiledConsts, flashTiledTiles, flashTiles, flashTuning, KernelInputError, specialise, tilesKey, validateFlashAttentionBackward, validateFlashAttentionForward } from '../src/index.ts';
import backwardCode from '../src/flash-attention/backward.wgsl';
import backwardTiledCode from '../src/flash-attention/backward-tiled.wgsl';
import forwardCode from '../src/flash-attention/forward.wgsl';
import forwardTiledCode from '../src/flash-attention/forward-tiled.wgsl';

const buf = (floats: number) => ({ size: floats * 4, mapState: 'unmapped' }) as unknown as GPUBuffer;

describe('flash attention validation', () => {
  const [B, T, C, NH] = [2, 5, 12, 3];
  const fwd = { out: buf(B * T * C), lse: buf(B * NH * T), qkv: buf(B * T * 3 * C), B, T, C, NH };
  const bwd = { dqkv: buf(B * T * 3 * C), dout: buf(B * T * C), qkv: buf(B * T * 3 * C), out: buf(B * T * C), lse: buf(B * NH * T), B, T, C, NH };

  it('accepts buffers of exactly the needed size and returns hs', () => {
    expect(validateFlashAttentionForward(fwd)).toBe(4);
    expect(validateFlashAttentionBackward(bwd)).toBe(4);
  });

  it('names the short buffer, bad shapes and an oversized head', () => {
    expect(() => validateFlashAttentionForward({ ...fwd, lse: buf(B * NH * T - 1) })).toThrow(/buffer lse holds 29 floats, needs 30/);
    expect(() => validateFlashAttentionBackward({ ...bwd, dqkv: buf(10) })).toThrow(KernelInputError);
    expect(() => validateFlashAttentionForward({ ...fwd, NH: 5 })).toThrow(/C=12 is not a multiple of NH=5/);
    expect(() => validateFlashAttentionForward({ ...fwd, T: 0 })).toThrow(/T must be a positive integer/);
    expect(() => validateFlashAttentionForward({ ...fwd, T: 2.5 })).toThrow(KernelInputError);
    const big = 2 * FLASH_MAX_HS;
    expect(() => validateFlashAttentionForward({ out: buf(big), lse: buf(1), qkv: buf(3 * big), B: 1, T: 1, C: big, NH: 1 })).toThrow(/head size 512 exceeds 256/);
  });
});

describe('flashTiles', () => {
  it('fits the workgroup-memory budget for every head size: powers of two from 4, HS4 even', () => {
    for (const limit of [16384, 32768, 49152])
      for (const hs of [1, 6, 8, 16, 63, 64, 100, 128, 256]) {
        const t = flashTiles(hs, limit);
        expect(t.HS4).toBe(2 * Math.ceil(hs / 8));
        expect(t.HS4 * 4).toBeGreaterThanOrEqual(hs);
        const swap = 4 * t.BR * 16;
        expect(2 * t.BC * t.HS4 * 16).toBeLessThanOrEqual(limit);
        expect(2 * t.BCB * t.HS4 * 16 + swap).toBeLessThanOrEqual(limit);
        expect(2 * t.BQ * t.HS4 * 16 + 8 * t.BQ + swap).toBeLessThanOrEqual(limit);
        for (const n of [t.BC, t.BCB, t.BQ]) {
          expect(n).toBeGreaterThanOrEqual(4);
          expect(Math.log2(n) % 1).toBe(0);
        }
      }
  });

  it('takes the largest tiles the caps allow: hs 64 at 16 KiB', () => {
    expect(flashTiles(64, 16384)).toEqual({ HS4: 16, BR: 64, BC: 32, BCB: 16, BQ: 16 });
    expect(flashTiles(64, 49152)).toEqual({ HS4: 16, BR: 64, BC: 32, BCB: 32, BQ: 16 });
    expect(flashTiles(64, 16384, { rows: 32, maxKeyTile: 8, maxQueryTile: 4 })).toEqual({ HS4: 16, BR: 32, BC: 8, BCB: 8, BQ: 4 });
  });

  it('rejects an odd or oversized workgroup', () => {
    expect(() => flashTiles(64, 16384, { rows: 33, maxKeyTile: 32, maxQueryTile: 16 })).toThrow(KernelInputError);
    expect(() => flashTiles(64, 16384, { rows: 512, maxKeyTile: 32, maxQueryTile: 16 })).toThrow(/even number/);
  });
});

describe('flashTiledTiles', () => {
  const kernels = ['forward', 'dq', 'dkv'] as const;
  const knobs = (o: Partial<FlashTiledTuning> = {}): FlashTiledTuning => ({ tiledRows: 64, tiledRowsDq: 64, tiledRowsDkv: 32, tiledKeys: 2, tiledKeysDq: 1, tiledKeysDkv: 4, tiledCols: 16, ...o });

  it('fits workgroup memory and invocations; HS4 a multiple of CG covering hs; rows a power of two in [8, cap]', () => {
    for (const limit of [16384, 32768, 49152])
      for (const hs of [1, 6, 8, 16, 63, 64, 100, 128, 256])
        for (const k of kernels)
          for (const cols of [4, 8, 16]) {
            const t = flashTiledTiles(k, hs, limit, 256, knobs({ tiledCols: cols }));
            if (t === null) continue;
            expect(flashTiledBytes(k, t)).toBeLessThanOrEqual(limit);
            expect((t.BR / 4) * t.CG).toBeLessThanOrEqual(256);
            expect(t.CG).toBeLessThanOrEqual(cols);
            expect(t.HS4 % t.CG).toBe(0);
            expect(t.NJ).toBe(t.HS4 / t.CG);
            expect(4 * t.HS4).toBeGreaterThanOrEqual(hs);
            expect(4 * (t.HS4 - t.CG)).toBeLessThan(hs);
            expect(Math.log2(t.BR) % 1).toBe(0);
            expect(t.BR).toBeGreaterThanOrEqual(8);
            expect(t.KJ).toBe(k === 'forward' ? 2 : k === 'dq' ? 1 : 4);
          }
  });

  it('takes the largest rows and CG under the caps, smaller when memory or invocations are short, null when off or nothing fits', () => {
    expect(flashTiledTiles('forward', 64, 49152, 256, knobs())).toEqual({ HS4: 16, BR: 64, CG: 16, KJ: 2, NJ: 1 });
    expect(flashTiledTiles('dq', 64, 49152, 256, knobs())).toEqual({ HS4: 16, BR: 64, CG: 16, KJ: 1, NJ: 1 });
    expect(flashTiledTiles('dkv', 64, 49152, 256, knobs({ tiledKeysDkv: 2 }))).toEqual({ HS4: 16, BR: 32, CG: 16, KJ: 2, NJ: 1 });
    expect(flashTiledTiles('forward', 64, 32768, 256, knobs())).toEqual({ HS4: 16, BR: 32, CG: 16, KJ: 2, NJ: 1 });
    expect(flashTiledTiles('forward', 64, 49152, 128, knobs())).toEqual({ HS4: 16, BR: 32, CG: 16, KJ: 2, NJ: 1 });
    expect(flashTiledTiles('forward', 16, 16384, 256, knobs())?.CG).toBe(4); // hs 16 = 4 vec4s
    expect(flashTiledTiles('dkv', 256, 16384, 256, knobs())).toBeNull();
    expect(flashTiledTiles('dkv', 64, 49152, 256, knobs({ tiledRowsDkv: 0 }))).toBeNull();
    expect(() => flashTiledTiles('dq', 64, 16384, 256, knobs({ tiledRowsDq: 12 }))).toThrow(KernelInputError);
    expect(() => flashTiledTiles('dq', 64, 16384, 256, knobs({ tiledCols: 6 }))).toThrow(/tiledCols must be 4, 8 or 16/);
    expect(() => flashTiledTiles('dq', 64, 16384, 256, knobs({ tiledKeysDq: 3 }))).toThrow(/must be 1, 2 or 4, got 3/);
  });

  it('defaults at hs 64 under 48 KiB (the H200 through Dawn): all three tiled, dkv filling the 48 KiB exactly', () => {
    expect(flashTuning.tiled).toBe(true);
    expect(flashTiledTiles('forward', 64, 49152, 256)).toEqual({ HS4: 16, BR: 64, CG: 16, KJ: 2, NJ: 1 });
    expect(flashTiledTiles('dq', 64, 49152, 256)).toEqual({ HS4: 16, BR: 64, CG: 16, KJ: 1, NJ: 1 });
    const dkv = flashTiledTiles('dkv', 64, 49152, 256);
    expect(dkv).toEqual({ HS4: 16, BR: 64, CG: 16, KJ: 1, NJ: 1 });
    expect(flashTiledBytes('dkv', dkv!)).toBe(49152);
  });
});

describe('specialise', () => {
  it('replaces the tile constants, writes out every @unroll loop, and names the constants in the cache key', () => {
    const f = specialise(forwardCode, { HS4: 4, BR: 32, BC: 8 });
    expect(f).toContain('const HS4: u32 = 4u;');
    expect(f).toContain('const BR: u32 = 32u;');
    expect(f).toContain('const BC: u32 = 8u;');
    expect(f).not.toMatch(/\/\/ @unroll\n\s*for/);
    // q[i] and o[i] are indexed by constants only
    expect(f).toContain('q[3u] = ldQkv(qbase, 3u) * scale;');
    const codeLines = (src: string) => src.split('\n').filter((l) => !l.trim().startsWith('//'));
    expect(codeLines(f).filter((l) => /\b(q|o)\[i\]/.test(l))).toEqual([]);
    const b = specialise(backwardCode, { HS4: 6, BR: 16, BC: 4, BQ: 8 });
    for (const line of ['const HS4: u32 = 6u;', 'const BR: u32 = 16u;', 'const BC: u32 = 4u;', 'const BQ: u32 = 8u;']) expect(b).toContain(line);
    expect(b).not.toMatch(/\/\/ @unroll\n\s*for/);
    expect(b).toContain('gk[2u] +=');
    expect(codeLines(b).filter((l) => /\b(q|g|acc|k|v|gk|gv)\[i\]/.test(l))).toEqual([]);
    expect(b).not.toContain('gk[3u]'); // HH4 = 3
    expect(tilesKey('flashAttention', { HS4: 4, BR: 32, BC: 8 })).toBe('flashAttention[HS4=4,BR=32,BC=8]');
    // the tiled kernels: every register array indexed by constants once written out
    const consts = flashTiledConsts({ HS4: 16, BR: 32, CG: 8, KJ: 4, NJ: 2 });
    expect(consts).toEqual({ HS4: 16, BR: 32, CG: 8, KJ: 4, NJ: 2, LDB: 8, LDT: 8 });
    for (const src of [specialise(forwardTiledCode, consts), specialise(backwardTiledCode, consts)]) {
      for (const [k, v] of Object.entries(consts)) expect(src).toContain(`const ${k}: u32 = ${v}u;`);
      expect(src).not.toMatch(/\/\/ @unroll\n\s*for/);
      expect(codeLines(src).filter((l) => /\b(o|s|dp|ds|pr|acc|gk|gv|kf|vf|qf|gf)\[(i|j)\]/.test(l))).toEqual([]);
      expect(src).toContain('[3u][1u] +=');
      expect(src).toContain('s[3u][3u] += dot('); // KJ = 4
      expect(src).not.toMatch(/(o|acc|gk|gv)\[0u\]\[2u\] \+=/); // NJ = 2
    }
  });
});
