/**
 * Thin wrapper for ef.wgsl: the error-feedback steps around any biased codec on the GPU
 * (`efAccumulate`: p = x + r; `efUpdate`: r = p - decoded). Reference: BaseCodec.compress in
 * @swarmgrad/peer-core/src/codecs/base.ts.
 */
import type { GpuContext } from '../context.ts';
import { checkCount, launch, needFloats } from './dispatch.ts';
import code from './ef.wgsl';

export interface EfAccumulateArgs {
  n: number;
  x: GPUBuffer;
  residual: GPUBuffer;
  /** p = x + residual (may not alias x or residual). */
  out: GPUBuffer;
}

export async function efAccumulate(ctx: GpuContext, a: EfAccumulateArgs): Promise<void> {
  checkCount('ef_accumulate', a.n);
  for (const [k, b] of [['x', a.x], ['residual', a.residual], ['out', a.out]] as const) needFloats('ef_accumulate', k, b, a.n);
  await launch(ctx, { kernel: 'codec_ef', code, entryPoint: 'accumulate', params: [a.n, 0, 0, 0], buffers: [a.x, a.residual, a.out], workgroups: Math.ceil(a.n / 256) });
}

export interface EfUpdateArgs {
  n: number;
  p: GPUBuffer;
  decoded: GPUBuffer;
  /** receives p - decoded */
  residual: GPUBuffer;
}

export async function efUpdate(ctx: GpuContext, a: EfUpdateArgs): Promise<void> {
  checkCount('ef_update', a.n);
  for (const [k, b] of [['p', a.p], ['decoded', a.decoded], ['residual', a.residual]] as const) needFloats('ef_update', k, b, a.n);
  await launch(ctx, { kernel: 'codec_ef', code, entryPoint: 'update', params: [a.n, 0, 0, 0], buffers: [a.p, a.decoded, a.residual], workgroups: Math.ceil(a.n / 256) });
}
