/**
 * What the WGSL wrappers decide before any GPU work, tested in Node without a GPU: input
 * validation (named KernelInputError), variant choice and split-K for the matmul, and the
 * named error when WebGPU is missing. The kernels' numerics are tested in headless Chromium
 * (test/browser/matmul.test.ts, kernels-nn.test.ts) against the CPU reference.
 */
import { describe, expect, it } from 'vitest';
import { GpuContext, KernelInputError, WebGpuUnavailableError, chooseMatmulVariant, splitKFactor, validateMatmul } from '../src/index.ts';

/** Stand-in for a GPUBuffer: the wrappers only read its size before encoding. */
const buf = (floats: number) => ({ size: floats * 4, mapState: 'unmapped' }) as unknown as GPUBuffer;

describe('validateMatmul', () => {
  it('accepts buffers of exactly the needed size, in every transpose layout', () => {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        expect(() => validateMatmul({ M: 37, K: 53, N: 29, transA, transB, a: buf(37 * 53), b: buf(53 * 29), bias: buf(29), out: buf(37 * 29) })).not.toThrow();
      }
  });

  it('rejects non-positive or fractional sizes with a named error', () => {
    for (const bad of [0, -3, 2.5, Number.NaN]) {
      expect(() => validateMatmul({ M: bad, K: 4, N: 4, a: buf(64), b: buf(64), out: buf(64) })).toThrow(KernelInputError);
    }
  });

  it('names the operand whose buffer is too small', () => {
    const err = (() => {
      try {
        validateMatmul({ M: 8, K: 8, N: 8, a: buf(64), b: buf(63), out: buf(64) });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(KernelInputError);
    expect(err?.message).toMatch(/\bb\b/);
    expect(() => validateMatmul({ M: 8, K: 8, N: 8, a: buf(64), b: buf(64), bias: buf(7), out: buf(64) })).toThrow(/bias/);
  });

  it('rejects row strides shorter than the rows', () => {
    expect(() => validateMatmul({ M: 4, K: 8, N: 8, lda: 6, a: buf(1000), b: buf(1000), out: buf(1000) })).toThrow(KernelInputError);
  });
});

describe('matmul variant choice', () => {
  it('uses the vec4 blocked kernel for aligned shapes and the any-shape kernel otherwise', () => {
    expect(chooseMatmulVariant({ M: 8192, K: 768, N: 2304 })).toBe('blocked128');
    expect(chooseMatmulVariant({ M: 64, K: 64, N: 64 })).toBe('blocked64');
    // GPT-2's vocabulary (50257) is not a multiple of 4: no vec4 rows.
    expect(chooseMatmulVariant({ M: 8192, K: 768, N: 50257, transB: true })).toBe('any128');
    expect(chooseMatmulVariant({ M: 37, K: 53, N: 29 })).toBe('any64');
  });

  it('splits long-K products with few output tiles, and nothing else', () => {
    const wgrad = { M: 768, K: 8192, N: 3072, transA: true, a: buf(8192 * 768), b: buf(8192 * 3072), out: buf(768 * 3072) };
    expect(splitKFactor(wgrad)).toBeGreaterThan(1);
    expect(splitKFactor({ ...wgrad, K: 256, a: buf(256 * 768), b: buf(256 * 3072) })).toBe(1);
    expect(splitKFactor({ ...wgrad, variant: 'blocked64' })).toBe(1);
  });
});

describe('GpuContext', () => {
  it('throws WebGpuUnavailableError when there is no WebGPU (e.g. plain Node)', async () => {
    await expect(GpuContext.create({ gpu: undefined })).rejects.toBeInstanceOf(WebGpuUnavailableError);
  });

  it('throws WebGpuUnavailableError when no adapter is offered', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(GpuContext.create({ gpu })).rejects.toThrow(/no usable GPU adapter/);
  });
});
