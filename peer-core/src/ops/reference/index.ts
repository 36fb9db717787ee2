/**
 * CPU reference kernels: the readable specification of every numeric op. The `cpu` backend
 * runs them directly; WGSL and WASM kernels are tested against them.
 */
export * from './matmul.ts';
export * from '../../util/random.ts';
export * from '../../util/allclose.ts';
