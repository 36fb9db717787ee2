/**
 * The shared recording helper behind every thin kernel wrapper: one dispatch = cached
 * pipeline + cached uniform + cached bind group + workgroup counts. Wrappers validate their
 * inputs, pick constants and sizes, and call `encodeDispatches`.
 *
 * Binding convention of every kernel in this package: binding 0 is the kernel's uniform
 * `params` struct (when it has one), then its storage buffers in the order the .wgsl declares
 * them.
 */
import { type BufferArg, bindingBytes, type GpuContext, type OverrideConstants } from './context.ts';
import { KernelInputError } from './errors.ts';

/** Most workgroups in one dimension of a dispatch (WebGPU's default limit). */
export const MAX_WORKGROUPS_PER_DIM = 65535;

export interface Dispatch {
  kernel: string;
  code: string;
  entryPoint?: string;
  constants?: OverrideConstants;
  /** u32 words of the uniform `params` struct (f32 fields go in as their bit patterns). */
  params?: Uint32Array;
  /** Storage bindings after the uniform, in binding order; null = a number this entry point skips. */
  buffers: Array<BufferArg | null>;
  workgroups: readonly [number, number?, number?];
}

/** Record `dispatches` in order, in one compute pass (each dispatch sees the previous one's writes). */
export function encodeDispatches(ctx: GpuContext, encoder: GPUCommandEncoder, label: string, dispatches: Dispatch[]): void {
  const timestampWrites = ctx.profiler?.timestampWrites(label);
  const pass = encoder.beginComputePass(timestampWrites ? { label, timestampWrites } : { label });
  for (const d of dispatches) {
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) continue;
    if (x > MAX_WORKGROUPS_PER_DIM || y > MAX_WORKGROUPS_PER_DIM || z > MAX_WORKGROUPS_PER_DIM) {
      throw new KernelInputError(d.kernel, `dispatch ${x}x${y}x${z} exceeds ${MAX_WORKGROUPS_PER_DIM} workgroups in one dimension`);
    }
    // WebGPU forbids one buffer in a dispatch as both read-only and writable storage (even at
    // disjoint ranges, e.g. two views of one activation arena). Where one buffer is bound at
    // several ranges, compile the kernel with those bindings (and only those) read_write:
    // writable bindings of one buffer are allowed when their ranges do not overlap.
    const entries = d.params ? [ctx.uniformCached(d.params), ...d.buffers] : d.buffers;
    const promoted = aliasedBindings(entries, writableBindings(d.code));
    const pipeline = promoted.length
      ? ctx.pipelineSync(`${d.kernel}+rw${promoted.join('.')}`, readWriteVariant(d.code, promoted), d.constants, d.entryPoint)
      : ctx.pipelineSync(d.kernel, d.code, d.constants, d.entryPoint);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, ctx.bindGroup(pipeline, entries));
    pass.dispatchWorkgroups(x, y, z);
  }
  pass.end();
}

const rwCache = new Map<string, string>();

/**
 * `code` with the storage bindings numbered in `bindings` declared `read_write` instead of
 * `read` (cached per source and set). Declarations must read `@binding(N) var<storage, read>`.
 */
export function readWriteVariant(code: string, bindings: readonly number[]): string {
  const key = `${bindings.join(',')}\n${code}`;
  let rw = rwCache.get(key);
  if (rw === undefined) {
    const set = new Set(bindings);
    rw = code.replace(/@binding\((\d+)\)(\s*)var<storage,\s*read>/g, (m, n: string, sp: string) =>
      set.has(Number(n)) ? `@binding(${n})${sp}var<storage, read_write>` : m,
    );
    rwCache.set(key, rw);
  }
  return rw;
}

const writableCache = new Map<string, ReadonlySet<number>>();

/** Binding numbers that `code` declares `var<storage, read_write>` (cached per source). */
export function writableBindings(code: string): ReadonlySet<number> {
  let set = writableCache.get(code);
  if (set === undefined) {
    set = new Set([...code.matchAll(/@binding\((\d+)\)\s*var<storage,\s*read_write>/g)].map((m) => Number(m[1])));
    writableCache.set(code, set);
  }
  return set;
}

/**
 * Binding numbers (entry index = binding) that must become read_write: the read-only
 * bindings of a buffer that the dispatch also binds writable (`writable`, by binding number)
 * at a different range. WebGPU forbids one buffer as read-only and writable storage in one
 * dispatch; several read-only views of one buffer (e.g. a weight and its bias, views of one
 * parameter buffer) are allowed and stay read-only, which keeps the read-only load path.
 * The same range bound twice is left alone (a read-only share, e.g. one tensor as two inputs).
 * Without `writable`, every buffer bound at two or more ranges is promoted (the conservative
 * rule).
 */
export function aliasedBindings(entries: ReadonlyArray<BufferArg | null>, writable?: ReadonlySet<number>): number[] {
  const ranges = new Map<GPUBuffer, Set<string>>();
  const written = new Set<GPUBuffer>();
  entries.forEach((b, i) => {
    if (!b) return;
    const buf = 'mapState' in b ? b : b.buffer;
    const range = 'mapState' in b ? 'all' : `${b.offset ?? 0}+${b.size ?? 'rest'}`;
    const set = ranges.get(buf) ?? new Set<string>();
    set.add(range);
    ranges.set(buf, set);
    if (writable?.has(i)) written.add(buf);
  });
  const out: number[] = [];
  entries.forEach((b, i) => {
    if (!b) return;
    const buf = 'mapState' in b ? b : b.buffer;
    if ((ranges.get(buf)?.size ?? 0) > 1 && (!writable || written.has(buf))) out.push(i);
  });
  return out;
}

/**
 * Workgroup counts for `n` workgroups laid out 2-D (x <= 65535); kernels recover the linear
 * index as `wg.x + wg.y * nwg.x` and must bounds-check it.
 */
export function grid(n: number): [number, number] {
  if (n <= MAX_WORKGROUPS_PER_DIM) return [Math.max(1, n), 1];
  const y = Math.ceil(n / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(n / y), y];
}

/** Pack a params struct: u32 fields first, then f32 fields (bit patterns), padded to 16 bytes. */
export function packParams(u32s: number[], f32s: number[] = []): Uint32Array {
  const n = Math.max(4, Math.ceil((u32s.length + f32s.length) / 4) * 4);
  const words = new Uint32Array(n);
  const floats = new Float32Array(words.buffer);
  u32s.forEach((v, i) => {
    words[i] = v >>> 0;
  });
  f32s.forEach((v, i) => {
    floats[u32s.length + i] = v;
  });
  return words;
}

/** Positive-integer check for shape arguments. */
export function checkDims(kernel: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v <= 0) throw new KernelInputError(kernel, `${k} must be a positive integer, got ${v}`);
  }
}

/** Each named buffer must hold at least `floats` 32-bit elements. */
export function checkBuffers(kernel: string, need: Array<[string, BufferArg | null | undefined, number]>): void {
  for (const [name, buf, floats] of need) {
    if (!buf) continue;
    const have = bindingBytes(buf) / 4;
    if (have < floats) throw new KernelInputError(kernel, `buffer ${name} holds ${have} floats, needs ${floats}`);
  }
}
