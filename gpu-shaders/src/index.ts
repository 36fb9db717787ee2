/** WGSL kernels with thin TypeScript wrappers (one folder per kernel). */
export * from './context.ts';
export * from './errors.ts';
export * from './kernel.ts';
export * from './pool.ts';
export * from './matmul/matmul.ts';
export * from './matmul-tc/matmul-tc.ts';
export * from './matmul-tc/mixed.ts';
export * from './reduce/colsum.ts';
export * from './embedding/embedding.ts';
export * from './layernorm/layernorm.ts';
export * from './gelu/gelu.ts';
export * from './residual/residual.ts';
export * from './crossentropy/crossentropy.ts';
export * from './attention/attention.ts';
export * from './flash-attention/index.ts';
export * from './optim/optim.ts';
export * from './codecs/index.ts';
