/**
 * The webgpu backend where there is no WebGPU (plain Node): creating it fails with the named
 * BackendUnavailableError, so callers can fall back to the wasm backend. Its numerics are
 * tested in headless Chromium (test/browser/backend-webgpu.test.ts) and on a real GPU
 * (bench/gpu/train.ts).
 */
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/backend/errors.ts';
import { createWebGpuBackend } from '../../src/backend/webgpu/index.ts';

describe('webgpu backend without WebGPU', () => {
  it('throws BackendUnavailableError when there is no navigator.gpu', async () => {
    expect((globalThis.navigator as Navigator | undefined)?.gpu).toBeUndefined();
    await expect(createWebGpuBackend()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('throws BackendUnavailableError when the adapter request returns null', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createWebGpuBackend({ gpu })).rejects.toThrow(/no usable GPU adapter/);
    await expect(createWebGpuBackend({ gpu })).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
