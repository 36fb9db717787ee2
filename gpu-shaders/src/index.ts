/** WGSL kernels with thin TypeScript wrappers (one folder per kernel). */
export * from './context.ts';
export * from './errors.ts';
export * from './matmul/matmul.ts';
export * from './codecs/index.ts';
