/**
 * WebGPU in Node on a real GPU through Dawn (the `webgpu` npm package that
 * /work/shared/gpu-bundle/build.sh packs into .gpu-bundle/). Import this module first: it
 * installs Dawn's WebGPU globals (GPUBufferUsage, ...) and `navigator.gpu`, which code written
 * for browsers (ours, tfjs-backend-webgpu) looks for at import time.
 */
import { pathToFileURL } from 'node:url';

const root = process.env.SWARMGRAD_ROOT ?? process.cwd();
const dawn = (await import(pathToFileURL(`${root}/.gpu-bundle/webgpu/index.js`).href)) as {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
};
Object.assign(globalThis, dawn.globals);
// Default toggles: expose shader-f16 and subgroup matrices (tensor cores; gpu-shaders'
// matmul-tc) on NVIDIA. They only add features; DAWN_FLAGS (space-separated) replaces them.
export const DEFAULT_DAWN_FLAGS = 'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia';
const flags = (process.env.DAWN_FLAGS ?? DEFAULT_DAWN_FLAGS).split(' ').filter(Boolean);
export const gpu = dawn.create(flags);
Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node-dawn' }, configurable: true, writable: true });
