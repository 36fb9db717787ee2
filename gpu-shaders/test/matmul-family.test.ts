/**
 * The matmul's per-adapter kernel family and the variant `auto` takes in each, tested in Node
 * without a GPU: SwiftShader adapters get the CPU-shaped lanes kernel, every other adapter the
 * blocked GPU kernels exactly as before; the family is cached per context, a forced
 * `matmulTuning.family` wins, and the `lanes…` names parse to the tiles the kernel supports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chooseMatmulVariant, lanesConfig, lanesKernelCode, lanesSubgroups, matmulFamily, matmulTuning, splitKFactor } from '../src/index.ts';

const buf = (floats: number) => ({ size: floats * 4, mapState: 'unmapped' }) as unknown as GPUBuffer;

// Adapter infos as Chromium reports them (vendor, architecture, description).
const swiftshader = { vendor: 'google', architecture: 'swiftshader', description: '' };
const swiftshaderDesc = { vendor: 'google', architecture: '', description: 'SwiftShader Device (Subzero)' };
const h200 = { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' };
const intel = { vendor: 'intel', architecture: 'gen-12lp', description: '' };

afterEach(() => {
  matmulTuning.family = null;
});

describe('matmulFamily', () => {
  it('is cpu exactly for SwiftShader, gpu for real GPUs and unknown adapters', () => {
    expect(matmulFamily(swiftshader)).toBe('cpu');
    expect(matmulFamily(swiftshaderDesc)).toBe('cpu');
    expect(matmulFamily(h200)).toBe('gpu');
    expect(matmulFamily(intel)).toBe('gpu');
    expect(matmulFamily(undefined)).toBe('gpu');
    expect(matmulFamily({ vendor: '', architecture: '', description: '' })).toBe('gpu');
  });

  it('is overridden by matmulTuning.family', () => {
    matmulTuning.family = 'gpu';
    expect(matmulFamily(swiftshader)).toBe('gpu');
    matmulTuning.family = 'cpu';
    expect(matmulFamily(h200)).toBe('cpu');
  });
});

describe('chooseMatmulVariant per family', () => {
  const shapes = [
    { M: 8192, K: 768, N: 2304 },
    { M: 64, K: 64, N: 64 },
    { M: 8192, K: 768, N: 50257, transB: true },
    { M: 37, K: 53, N: 29 },
    { M: 4096, K: 4096, N: 4096 },
  ];

  it('leaves the gpu choice unchanged (default family)', () => {
    for (const s of shapes) expect(chooseMatmulVariant(s, 'gpu')).toBe(chooseMatmulVariant(s));
    expect(chooseMatmulVariant({ M: 4096, K: 4096, N: 4096 }, 'gpu')).toBe('blocked128');
  });

  it('takes a lanes variant on cpu, sized to the shape, and every choice is a valid tile', () => {
    for (const s of shapes) {
      const v = chooseMatmulVariant(s, 'cpu');
      expect(v).toMatch(/^lanes/);
      expect(lanesConfig(v)).toBeDefined();
    }
    expect(chooseMatmulVariant({ M: 1024, K: 1024, N: 1024 }, 'cpu')).toBe('lanes16x16w16g1');
    expect(chooseMatmulVariant({ M: 1024, K: 1024, N: 1024 }, 'cpu', true)).toBe('lanes16x16w16g1s');
    // small M: fewer rows per invocation (row tiles of 32), small N: fewer columns
    expect(lanesConfig(chooseMatmulVariant({ M: 20, K: 64, N: 64 }, 'cpu'))?.RM).toBe(8);
    expect(lanesConfig(chooseMatmulVariant({ M: 100, K: 64, N: 64 }, 'cpu'))?.RM).toBe(16);
    expect(lanesConfig(chooseMatmulVariant({ M: 256, K: 64, N: 40 }, 'cpu'))?.CN).toBe(8);
    expect(lanesConfig(chooseMatmulVariant({ M: 256, K: 64, N: 12 }, 'cpu'))?.CN).toBe(4);
    // subgroups never change the gpu choice
    for (const s of shapes) expect(chooseMatmulVariant(s, 'gpu', true)).toBe(chooseMatmulVariant(s));
  });

  it('splits K only for the gpu family', () => {
    const wgrad = { M: 768, K: 8192, N: 3072, transA: true, a: buf(8192 * 768), b: buf(8192 * 3072), out: buf(768 * 3072) };
    expect(splitKFactor(wgrad, 'gpu')).toBeGreaterThan(1);
    expect(splitKFactor(wgrad, 'cpu')).toBe(1);
  });
});

describe('lanesSubgroups', () => {
  it('needs the subgroups feature and subgroups of exactly 4 invocations', () => {
    const sg = new Set(['subgroups']);
    expect(lanesSubgroups({ subgroupMinSize: 4, subgroupMaxSize: 4 }, sg)).toBe(true);
    expect(lanesSubgroups({ subgroupMinSize: 4, subgroupMaxSize: 4 }, new Set())).toBe(false);
    expect(lanesSubgroups({ subgroupMinSize: 32, subgroupMaxSize: 32 }, sg)).toBe(false);
    expect(lanesSubgroups({ subgroupMinSize: 4, subgroupMaxSize: 64 }, sg)).toBe(false);
    expect(lanesSubgroups(undefined, sg)).toBe(false);
  });
});

describe('lanesConfig and the generated register tile', () => {
  it('parses lanes<RM>x<CN>w<WG>g<GX>[s] and rejects other names and unsupported tiles', () => {
    expect(lanesConfig('lanes8x8w64g1')).toEqual({ RM: 8, CN: 8, WG: 64, GX: 1, SG: false });
    expect(lanesConfig('lanes16x16w16g1s')).toEqual({ RM: 16, CN: 16, WG: 16, GX: 1, SG: true });
    expect(lanesConfig('lanes1x4w32g8')).toEqual({ RM: 1, CN: 4, WG: 32, GX: 8, SG: false });
    expect(lanesConfig('lanes8x8w16g8')).toBeUndefined(); // 8 column groups need 32 invocations
    expect(lanesConfig('lanes32x8w64g1')).toBeUndefined(); // compiles for ~30 s under SwiftShader
    expect(lanesConfig('lanes8x6w64g1')).toBeUndefined();
    expect(lanesConfig('lanes8x8w48g1')).toBeUndefined();
    expect(lanesConfig('lanes8x8w512g1')).toBeUndefined();
    expect(lanesConfig('blocked64')).toBeUndefined();
  });

  it('generates one accumulator and one store per row and column group, subgroup loads only for s', () => {
    const code = lanesKernelCode(3, 8);
    expect(code.match(/var c\d+_\d+ = /g)).toHaveLength(3 * 2);
    expect(code.match(/^\s*store\(oBase/gm)).toHaveLength(3 * 2);
    expect(code).not.toContain('//@tile');
    expect(code).not.toContain('subgroupBroadcast(x');
    expect(code.startsWith('enable subgroups;')).toBe(false);
    const sg = lanesKernelCode(3, 8, true);
    expect(sg.startsWith('enable subgroups;')).toBe(true);
    expect(sg).toContain('colsAsg(r2 + pl)');
  });
});
