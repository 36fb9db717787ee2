/**
 * Thin wrapper for the GPU top-k selection (topk_hist / topk_count / topk_scatter .wgsl):
 * radix select of the k-th largest |p| in four 8-bit passes (the 256-bin histogram comes back
 * to the CPU after each pass: 1 KiB), then an order-preserving compaction of the kept elements
 * plus the error-feedback residual. Same selection as `topkIndices` / `TopkCodec` in
 * @swarmgrad/peer-core (ties at the threshold: lowest indices), so payloads are bit-identical.
 * Not here: a single-kernel select (the per-pass readback costs a round trip per pass).
 */
import type { GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { efAccumulate } from './ef.ts';
import { checkCount, launch, needFloats, readWords } from './dispatch.ts';
import countCode from './topk_count.wgsl';
import histCode from './topk_hist.wgsl';
import scatterCode from './topk_scatter.wgsl';

export interface TopkThreshold {
  /** Bit pattern of the k-th largest |p|. */
  T: number;
  /** How many elements equal to T are kept (lowest indices first). */
  ties: number;
}

/** Radix-select the threshold key of the k-th largest |p| (k >= 1). */
export async function topkThreshold(ctx: GpuContext, p: GPUBuffer, n: number, k: number): Promise<TopkThreshold> {
  checkCount('topk_threshold', n);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new KernelInputError('topk_threshold', `k must be an integer in 1..n (${n}), got ${k}`);
  needFloats('topk_threshold', 'p', p, n);
  const hist = ctx.buffer(256 * 4);
  let prefix = 0;
  let mask = 0;
  let remaining = k;
  for (const shift of [24, 16, 8, 0]) {
    ctx.device.queue.writeBuffer(hist, 0, new Uint32Array(256));
    await launch(ctx, { kernel: 'codec_topk_hist', code: histCode, entryPoint: 'main', params: [n, shift, prefix >>> 0, mask >>> 0], buffers: [p, hist], workgroups: Math.ceil(n / 1024) });
    const h = await readWords(ctx, hist, 256);
    let digit = 255;
    for (; digit > 0; digit--) {
      if (h[digit] >= remaining) break;
      remaining -= h[digit];
    }
    prefix = (prefix | (digit << shift)) >>> 0;
    mask = (mask | (0xff << shift)) >>> 0;
  }
  hist.destroy();
  return { T: prefix, ties: remaining };
}

export interface TopkSelectArgs {
  n: number;
  k: number;
  /** n f32 to select from (x + residual when error feedback is on). */
  p: GPUBuffer;
  /** k u32 / k f32 outputs, n f32 residual output. */
  idx: GPUBuffer;
  vals: GPUBuffer;
  residual: GPUBuffer;
}

/** Select the top-k of |p| into (idx, vals) in ascending index order; residual = p with them zeroed. */
export async function topkSelect(ctx: GpuContext, a: TopkSelectArgs): Promise<void> {
  checkCount('topk_select', a.n);
  needFloats('topk_select', 'idx', a.idx, a.k);
  needFloats('topk_select', 'vals', a.vals, a.k);
  needFloats('topk_select', 'residual', a.residual, a.n);
  if (a.k === 0) return;
  const { T, ties } = await topkThreshold(ctx, a.p, a.n, a.k);
  const chunks = Math.ceil(a.n / 256);
  const counts = ctx.buffer(chunks * 8);
  await launch(ctx, { kernel: 'codec_topk_count', code: countCode, entryPoint: 'main', params: [a.n, T, ties, 0], buffers: [a.p, counts], workgroups: chunks });
  const c = await readWords(ctx, counts, 2 * chunks);
  const offsets = new Uint32Array(2 * chunks);
  let out = 0;
  let tie = 0;
  for (let b = 0; b < chunks; b++) {
    offsets[2 * b] = out;
    offsets[2 * b + 1] = tie;
    const chosenTies = Math.min(Math.max(ties - tie, 0), c[2 * b + 1]);
    out += c[2 * b] + chosenTies;
    tie += c[2 * b + 1];
  }
  if (out !== a.k) throw new KernelInputError('topk_select', `selected ${out} elements, expected k=${a.k} (non-finite input?)`);
  const off = ctx.buffer(offsets);
  await launch(ctx, { kernel: 'codec_topk_scatter', code: scatterCode, entryPoint: 'main', params: [a.n, T, ties, 0], buffers: [a.p, off, a.idx, a.vals, a.residual], workgroups: chunks });
  counts.destroy();
  off.destroy();
}

/**
 * Convenience: the `TopkCodec` payload (u32 k | k u32 indices | k f32 values) and the new
 * error-feedback residual, computed on the GPU from x and the previous residual.
 */
export async function topkCompressGpu(ctx: GpuContext, x: Float32Array, residual: Float32Array | undefined, fraction: number): Promise<{ payload: Uint8Array; residual: Float32Array }> {
  const n = x.length;
  const k = n === 0 ? 0 : Math.min(n, Math.max(1, Math.ceil(fraction * n)));
  // p = x + residual (a zero residual on the first step, as BaseCodec does: -0 + 0 = +0)
  const p = ctx.buffer(n * 4);
  await efAccumulate(ctx, { n, x: ctx.buffer(x), residual: ctx.buffer(residual ?? new Float32Array(n)), out: p });
  const idx = ctx.buffer(k * 4);
  const vals = ctx.buffer(k * 4);
  const res = ctx.buffer(n * 4);
  await topkSelect(ctx, { n, k, p, idx, vals, residual: res });
  const payload = new Uint8Array(4 + 8 * k);
  new DataView(payload.buffer).setUint32(0, k, true);
  if (k > 0) {
    payload.set(new Uint8Array((await readWords(ctx, idx, k)).slice().buffer), 4);
    payload.set(new Uint8Array((await readWords(ctx, vals, k)).slice().buffer), 4 + 4 * k);
  }
  return { payload, residual: n === 0 ? new Float32Array(0) : await ctx.readFloat32(res, n) };
}
