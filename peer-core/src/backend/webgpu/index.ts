/**
 * The `webgpu` backend: the Backend interface (../types.ts) on the WGSL kernels of
 * @swarmgrad/gpu-shaders. Tensors are GPU buffers (views are bound by offset, so a view's
 * absolute offset must be a multiple of VIEW_ALIGN_ELEMENTS); ops are recorded in call order
 * into one command encoder, which `flush`, `sync`, `read` and `write` submit, so a training
 * step becomes a handful of command buffers. Pipelines, uniforms and bind groups are cached by
 * the GpuContext and scratch comes from its buffer pool, so a repeated step creates no GPU
 * objects (read-back staging buffers are reused too).
 *
 * Attention defaults to fused (`attention = 'fused'`: the flash kernels, models keep only lse
 * per layer); `createWebGpuBackend({ attention: 'unfused' })` or setting `attention` before a
 * model is built selects the unfused batched-matmul kernels.
 *
 * Differences from `cpu` that come from running on the device: a cross-entropy target >= V
 * gives a NaN loss instead of an error (targets are not read back), and an out-of-range token
 * id gives NaN embeddings.
 *
 * Not here: kernel math (gpu-shaders), model logic (model/).
 */
import {
  adamwHyper,
  type BufferArg,
  encodeAdamW,
  encodeAttentionBackward,
  encodeAttentionForward,
  encodeCrossEntropyBackward,
  encodeCrossEntropyForward,
  encodeEncoderBackward,
  encodeEncoderForward,
  encodeFlashAttentionBackward,
  encodeFlashAttentionForward,
  encodeGeluBackward,
  encodeGeluForward,
  encodeGlobalNormSquared,
  encodeLayernormBackward,
  encodeLayernormForward,
  encodeMatmul,
  encodeMatmulBackward,
  encodeMatmulBackwardMixed,
  encodeMatmulMixed,
  encodeResidualBackward,
  encodeResidualForward,
  encodeSgdMomentum,
  GpuContext,
  type GpuContextInit,
  HYPER_BYTES,
  MATMUL_PRECISIONS,
  type MatmulPrecision,
  sgdHyper,
  TensorCoreUnavailableError,
  tensorCoreSupport,
} from '@swarmgrad/gpu-shaders';
import { BackendInputError, BackendUnavailableError, ForeignTensorError, requireDims, requireTensor } from '../errors.ts';
import { type AdamWParams, type AttentionKind, type Backend, type DType, type MatmulShape, type SgdParams, type Tensor, VIEW_ALIGN_ELEMENTS } from '../types.ts';

export { type MatmulPrecision, TensorCoreUnavailableError } from '@swarmgrad/gpu-shaders';

export class WebGpuTensor implements Tensor {
  readonly backend = 'webgpu' as const;
  freed = false;
  constructor(
    readonly dtype: DType,
    readonly length: number,
    readonly offset: number,
    readonly buffer: GPUBuffer,
    readonly root: WebGpuTensor | null,
  ) {}
}

export interface WebGpuBackendInit extends GpuContextInit {
  /** Use this context (and its device) instead of creating one; it is not destroyed on dispose. */
  context?: GpuContext;
  /**
   * The attention models on this backend use (default 'fused': the flash kernels, no
   * (B,NH,T,T) tensors). 'unfused' runs the batched-matmul attention, for A/B comparisons.
   */
  attention?: AttentionKind;
  /**
   * How matmuls compute (default 'fp32'). 'tensor-core' is MIXED PRECISION: every product
   * that the tensor-core kernel takes (`matmulTcEligible`; N-padded copies for products whose
   * only obstacle is dout's row length, e.g. the LM head's backward) rounds its operands to f16
   * and accumulates in f32 on subgroup matrices (`encodeMatmulMixed` in gpu-shaders), like
   * PyTorch AMP's matmuls; weights, activations, gradients, bias, optimizer state and every
   * other op stay fp32. The rest of the products run on the fp32 kernels. Needs the
   * subgroup-matrix and shader-f16 features (Dawn on NVIDIA with the toggles
   * allow_unsafe_apis,vulkan_enable_f16_on_nvidia); without them creating the backend throws
   * TensorCoreUnavailableError (no silent fallback).
   */
  matmulPrecision?: MatmulPrecision;
  /**
   * Submit the recorded work after this many ops (default SUBMIT_EVERY_OPS), so that the GPU
   * starts on the first part of a step while the CPU records the rest. `Infinity` submits only
   * at flush / sync / read / write (one command buffer per phase).
   */
  submitEveryOps?: number;
}

