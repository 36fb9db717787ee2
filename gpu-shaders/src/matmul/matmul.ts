/**
 * Thin wrapper for matmul.wgsl: validates shapes and buffer sizes, owns the bind-group layout
 * (uniform dims, a, b, bias, out), the dispatch size and the pipeline cache key.
 * Reference: `matmulForward` in @swarmgrad/peer-core/reference.
 */
import type { GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import code from './matmul.wgsl';

const TILE = 16;

export interface MatmulArgs {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** out += A·B instead of out = A·B. */
  accumulate?: boolean;
  a: GPUBuffer;
  b: GPUBuffer;
  bias?: GPUBuffer;
  out: GPUBuffer;
}

export function validateMatmul(args: MatmulArgs): void {
  const { M, K, N } = args;
  for (const [k, v] of Object.entries({ M, K, N })) {
    if (!Number.isInteger(v) || v <= 0) throw new KernelInputError('matmul', `${k} must be a positive integer, got ${v}`);
  }
  const need = (name: string, buf: GPUBuffer | undefined, floats: number) => {
    if (buf && buf.size < floats * 4) throw new KernelInputError('matmul', `buffer ${name} holds ${buf.size / 4} floats, needs ${floats}`);
  };
  need('a', args.a, M * K);
  need('b', args.b, K * N);
  need('bias', args.bias, N);
  need('out', args.out, M * N);
}

/** Record one matmul into `encoder` (its own compute pass). */
export async function encodeMatmul(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulArgs): Promise<void> {
  validateMatmul(args);
  const constants = { TILE, TRANS_A: !!args.transA, TRANS_B: !!args.transB, HAS_BIAS: !!args.bias, ACCUMULATE: !!args.accumulate };
  const pipeline = await ctx.pipeline('matmul_tiled16', code, constants);
  const dims = ctx.uniform([args.M, args.K, args.N, 0], 'matmul.dims');
  const bind = ctx.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: dims } },
      { binding: 1, resource: { buffer: args.a } },
      { binding: 2, resource: { buffer: args.b } },
      { binding: 3, resource: { buffer: args.bias ?? ctx.emptyBuffer } },
      { binding: 4, resource: { buffer: args.out } },
    ],
  });
  const pass = encoder.beginComputePass({ label: 'matmul' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(args.N / TILE), Math.ceil(args.M / TILE));
  pass.end();
}

/** Convenience: run one matmul and wait for it, with GPU errors thrown. */
export async function matmul(ctx: GpuContext, args: MatmulArgs): Promise<void> {
  await ctx.checked('matmul', async () => {
    const enc = ctx.device.createCommandEncoder();
    await encodeMatmul(ctx, enc, args);
    ctx.device.queue.submit([enc.finish()]);
  });
  await ctx.device.queue.onSubmittedWorkDone();
}
