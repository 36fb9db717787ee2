import { describe, expect, it } from 'vitest';
import { detectCapabilities } from '../src/capabilities.ts';

describe('detectCapabilities', () => {
  it('falls back to wasm without navigator.gpu, saying why', async () => {
    const c = await detectCapabilities({} as Navigator);
    expect(c.backend).toBe('wasm');
    expect(c.reason).toMatch(/no WebGPU/);
  });
  it('falls back to wasm when no adapter is returned', async () => {
    const nav = { gpu: { requestAdapter: async () => null } } as unknown as Navigator;
    expect((await detectCapabilities(nav)).reason).toMatch(/no GPU adapter/);
  });
  it('reports the adapter when WebGPU works', async () => {
    const nav = { gpu: { requestAdapter: async () => ({ info: { vendor: 'v', architecture: 'a', description: '' } }) } } as unknown as Navigator;
    expect(await detectCapabilities(nav)).toEqual({ backend: 'webgpu', adapter: 'v a' });
  });
});
