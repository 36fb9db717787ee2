/**
 * CPU reference kernels: the readable specification of every numeric op. The `cpu` backend
 * runs them directly; WGSL and WASM kernels are tested against them.
 *
 * Conventions (llm.c): row-major, shapes in comments; `fooForward` overwrites its outputs,
 * `fooBackward` accumulates (+=) into its gradient outputs, so callers zero gradients first.
 */
export type * from './types.ts';
export * from './matmul.ts';
export * from './matmul-f16.ts';
export * from './encoder.ts';
export * from './layernorm.ts';
export * from './attention.ts';
export * from './flash-attention.ts';
export * from './gelu.ts';
export * from './residual.ts';
export * from './crossentropy.ts';
export * from './optimizer.ts';
export * from './pad.ts';
export * from '../../util/random.ts';
export * from '../../util/allclose.ts';
