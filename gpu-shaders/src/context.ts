/**
 * GpuContext: one GPUDevice plus the pipeline cache every kernel wrapper uses.
 *
 * - `pipeline(key, ...)` compiles a WGSL module inside pushErrorScope('validation') and caches
 *   the pipeline under the wrapper's cache key (kernel name + override constants); compile
 *   errors become ShaderCompileError with the compiler's messages.
 * - Buffer helpers for tests and for moving tensors in and out.
 *
 * Not here: any kernel's math (each lives in its own folder as one .wgsl + one .ts).
 */
import { GpuOperationError, ShaderCompileError, WebGpuUnavailableError } from './errors.ts';

export type OverrideConstants = Record<string, number | boolean>;

export interface GpuContextInit {
  /** An existing device (e.g. shared with onnxruntime-web); otherwise one is requested. */
  device?: GPUDevice;
  /** navigator.gpu or Dawn's `gpu` object in Node; defaults to globalThis.navigator.gpu. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapterInfo: GPUAdapterInfo | undefined;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  private constructor(device: GPUDevice, adapterInfo?: GPUAdapterInfo) {
    this.device = device;
    this.adapterInfo = adapterInfo;
  }

  static async create(init: GpuContextInit = {}): Promise<GpuContext> {
    if (init.device) return new GpuContext(init.device);
    const gpu = init.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) throw new WebGpuUnavailableError('WebGPU is not available here (no navigator.gpu); use the wasm backend.');
    const adapter = await gpu.requestAdapter({ powerPreference: init.powerPreference ?? 'high-performance' });
    if (!adapter) throw new WebGpuUnavailableError('navigator.gpu.requestAdapter() returned null: no usable GPU adapter.');
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
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
