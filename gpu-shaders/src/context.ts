/**
 * GpuContext: one GPUDevice plus the pipeline cache every kernel wrapper uses.
 *
 * - `pipeline(key, ...)` compiles a WGSL module inside pushErrorScope('validation') and caches
 *   the pipeline under the wrapper's cache key (kernel name + override constants); compile
 *   errors become ShaderCompileError with the compiler's messages.
 * - `pipelineSync(...)`: the same cache, created synchronously (for recording a step without
 *   awaiting; compile errors then surface through the caller's error scope, see `checked`).
 * - Steady-state caches so that a repeated step allocates nothing: uniforms are cached by
 *   content (`uniformCached`), bind groups by pipeline + uniform + buffer bindings
 *   (`bindGroup`), scratch buffers come from `pool` (a BufferPool). `stats` counts creations
 *   so tests can assert that a second identical step created nothing.
 * - Buffer helpers for tests and for moving tensors in and out.
 *
 * Not here: any kernel's math (each lives in its own folder as one .wgsl + one .ts).
 */
import { GpuOperationError, ShaderCompileError, WebGpuUnavailableError } from './errors.ts';
import { BufferPool } from './pool.ts';
import type { PassProfiler } from './profiler.ts';

export type OverrideConstants = Record<string, number | boolean>;

export interface GpuContextInit {
  /** An existing device (e.g. shared with onnxruntime-web); otherwise one is requested. */
  device?: GPUDevice;
  /** navigator.gpu or Dawn's `gpu` object in Node; defaults to globalThis.navigator.gpu. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
}

/** A storage binding: a whole buffer, or a range of one (offset a multiple of 256 bytes). */
export type BufferArg = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export function isGpuBuffer(b: BufferArg): b is GPUBuffer {
  return 'mapState' in b;
}

/** Bytes visible through a binding. */
export function bindingBytes(b: BufferArg): number {
  if (isGpuBuffer(b)) return b.size;
  return b.size ?? b.buffer.size - (b.offset ?? 0);
}

/** Creation counters: a steady-state step must leave all of them unchanged. */
export interface GpuStats {
  pipelines: number;
  uniforms: number;
  bindGroups: number;
  poolBuffers: number;
}

const MAX_CACHED_BIND_GROUPS = 8192;
const MAX_CACHED_UNIFORMS = 4096;

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapterInfo: GPUAdapterInfo | undefined;
  readonly features: ReadonlySet<string>;
  readonly pool: BufferPool;
  /** When set, every pass `encodeDispatches` records is timed (see profiler.ts); null by default. */
  profiler: PassProfiler | null = null;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private readonly pipelineIds = new WeakMap<GPUComputePipeline, number>();
  private nextId = 1;
  private counts = { uniforms: 0, bindGroups: 0 };

  private constructor(device: GPUDevice, adapterInfo?: GPUAdapterInfo) {
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = new Set([...device.features]);
    this.pool = new BufferPool(device);
  }

  get stats(): GpuStats {
    return { pipelines: this.pipelines.size, uniforms: this.counts.uniforms, bindGroups: this.counts.bindGroups, poolBuffers: this.pool.created };
  }

