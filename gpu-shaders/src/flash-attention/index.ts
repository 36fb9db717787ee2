/** Fused (flash-style) causal attention: forward and backward kernels and their tiling. */
export * from './tiles.ts';
export * from './forward.ts';
export * from './backward.ts';