/** Default of WebGpuBackendInit.submitEveryOps. */
export const SUBMIT_EVERY_OPS = 48;

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  attention: AttentionKind = 'fused';
  /**
   * Separate GPU buffers per activation (Backend.activationLayout): a matmul's input and
   * output are then never views of one buffer, so no input has to be copied to scratch or
   * bound read_write. Measured on an H200 at GPT-2 124M (bench/gpu/train.ts, ACTIVATIONS).
   */
  activationLayout: 'one' | 'separate' = 'separate';
  /** See WebGpuBackendInit.matmulPrecision; set through createWebGpuBackend, which checks the device. */
  matmulPrecision: MatmulPrecision = 'fp32';
  private encoder: GPUCommandEncoder | null = null;
  private readonly roots = new Set<WebGpuTensor>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  private normSq: GPUBuffer | null = null;
  private hyper: GPUBuffer | null = null;
  /** Command buffers submitted so far (a step should need only a few). */
  submits = 0;
  /** See WebGpuBackendInit.submitEveryOps. */
  submitEveryOps = SUBMIT_EVERY_OPS;
  /** Ops recorded so far (each op is one or a few compute passes or copies). */
  ops = 0;
  private opsRecorded = 0;

  constructor(
    readonly ctx: GpuContext,
    private readonly ownsContext: boolean,
  ) {}

  // ---- memory -----------------------------------------------------------------------------
  alloc(length: number, dtype: DType = 'f32'): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new BackendInputError('alloc', `bad length ${length}`);
    const buffer = this.ctx.device.createBuffer({
      label: `tensor ${dtype}[${length}]`,
      size: Math.max(16, Math.ceil((length * 4) / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const t = new WebGpuTensor(dtype, length, 0, buffer, null);
    this.roots.add(t);
    return t;
  }

  view(tensor: Tensor, offset: number, length: number): Tensor {
    const t = own(tensor);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > t.length) {
      throw new BackendInputError('view', `[${offset}, ${offset + length}) is outside a tensor of ${t.length}`);
    }
    const abs = t.offset + offset;
    if (abs % VIEW_ALIGN_ELEMENTS !== 0) {
      throw new BackendInputError('view', `absolute offset ${abs} is not a multiple of ${VIEW_ALIGN_ELEMENTS} elements (WebGPU binds views at 256-byte offsets)`);
    }
    return new WebGpuTensor(t.dtype, length, abs, t.buffer, t.root ?? t);
  }

  write(tensor: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const t = own(tensor);
    if ((t.dtype === 'f32') !== data instanceof Float32Array) {
      throw new BackendInputError('write', `cannot write ${data.constructor.name} into a ${t.dtype} tensor`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > t.length) {
      throw new BackendInputError('write', `${data.length} elements at ${offset} do not fit in ${t.length}`);
    }
    // queue.writeBuffer runs before the next submit: submit what is recorded first to keep order.
    this.submit();
    this.ctx.device.queue.writeBuffer(t.buffer, (t.offset + offset) * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(tensor: Tensor): Promise<Float32Array> {
    const t = own(tensor);
    if (t.dtype !== 'f32') throw new BackendInputError('read', 'tensor is i32; use readI32');
    return new Float32Array(await this.readBytes(t));
  }

  async readI32(tensor: Tensor): Promise<Int32Array> {
    const t = own(tensor);
    if (t.dtype !== 'i32') throw new BackendInputError('readI32', 'tensor is f32; use read');
    return new Int32Array(await this.readBytes(t));
  }

  free(tensor: Tensor): void {
    const t = own(tensor);
    if (t.root) return;
    this.submit(); // recorded work may still use it
    t.freed = true;
    this.roots.delete(t);
    t.buffer.destroy();
  }

  zero(tensor: Tensor): void {
    const t = own(tensor);
    if (t.length) this.enc().clearBuffer(t.buffer, t.offset * 4, t.length * 4);
  }

  fill(tensor: Tensor, value: number): void {
    const t = own(tensor);
    requireTensor('fill', 'tensor', t, 0, 'f32');
    if (value === 0) this.zero(t);
    else this.write(t, new Float32Array(t.length).fill(value));
  }

  copy(dst: Tensor, src: Tensor): void {
    const d = own(dst);
    const s = own(src);
    if (d.dtype !== s.dtype || d.length !== s.length) {
      throw new BackendInputError('copy', `dst ${d.dtype}[${d.length}] and src ${s.dtype}[${s.length}] differ`);
    }
    if (d.length) this.enc().copyBufferToBuffer(s.buffer, s.offset * 4, d.buffer, d.offset * 4, d.length * 4);
  }

  /** Bytes of GPU memory this backend holds: tensors, pool scratch and read-back staging. */
  get allocatedBytes(): number {
    let n = this.ctx.pool.bytes;
    for (const t of this.roots) n += t.buffer.size;
    for (const list of this.staging.values()) for (const b of list) n += b.size;
    return n;
  }

  // ---- scheduling ---------------------------------------------------------------------------
  async flush(): Promise<void> {
    this.submit();
  }

  async sync(): Promise<void> {
    await this.ctx.checked('webgpu backend', () => this.submit());
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    this.submit();
    for (const t of this.roots) {
      t.freed = true;
      t.buffer.destroy();
    }
    this.roots.clear();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
    this.normSq?.destroy();
    this.hyper?.destroy();
    this.ctx.pool.destroy();
    if (this.ownsContext) this.ctx.device.destroy();
  }

  // ---- ops ----------------------------------------------------------------------------------
  encoderForward(out: Tensor, inp: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void {
    const op = 'encoderForward';
    requireDims(op, { B, T, C });
    const w = f32(op, 'wte', wte, C);
    const V = Math.floor(w.length / C);
    encodeEncoderForward(this.ctx, this.enc(), { out: bind(f32(op, 'out', out, B * T * C)), inp: bind(i32(op, 'inp', inp, B * T)), wte: bind(w), wpe: bind(f32(op, 'wpe', wpe, T * C)), B, T, C, V });
  }

  encoderBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, inp: Tensor, B: number, T: number, C: number): void {
    const op = 'encoderBackward';
    requireDims(op, { B, T, C });
    const dw = f32(op, 'dwte', dwte, C);
    const V = Math.floor(dw.length / C);
    encodeEncoderBackward(this.ctx, this.enc(), { dwte: bind(dw), dwpe: bind(f32(op, 'dwpe', dwpe, T * C)), dout: bind(f32(op, 'dout', dout, B * T * C)), inp: bind(i32(op, 'inp', inp, B * T)), B, T, C, V });
  }

  layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor, N: number, C: number): void {
    const op = 'layernormForward';
    requireDims(op, { N, C });
    encodeLayernormForward(this.ctx, this.enc(), {
      out: bind(f32(op, 'out', out, N * C)),
      mean: bind(f32(op, 'mean', mean, N)),
      rstd: bind(f32(op, 'rstd', rstd, N)),
      inp: bind(f32(op, 'inp', inp, N * C)),
      weight: bind(f32(op, 'weight', weight, C)),
      bias: bind(f32(op, 'bias', bias, C)),
      N,
      C,
    });
  }

  layernormBackward(dinp: Tensor, dweight: Tensor, dbias: Tensor, dout: Tensor, inp: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor, N: number, C: number): void {
    const op = 'layernormBackward';
    requireDims(op, { N, C });
    encodeLayernormBackward(this.ctx, this.enc(), {
      dinp: bind(f32(op, 'dinp', dinp, N * C)),
      dweight: bind(f32(op, 'dweight', dweight, C)),
      dbias: bind(f32(op, 'dbias', dbias, C)),
      dout: bind(f32(op, 'dout', dout, N * C)),
      inp: bind(f32(op, 'inp', inp, N * C)),
      weight: bind(f32(op, 'weight', weight, C)),
      mean: bind(f32(op, 'mean', mean, N)),
      rstd: bind(f32(op, 'rstd', rstd, N)),
      N,
      C,
    });
  }

  matmulForward(out: Tensor, a: Tensor, b: Tensor, bias: Tensor | null, shape: MatmulShape, accumulate = false): void {
    const op = 'matmulForward';
    const { M, K, N } = shape;
    requireDims(op, { M, K, N });
    if (this.matmulPrecision === 'tensor-core') {
      encodeMatmulMixed(this.ctx, this.enc(), {
        M,
        K,
        N,
        transA: shape.transA,
        transB: shape.transB,
        accumulate,
        out: bind(f32(op, 'out', out, M * N)),
        a: bind(f32(op, 'a', a, M * K)),
        b: bind(f32(op, 'b', b, K * N)),
        bias: bias ? bind(f32(op, 'bias', bias, N)) : null,
      });
      return;
    }
    encodeMatmul(this.ctx, this.enc(), {
      M,
      K,
      N,
      transA: shape.transA,
      transB: shape.transB,
      accumulate,
      out: bind(f32(op, 'out', out, M * N)),
      a: bind(f32(op, 'a', a, M * K)),
      b: bind(f32(op, 'b', b, K * N)),
      bias: bias ? bind(f32(op, 'bias', bias, N)) : null,
    });
  }

  matmulBackward(da: Tensor | null, db: Tensor | null, dbias: Tensor | null, dout: Tensor, a: Tensor, b: Tensor, shape: MatmulShape): void {
    const op = 'matmulBackward';
    const { M, K, N } = shape;
    requireDims(op, { M, K, N });
    const encodeBackward = this.matmulPrecision === 'tensor-core' ? encodeMatmulBackwardMixed : encodeMatmulBackward;
    encodeBackward(this.ctx, this.enc(), {
      M,
      K,
      N,
      transA: shape.transA,
      transB: shape.transB,
      da: da ? bind(f32(op, 'da', da, M * K)) : null,
      db: db ? bind(f32(op, 'db', db, K * N)) : null,
      dbias: dbias ? bind(f32(op, 'dbias', dbias, N)) : null,
      dout: bind(f32(op, 'dout', dout, M * N)),
      a: bind(f32(op, 'a', a, M * K)),
      b: bind(f32(op, 'b', b, K * N)),
    });
  }

  attentionForward(out: Tensor, preatt: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'attentionForward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const TT = B * NH * T * T;
    encodeAttentionForward(this.ctx, this.enc(), {
      out: bind(f32(op, 'out', out, B * T * C)),
      preatt: bind(f32(op, 'preatt', preatt, TT)),
      att: bind(f32(op, 'att', att, TT)),
      qkv: bind(f32(op, 'qkv', qkv, B * T * 3 * C)),
      B,
      T,
      C,
      NH,
    });
  }

  attentionBackward(dqkv: Tensor, dpreatt: Tensor, datt: Tensor, dout: Tensor, qkv: Tensor, att: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'attentionBackward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const TT = B * NH * T * T;
    encodeAttentionBackward(this.ctx, this.enc(), {
      dqkv: bind(f32(op, 'dqkv', dqkv, B * T * 3 * C)),
      dpreatt: bind(f32(op, 'dpreatt', dpreatt, TT)),
      datt: bind(f32(op, 'datt', datt, TT)),
      dout: bind(f32(op, 'dout', dout, B * T * C)),
      qkv: bind(f32(op, 'qkv', qkv, B * T * 3 * C)),
      att: bind(f32(op, 'att', att, TT)),
      B,
      T,
      C,
      NH,
    });
  }

  flashAttentionForward(out: Tensor, lse: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'flashAttentionForward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    encodeFlashAttentionForward(this.ctx, this.enc(), {
      out: bind(f32(op, 'out', out, B * T * C)),
      lse: bind(f32(op, 'lse', lse, B * NH * T)),
      qkv: bind(f32(op, 'qkv', qkv, B * T * 3 * C)),
      B,
      T,
      C,
      NH,
    });
  }

  flashAttentionBackward(dqkv: Tensor, dout: Tensor, qkv: Tensor, out: Tensor, lse: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'flashAttentionBackward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    encodeFlashAttentionBackward(this.ctx, this.enc(), {
      dqkv: bind(f32(op, 'dqkv', dqkv, B * T * 3 * C)),
      dout: bind(f32(op, 'dout', dout, B * T * C)),
      qkv: bind(f32(op, 'qkv', qkv, B * T * 3 * C)),
      out: bind(f32(op, 'out', out, B * T * C)),
      lse: bind(f32(op, 'lse', lse, B * NH * T)),
      B,
      T,
      C,
      NH,
    });
  }

  geluForward(out: Tensor, inp: Tensor, N: number): void {
    const op = 'geluForward';
    requireDims(op, { N });
    encodeGeluForward(this.ctx, this.enc(), { out: bind(f32(op, 'out', out, N)), inp: bind(f32(op, 'inp', inp, N)), N });
  }

  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, N: number): void {
    const op = 'geluBackward';
    requireDims(op, { N });
    encodeGeluBackward(this.ctx, this.enc(), { dinp: bind(f32(op, 'dinp', dinp, N)), inp: bind(f32(op, 'inp', inp, N)), dout: bind(f32(op, 'dout', dout, N)), N });
  }

  residualForward(out: Tensor, a: Tensor, b: Tensor, N: number): void {
    const op = 'residualForward';
    requireDims(op, { N });
    encodeResidualForward(this.ctx, this.enc(), { out: bind(f32(op, 'out', out, N)), a: bind(f32(op, 'a', a, N)), b: bind(f32(op, 'b', b, N)), N });
  }

  residualBackward(da: Tensor, db: Tensor, dout: Tensor, N: number): void {
    const op = 'residualBackward';
    requireDims(op, { N });
    encodeResidualBackward(this.ctx, this.enc(), { da: bind(f32(op, 'da', da, N)), db: bind(f32(op, 'db', db, N)), dout: bind(f32(op, 'dout', dout, N)), N });
  }

  softmaxCrossEntropyForward(losses: Tensor, probs: Tensor, logits: Tensor, targets: Tensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyForward';
    requireDims(op, { N, V });
    encodeCrossEntropyForward(this.ctx, this.enc(), {
      losses: bind(f32(op, 'losses', losses, N)),
      probs: bind(f32(op, 'probs', probs, N * V)),
      logits: bind(f32(op, 'logits', logits, N * V)),
      targets: bind(i32(op, 'targets', targets, N)),
      N,
      V,
    });
  }

  softmaxCrossEntropyBackward(dlogits: Tensor, dlosses: Tensor, probs: Tensor, targets: Tensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyBackward';
    requireDims(op, { N, V });
    encodeCrossEntropyBackward(this.ctx, this.enc(), {
      dlogits: bind(f32(op, 'dlogits', dlogits, N * V)),
      dlosses: bind(f32(op, 'dlosses', dlosses, N)),
      probs: bind(f32(op, 'probs', probs, N * V)),
      targets: bind(i32(op, 'targets', targets, N)),
      N,
      V,
    });
  }

  async globalNormSquared(grads: Tensor, N: number): Promise<number> {
    const op = 'globalNormSquared';
    requireDims(op, { N });
    this.normSq ??= this.ctx.buffer(16, 0, 'normSq');
    encodeGlobalNormSquared(this.ctx, this.enc(), { grads: bind(f32(op, 'grads', grads, N)), N, normSq: this.normSq });
    const bytes = await this.readRange(this.normSq, 0, 4);
    return new Float32Array(bytes)[0]!;
  }

  adamwUpdate(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, N: number, opts: AdamWParams): void {
    const op = 'adamwUpdate';
    requireDims(op, { N });
    if (!(opts.step >= 1)) throw new BackendInputError(op, `step must be >= 1, got ${opts.step}`);
    const hyper = this.writeHyper(adamwHyper(opts));
    encodeAdamW(this.ctx, this.enc(), {
      hyper,
      params: bind(f32(op, 'params', params, N)),
      grads: bind(f32(op, 'grads', grads, N)),
      m: bind(f32(op, 'm', m, N)),
      v: bind(f32(op, 'v', v, N)),
      N,
      ...opts,
    });
  }

  sgdMomentumUpdate(params: Tensor, grads: Tensor, velocity: Tensor, N: number, opts: SgdParams): void {
    const op = 'sgdMomentumUpdate';
    requireDims(op, { N });
    const hyper = this.writeHyper(sgdHyper(opts));
    encodeSgdMomentum(this.ctx, this.enc(), {
      hyper,
      params: bind(f32(op, 'params', params, N)),
      grads: bind(f32(op, 'grads', grads, N)),
      velocity: bind(f32(op, 'velocity', velocity, N)),
      N,
      ...opts,
    });
  }

  // ---- internals ----------------------------------------------------------------------------
  /** Optimizer hyperparameters go in through one reused buffer: submit what may read it, then write. */
  private writeHyper(words: Float32Array): GPUBuffer {
    this.hyper ??= this.ctx.buffer(HYPER_BYTES, 0, 'optimizer hyperparameters');
    this.submit();
    this.ctx.device.queue.writeBuffer(this.hyper, 0, words.buffer, words.byteOffset, words.byteLength);
    return this.hyper;
  }

  /** The open encoder for the next op; submits the open one first once it holds submitEveryOps ops. */
  private enc(): GPUCommandEncoder {
    if (this.encoder && this.opsRecorded >= this.submitEveryOps) this.submit();
    this.encoder ??= this.ctx.device.createCommandEncoder({ label: 'webgpu backend' });
    this.opsRecorded++;
    this.ops++;
    return this.encoder;
  }

  private submit(): void {
    if (!this.encoder) return;
    const cb = this.encoder.finish();
    this.encoder = null;
    this.opsRecorded = 0;
    this.ctx.device.queue.submit([cb]);
    this.submits++;
  }

  private readBytes(t: WebGpuTensor): Promise<ArrayBuffer> {
    return this.readRange(t.buffer, t.offset * 4, t.length * 4);
  }

  /** Copy `bytes` at `offset` of `src` out through a reused staging buffer, after all recorded work. */
  private async readRange(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    if (bytes === 0) return new ArrayBuffer(0);
    const size = Math.max(16, 2 ** Math.ceil(Math.log2(Math.ceil(bytes / 4) * 4)));
    const list = this.staging.get(size) ?? [];
    this.staging.set(size, list);
    const staging = list.pop() ?? this.ctx.device.createBuffer({ label: 'read staging', size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const copyBytes = Math.ceil(bytes / 4) * 4;
    this.enc().copyBufferToBuffer(src, offset, staging, 0, copyBytes);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, copyBytes);
      const out = staging.getMappedRange(0, copyBytes).slice(0, bytes);
      staging.unmap();
      return out;
    } finally {
      list.push(staging);
    }
  }
}