  static async create(init: GpuContextInit = {}): Promise<GpuContext> {
    if (init.device) return new GpuContext(init.device);
    const gpu = init.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) throw new WebGpuUnavailableError('WebGPU is not available here (no navigator.gpu); use the wasm backend.');
    const adapter = await gpu.requestAdapter({ powerPreference: init.powerPreference ?? 'high-performance' });
    if (!adapter) throw new WebGpuUnavailableError('navigator.gpu.requestAdapter() returned null: no usable GPU adapter.');
    const limits = adapter.limits;
    // shader-f16 and Dawn's subgroup matrices serve the tensor-core matmul (matmul-tc/); Dawn
    // offers them only with the toggles allow_unsafe_apis,vulkan_enable_f16_on_nvidia.
    const wanted = ['subgroups', 'timestamp-query', 'shader-f16', 'chromium-experimental-subgroup-matrix'] as GPUFeatureName[];
    const device = await adapter.requestDevice({
      requiredFeatures: wanted.filter((f) => adapter.features.has(f)),
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    });
    device.addEventListener('uncapturederror', (ev) => {
      // Surface errors that escaped every error scope instead of letting them vanish.
      console.error(`[webgpu] uncaptured error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
    });
    return new GpuContext(device, adapter.info);
  }

  /** Cached compute pipeline. `key` must identify code + entry point + constants. */
  async pipeline(kernel: string, code: string, constants: OverrideConstants = {}, entryPoint = 'main'): Promise<GPUComputePipeline> {
    const key = `${kernel}|${entryPoint}|${JSON.stringify(constants)}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const { device } = this;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: kernel, code });
    const info = await module.getCompilationInfo();
    const pipeline = device.createComputePipeline({
      label: kernel,
      layout: 'auto',
      compute: { module, entryPoint, constants: toConstants(constants) },
    });
    const err = await device.popErrorScope();
    const messages = info.messages.filter((m) => m.type === 'error');
    if (messages.length || err) {
      const lines = messages.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`);
      if (err) lines.push(`  ${err.message}`);
      throw new ShaderCompileError(kernel, lines.join('\n'));
    }
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /**
   * Cached compute pipeline, created synchronously. Compile errors are reported through the
   * device's error scopes (wrap the recording in `checked`) or as uncaptured errors.
   */
  pipelineSync(kernel: string, code: string, constants: OverrideConstants = {}, entryPoint = 'main'): GPUComputePipeline {
    const key = `${kernel}|${entryPoint}|${JSON.stringify(constants)}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const module = this.device.createShaderModule({ label: kernel, code });
    const pipeline = this.device.createComputePipeline({
      label: `${kernel}:${entryPoint}`,
      layout: 'auto',
      compute: { module, entryPoint, constants: toConstants(constants) },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /** A uniform buffer holding exactly `words`, shared by every call with the same content. */
  uniformCached(words: Uint32Array): GPUBuffer {
    const key = words.join(',');
    let buf = this.uniforms.get(key);
    if (!buf) {
      if (this.uniforms.size >= MAX_CACHED_UNIFORMS) {
        // Shapes that never repeat (should not happen in a training loop): start over.
        for (const b of this.uniforms.values()) b.destroy();
        this.uniforms.clear();
        this.bindGroups.clear();
      }
      buf = this.uniform(words, 'uniform');
      this.counts.uniforms++;
      this.uniforms.set(key, buf);
    }
    return buf;
  }

  /**
   * Cached bind group of `pipeline` (group 0): entry i is binding i; `null` marks a binding
   * number this entry point does not use.
   */
  bindGroup(pipeline: GPUComputePipeline, entries: Array<BufferArg | null>): GPUBindGroup {
    const key = `${this.id(pipeline, this.pipelineIds)}:${entries.map((e) => (e ? this.bindingKey(e) : '-')).join(';')}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: entries.flatMap((e, binding) =>
          e ? [{ binding, resource: isGpuBuffer(e) ? { buffer: e } : { buffer: e.buffer, offset: e.offset ?? 0, size: e.size } }] : [],
        ),
      });
      this.counts.bindGroups++;
      this.bindGroups.set(key, bg);
    }
    return bg;
  }

  private id<T extends object>(o: T, map: WeakMap<T, number>): number {
    let id = map.get(o);
    if (id === undefined) {
      id = this.nextId++;
      map.set(o, id);
    }
    return id;
  }

  private bindingKey(e: BufferArg): string {
    if (isGpuBuffer(e)) return `${this.id(e, this.bufferIds)}`;
    return `${this.id(e.buffer, this.bufferIds)}@${e.offset ?? 0}+${e.size ?? ''}`;
  }

  private placeholder: GPUBuffer | undefined;

  /** A tiny read-only storage buffer to bind where an optional input (e.g. bias) is absent. */
  get emptyBuffer(): GPUBuffer {
    this.placeholder ??= this.buffer(16, 0, 'empty');
    return this.placeholder;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Storage buffer initialised from `data` (or zeroed, of `data` bytes). */
  buffer(data: Float32Array | Uint32Array | Int32Array | number, usage = 0, label?: string): GPUBuffer {
    const size = typeof data === 'number' ? data : data.byteLength;
    const buf = this.device.createBuffer({
      label,
      size: Math.max(4, Math.ceil(size / 4) * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | usage,
      mappedAtCreation: typeof data !== 'number',
    });
    if (typeof data !== 'number') {
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      buf.unmap();
    }
    return buf;
  }

  /** Small uniform buffer from 32-bit words (u32 unless given as Float32Array). */
  uniform(words: number[] | Float32Array | Uint32Array, label?: string): GPUBuffer {
    const data = Array.isArray(words) ? new Uint32Array(words) : words;
    const buf = this.device.createBuffer({ label, size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /** Copy a buffer back to the CPU as Float32Array (`count` floats from `offset` floats). */
  async readFloat32(src: GPUBuffer, count?: number, offset = 0): Promise<Float32Array> {
    const n = count ?? (src.size / 4 - offset);
    const staging = this.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, offset * 4, staging, 0, n * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Run `fn` with validation and OOM error scopes around it; GPU errors are thrown. */
  async checked<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    const { device } = this;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const result = await fn();
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const err = validation ?? oom;
    if (err) throw new GpuOperationError(`${what}: ${err.message}`);
    return result;
  }
}

function toConstants(c: OverrideConstants): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  return out;
}
