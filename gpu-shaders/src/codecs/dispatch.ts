/**
 * Shared dispatch plumbing of the codec kernels: 2-D workgroup grids for long 1-D tensors
 * (kernels recover the linear workgroup index as wg.x + wg.y * nwg.x) and one checked compute
 * pass per call. Only the committed GpuContext API is used (pipeline, uniform, checked).
 */
import type { GpuContext, OverrideConstants } from '../context.ts';
import { KernelInputError } from '../errors.ts';

const MAX_DIM = 65535;

export function grid2d(workgroups: number): [number, number] {
  if (workgroups <= MAX_DIM) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / MAX_DIM);
  if (y > MAX_DIM) throw new KernelInputError('codecs', `${workgroups} workgroups exceed a ${MAX_DIM}x${MAX_DIM} grid`);
  return [Math.ceil(workgroups / y), y];
}

/** f32 value as its u32 bit pattern (for uniform structs mixing u32 and f32 fields). */
export function f32Bits(v: number): number {
  return new Uint32Array(new Float32Array([v]).buffer)[0]!;
}

export function needFloats(kernel: string, name: string, buf: GPUBuffer, words: number): void {
  if (buf.size < words * 4) throw new KernelInputError(kernel, `buffer ${name} holds ${buf.size / 4} words, needs ${words}`);
}

export function checkCount(kernel: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) throw new KernelInputError(kernel, `n must be an integer in [0, 2^31), got ${n}`);
}

export interface Launch {
  kernel: string;
  code: string;
  entryPoint: string;
  constants?: OverrideConstants;
  params: number[];
  buffers: GPUBuffer[];
  workgroups: number;
}

/** Run one dispatch (binding 0 = params, then `buffers`) and wait for it; GPU errors are thrown. */
export async function launch(ctx: GpuContext, l: Launch): Promise<void> {
  if (l.workgroups === 0) return;
  const pipeline = await ctx.pipeline(l.kernel, l.code, l.constants ?? {}, l.entryPoint);
  await ctx.checked(l.kernel, () => {
    const params = ctx.uniform(l.params, `${l.kernel}.params`);
    const bind = ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [params, ...l.buffers].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass({ label: l.kernel });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    const [x, y] = grid2d(l.workgroups);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
  });
  await ctx.device.queue.onSubmittedWorkDone();
}

/** Read `words` u32 from a buffer. */
export async function readWords(ctx: GpuContext, buf: GPUBuffer, words: number): Promise<Uint32Array> {
  if (words === 0) return new Uint32Array(0);
  const f = await ctx.readFloat32(buf, words);
  return new Uint32Array(f.buffer, f.byteOffset, words);
}
