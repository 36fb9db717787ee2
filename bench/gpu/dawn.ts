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
const flags = (process.env.DAWN_FLAGS ?? '').split(' ').filter(Boolean);
export const gpu = dawn.create(flags);
Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node-dawn' }, configurable: true, writable: true });