function own(t: Tensor): WebGpuTensor {
  if (!(t instanceof WebGpuTensor)) throw new ForeignTensorError(`webgpu backend got a tensor of backend '${t?.backend}'`);
  if (t.freed || t.root?.freed) throw new ForeignTensorError('webgpu backend got a freed tensor');
  return t;
}

function f32(op: string, arg: string, t: Tensor, needed: number): WebGpuTensor {
  const g = own(t);
  requireTensor(op, arg, g, needed, 'f32');
  return g;
}

function i32(op: string, arg: string, t: Tensor, needed: number): WebGpuTensor {
  const g = own(t);
  requireTensor(op, arg, g, needed, 'i32');
  return g;
}

/** The binding of a tensor (whole view; at least 4 bytes). */
function bind(t: WebGpuTensor): BufferArg {
  return { buffer: t.buffer, offset: t.offset * 4, size: Math.max(4, t.length * 4) };
}

/**
 * A webgpu backend on a new device (or the given context). Throws BackendUnavailableError
 * where WebGPU or an adapter is missing.
 */
export async function createWebGpuBackend(init: WebGpuBackendInit = {}): Promise<WebGpuBackend> {
  let backend: WebGpuBackend;
  if (init.context) backend = new WebGpuBackend(init.context, false);
  else {
    try {
      backend = new WebGpuBackend(await GpuContext.create(init), true);
    } catch (e) {
      if ((e as Error).name === 'WebGpuUnavailableError') throw new BackendUnavailableError((e as Error).message);
      throw e;
    }
  }
  if (init.attention) backend.attention = init.attention;
  const precision = init.matmulPrecision ?? 'fp32';
  if (!MATMUL_PRECISIONS.includes(precision)) {
    if (!init.context) backend.dispose();
    throw new BackendInputError('createWebGpuBackend', `matmulPrecision must be one of ${MATMUL_PRECISIONS.join(', ')}, got '${precision}'`);
  }
  if (precision === 'tensor-core') {
    const support = tensorCoreSupport(backend.ctx);
    if (!support.ok) {
      if (!init.context) backend.dispose();
      throw new TensorCoreUnavailableError(`matmulPrecision 'tensor-core': ${support.reason}`);
    }
  }
  backend.matmulPrecision = precision;
  const every = init.submitEveryOps ?? SUBMIT_EVERY_OPS;
  if (!(every >= 1) || (Number.isFinite(every) && !Number.isInteger(every))) {
    if (!init.context) backend.dispose();
    throw new BackendInputError('createWebGpuBackend', `submitEveryOps must be a positive integer or Infinity, got ${every}`);
  }
  backend.submitEveryOps = every;
  return backend;
}
