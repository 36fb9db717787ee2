/**
 * PassProfiler: GPU time of every compute pass that `encodeDispatches` records, from
 * timestamp queries written at the start and end of each pass (the 'timestamp-query'
 * feature). A profiling tool for benchmarks: attach one to a GpuContext
 * (`ctx.profiler = await PassProfiler.create(ctx)`), run the work, then `collect()` returns
 * the passes in recording order with their labels and start/end times in nanoseconds.
 *
 * - Passes beyond `capacity` (default 2048 passes per collect) are not timed and are counted
 *   in `collect().dropped`, never silently merged.
 * - Time between passes (copies, clears, submits, CPU recording the next command buffer) is
 *   the gap between one pass's end and the next one's start.
 * - Timestamps can be quantized or reordered by the implementation (browsers round them);
 *   on Dawn with `allow_unsafe_apis` they are raw.
 *
 * Not here: timing of anything outside compute passes, or any automatic reporting.
 */
import type { GpuContext } from './context.ts';
import { KernelInputError } from './errors.ts';

/** WebGPU's maximum query count per query set is 4096: two timestamps per pass. */
export const MAX_TIMED_PASSES = 2048;

export interface PassTiming {
  label: string;
  /** Nanoseconds, on the GPU's clock. */
  start: number;
  end: number;
}

export interface ProfileReport {
  passes: PassTiming[];
  /** Passes recorded after `capacity` was used up (not timed). */
  dropped: number;
}

export class PassProfiler {
  private next = 0;
  private dropped = 0;
  private labels: string[] = [];
  private constructor(
    private readonly ctx: GpuContext,
    private readonly querySet: GPUQuerySet,
    private readonly resolveBuffer: GPUBuffer,
    private readonly readBuffer: GPUBuffer,
    readonly capacity: number,
  ) {}

  static create(ctx: GpuContext, capacity = MAX_TIMED_PASSES): PassProfiler {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_TIMED_PASSES) {
      throw new KernelInputError('profiler', `capacity must be an integer in [1, ${MAX_TIMED_PASSES}], got ${capacity}`);
    }
    if (!ctx.features.has('timestamp-query')) {
      throw new KernelInputError('profiler', "the device has no 'timestamp-query' feature");
    }
    const count = capacity * 2;
    const querySet = ctx.device.createQuerySet({ type: 'timestamp', count });
    const resolveBuffer = ctx.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readBuffer = ctx.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    return new PassProfiler(ctx, querySet, resolveBuffer, readBuffer, capacity);
  }

  /** The timestampWrites for a new pass labelled `label`, or undefined once capacity is used. */
  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (this.next >= this.capacity) {
      this.dropped++;
      return undefined;
    }
    const i = this.next++;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /**
   * Resolve and read the timestamps of the passes recorded since the last collect, after all
   * submitted work. The caller must have submitted every encoder that recorded a timed pass.
   */
  async collect(): Promise<ProfileReport> {
    const n = this.next;
    const labels = this.labels;
    const dropped = this.dropped;
    this.next = 0;
    this.labels = [];
    this.dropped = 0;
    if (n === 0) return { passes: [], dropped };
    const enc = this.ctx.device.createCommandEncoder({ label: 'profiler resolve' });
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    enc.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, 2 * n * 8);
    this.ctx.device.queue.submit([enc.finish()]);
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, 2 * n * 8);
    const ticks = new BigUint64Array(this.readBuffer.getMappedRange(0, 2 * n * 8).slice(0));
    this.readBuffer.unmap();
    const passes: PassTiming[] = labels.map((label, i) => ({ label, start: Number(ticks[2 * i]), end: Number(ticks[2 * i + 1]) }));
    return { passes, dropped };
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readBuffer.destroy();
  }
}

/**
 * Sum a report by label: total GPU ms per label, the number of passes, and the step's
 * span (first start to last end) and busy time (sum of pass times), in ms.
 */
export function summarizeProfile(report: ProfileReport): { spanMs: number; busyMs: number; byLabel: Array<{ label: string; ms: number; passes: number }> } {
  const by = new Map<string, { ms: number; passes: number }>();
  let busy = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const p of report.passes) {
    const ms = (p.end - p.start) / 1e6;
    busy += ms;
    first = Math.min(first, p.start);
    last = Math.max(last, p.end);
    const e = by.get(p.label) ?? { ms: 0, passes: 0 };
    e.ms += ms;
    e.passes++;
    by.set(p.label, e);
  }
  const byLabel = [...by].map(([label, e]) => ({ label, ...e })).sort((a, b) => b.ms - a.ms);
  return { spanMs: report.passes.length ? (last - first) / 1e6 : 0, busyMs: busy, byLabel };
}
