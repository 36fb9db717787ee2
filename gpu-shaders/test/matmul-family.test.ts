/**
 * The matmul's per-adapter kernel family and the variant `auto` takes in each, tested in Node
 * without a GPU: SwiftShader adapters get the CPU-shaped lanes kernel, every other adapter the
 * blocked GPU kernels exactly as before; the family is cached per context, a forced
 * `matmulTuning.family` wins, and the `lanes…` names parse to the tiles the kernel supports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chooseMatmulVariant, lanesConfig, matmulFamily, matmulTuning, splitKFactor } from '../src/index.ts';

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
    expect(chooseMatmulVariant({ M: 1024, K: 1024, N: 1024 }, 'cpu')).toBe('lanes8x8w64g1');
    // small M: smaller workgroups (row tiles of 32 or 64), small N: 4 columns per invocation
    expect(lanesConfig(chooseMatmulVariant({ M: 20, K: 64, N: 64 }, 'cpu'))?.WG).toBe(16);
    expect(lanesConfig(chooseMatmulVariant({ M: 50, K: 64, N: 64 }, 'cpu'))?.WG).toBe(32);
    expect(lanesConfig(chooseMatmulVariant({ M: 256, K: 64, N: 12 }, 'cpu'))?.CN).toBe(4);
  });

  it('splits K only for the gpu family', () => {
    const wgrad = { M: 768, K: 8192, N: 3072, transA: true, a: buf(8192 * 768), b: buf(8192 * 3072), out: buf(768 * 3072) };
    expect(splitKFactor(wgrad, 'gpu')).toBeGreaterThan(1);
    expect(splitKFactor(wgrad, 'cpu')).toBe(1);
  });
});

describe('lanesConfig', () => {
  it('parses lanes<RM>x<CN>w<WG>g<GX> and rejects other names and impossible tiles', () => {
    expect(lanesConfig('lanes8x8w64g1')).toEqual({ RM: 8, CN: 8, WG: 64, GX: 1 });
    expect(lanesConfig('lanes1x4w32g8')).toEqual({ RM: 1, CN: 4, WG: 32, GX: 8 });
    expect(lanesConfig('lanes8x8w16g8')).toBeUndefined(); // 8 column groups need 32 invocations
    expect(lanesConfig('lanes3x8w64g1')).toBeUndefined();
    expect(lanesConfig('lanes8x8w512g1')).toBeUndefined();
    expect(lanesConfig('blocked64')).toBeUndefined();
  });
});
