import { describe, expect, it } from 'vitest';
import { backendOverride, chooseTrainingBackend } from '../src/lib/backend-choice.ts';

describe('training backend choice', () => {
  it('uses WebGPU on a hardware adapter', () => {
    expect(chooseTrainingBackend({ backend: 'webgpu', adapter: 'nvidia ampere' }).backend).toBe('webgpu');
  });
  it('uses wasm without WebGPU or on a software adapter, saying why', () => {
    expect(chooseTrainingBackend(null).backend).toBe('wasm');
    expect(chooseTrainingBackend({ backend: 'wasm', reason: 'no navigator.gpu' })).toEqual({ backend: 'wasm', why: 'no navigator.gpu' });
    const sw = chooseTrainingBackend({ backend: 'webgpu', adapter: 'google swiftshader' });
    expect(sw.backend).toBe('wasm');
    expect(sw.why).toMatch(/software adapter/);
  });
  it('honours ?backend= and ignores unknown values', () => {
    expect(backendOverride('?backend=webgpu')).toBe('webgpu');
    expect(backendOverride('?x=1&backend=cpu')).toBe('cpu');
    expect(backendOverride('?backend=cuda')).toBeNull();
    expect(backendOverride('')).toBeNull();
  });
});
