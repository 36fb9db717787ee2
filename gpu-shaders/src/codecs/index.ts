/** WGSL codec kernels (fp16, int8, sign, error feedback); CPU references in @swarmgrad/peer-core codecs. */
export * from './fp16.ts';
export * from './int8.ts';
export * from './sign.ts';
export * from './ef.ts';
export { grid2d } from './dispatch.ts';
export * from './topk.ts';
