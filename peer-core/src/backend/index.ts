/**
 * Backends: the `Backend` interface (types.ts), its named errors, and the `cpu` reference
 * backend. The `wasm` and `webgpu` backends live in their own folders and export their
 * factories from there (`./wasm/index.ts`, `./webgpu/index.ts`).
 */
export * from './types.ts';
export * from './errors.ts';
export { CpuBackend, CpuTensor, createCpuBackend } from './cpu/index.ts';
