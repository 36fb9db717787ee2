/**
 * The `wasm` backend: the `Backend` interface on top of `@swarmgrad/wasm` (AssemblyScript
 * kernels with SIMD in one WebAssembly linear memory). It is the backend for peers without
 * WebGPU, in browsers and in Node. Tensors are offsets into the module's arena; views share
 * their root's memory. Ops run synchronously when called, so flush/sync resolve at once and
 * `read` returns a copy.
 *
 * Inputs are checked here with the same shared checks (and messages) as the `cpu` backend, so
 * both throw BackendInputError for the same mistakes; token and target ids are range-checked
 * before any wasm runs. NOT here: the kernels themselves (wasm/assembly) or threads.
 */
import { createWasmKernels, createWasmKernelsSync, WasmKernelInputError, type WasmKernels, type WasmKernelsInit, type WasmTensor } from '@swarmgrad/wasm';
import { BackendInputError, BackendUnavailableError, ForeignTensorError, requireDims, requireTensor } from '../errors.ts';
import * as ref from '../../ops/reference/index.ts';
import type { AdamWParams, AttentionKind, Backend, DType, MatmulShape, SgdParams, Tensor } from '../types.ts';

export class WasmBackendTensor implements Tensor {
  readonly backend = 'wasm' as const;
  freed = false;
  constructor(
    readonly owner: WasmBackend,
    readonly handle: WasmTensor,
    readonly offset: number,
    readonly root: WasmBackendTensor | null,
  ) {}
  get dtype(): DType {
    return this.handle.dtype;
  }
  get length(): number {
    return this.handle.length;
  }
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  /**
   * Unfused by default: the fused path here is the plain TS reference on views of linear
   * memory (correct, not fast), offered so a model can save the (B,NH,T,T) memory.
   */
  attention: AttentionKind = 'unfused';
  private disposed = false;

  constructor(readonly kernels: WasmKernels) {}

  // ---- memory ----------------------------------------------------------------------------

  alloc(length: number, dtype: DType = 'f32'): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new BackendInputError('alloc', `bad length ${length}`);
    if (dtype !== 'f32' && dtype !== 'i32') throw new BackendInputError('alloc', `bad dtype ${String(dtype)}`);
    this.alive();
    return new WasmBackendTensor(this, this.kernels.zeros(length, dtype), 0, null);
  }

  view(tensor: Tensor, offset: number, length: number): Tensor {
    const t = this.own(tensor);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > t.length) {
      throw new BackendInputError('view', `[${offset}, ${offset + length}) is outside a tensor of ${t.length}`);
    }
    return new WasmBackendTensor(this, this.kernels.view(t.handle, offset, length), t.offset + offset, t.root ?? t);
  }

  write(tensor: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const t = this.own(tensor);
    if ((t.dtype === 'f32') !== data instanceof Float32Array) {
      throw new BackendInputError('write', `cannot write ${data.constructor.name} into a ${t.dtype} tensor`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > t.length) {
      throw new BackendInputError('write', `${data.length} elements at ${offset} do not fit in ${t.length}`);
    }
    this.kernels.write(t.handle, data, offset);
  }

  async read(tensor: Tensor): Promise<Float32Array> {
    const t = this.own(tensor);
    if (t.dtype !== 'f32') throw new BackendInputError('read', 'tensor is i32; use readI32');
    return this.kernels.read(t.handle);
  }

  async readI32(tensor: Tensor): Promise<Int32Array> {
    const t = this.own(tensor);
    if (t.dtype !== 'i32') throw new BackendInputError('readI32', 'tensor is f32; use read');
    return this.kernels.readInt32(t.handle);
  }

  free(tensor: Tensor): void {
    const t = this.own(tensor);
    if (t.root) return;
    t.freed = true;
    this.kernels.free(t.handle);
  }

  zero(tensor: Tensor): void {
    this.kernels.fill(this.own(tensor).handle, 0);
  }

  fill(tensor: Tensor, value: number): void {
    this.kernels.fill(this.f32('fill', 'tensor', tensor, 0), value);
  }

  copy(dst: Tensor, src: Tensor): void {
    const d = this.own(dst);
    const s = this.own(src);
    if (d.dtype !== s.dtype || d.length !== s.length) {
      throw new BackendInputError('copy', `dst ${d.dtype}[${d.length}] and src ${s.dtype}[${s.length}] differ`);
    }
    this.kernels.copy(d.handle, s.handle);
  }

  /** Bytes of wasm linear memory in use by live tensors (and the matmul packing scratch). */
  get bytesInUse(): number {
    return this.kernels.bytesInUse;
  }

  // ---- scheduling ------------------------------------------------------------------------

  async flush(): Promise<void> {}
  async sync(): Promise<void> {}
  dispose(): void {
    this.disposed = true;
  }

  // ---- ops -------------------------------------------------------------------------------

  encoderForward(out: Tensor, inp: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void {
    const op = 'encoderForward';
    requireDims(op, { B, T, C });
    const args = [this.f32(op, 'out', out, B * T * C), this.i32(op, 'inp', inp, B * T), this.f32(op, 'wte', wte, C), this.f32(op, 'wpe', wpe, T * C)] as const;
    this.run(op, () => this.kernels.encoderForward(...args, B, T, C));
  }

  encoderBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, inp: Tensor, B: number, T: number, C: number): void {
    const op = 'encoderBackward';
    requireDims(op, { B, T, C });
    const args = [this.f32(op, 'dwte', dwte, C), this.f32(op, 'dwpe', dwpe, T * C), this.f32(op, 'dout', dout, B * T * C), this.i32(op, 'inp', inp, B * T)] as const;
    this.run(op, () => this.kernels.encoderBackward(...args, B, T, C));
  }

  layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor, N: number, C: number): void {
    const op = 'layernormForward';
    requireDims(op, { N, C });
    const args = [
      this.f32(op, 'out', out, N * C),
      this.f32(op, 'mean', mean, N),
      this.f32(op, 'rstd', rstd, N),
      this.f32(op, 'inp', inp, N * C),
      this.f32(op, 'weight', weight, C),
      this.f32(op, 'bias', bias, C),
    ] as const;
    this.run(op, () => this.kernels.layernormForward(...args, N, C));
  }

  layernormBackward(
    dinp: Tensor,
    dweight: Tensor,
    dbias: Tensor,
    dout: Tensor,
    inp: Tensor,
    weight: Tensor,
    mean: Tensor,
    rstd: Tensor,
    N: number,
    C: number,
  ): void {
    const op = 'layernormBackward';
    requireDims(op, { N, C });
    const args = [
      this.f32(op, 'dinp', dinp, N * C),
      this.f32(op, 'dweight', dweight, C),
      this.f32(op, 'dbias', dbias, C),
      this.f32(op, 'dout', dout, N * C),
      this.f32(op, 'inp', inp, N * C),
      this.f32(op, 'weight', weight, C),
      this.f32(op, 'mean', mean, N),
      this.f32(op, 'rstd', rstd, N),
    ] as const;
    this.run(op, () => this.kernels.layernormBackward(...args, N, C));
  }

  matmulForward(out: Tensor, a: Tensor, b: Tensor, bias: Tensor | null, shape: MatmulShape, accumulate = false): void {
    const op = 'matmulForward';
    const { M, K, N } = shape;
    requireDims(op, { M, K, N });
    const o = this.f32(op, 'out', out, M * N);
    const ta = this.f32(op, 'a', a, M * K);
    const tb = this.f32(op, 'b', b, K * N);
    const tbias = bias ? this.f32(op, 'bias', bias, N) : null;
    this.run(op, () => this.kernels.matmulForward(o, ta, tb, tbias, shape, accumulate));
  }

  matmulBackward(da: Tensor | null, db: Tensor | null, dbias: Tensor | null, dout: Tensor, a: Tensor, b: Tensor, shape: MatmulShape): void {
    const op = 'matmulBackward';
    const { M, K, N } = shape;
    requireDims(op, { M, K, N });
    const tda = da ? this.f32(op, 'da', da, M * K) : null;
    const tdb = db ? this.f32(op, 'db', db, K * N) : null;
    const tdbias = dbias ? this.f32(op, 'dbias', dbias, N) : null;
    const args = [this.f32(op, 'dout', dout, M * N), this.f32(op, 'a', a, M * K), this.f32(op, 'b', b, K * N)] as const;
    this.run(op, () => this.kernels.matmulBackward(tda, tdb, tdbias, ...args, shape));
  }

  attentionForward(out: Tensor, preatt: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'attentionForward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const TT = B * NH * T * T;
    const args = [this.f32(op, 'out', out, B * T * C), this.f32(op, 'preatt', preatt, TT), this.f32(op, 'att', att, TT), this.f32(op, 'qkv', qkv, B * T * 3 * C)] as const;
    this.run(op, () => this.kernels.attentionForward(...args, B, T, C, NH));
  }

  attentionBackward(
    dqkv: Tensor,
    dpreatt: Tensor,
    datt: Tensor,
    dout: Tensor,
    qkv: Tensor,
    att: Tensor,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void {
    const op = 'attentionBackward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const TT = B * NH * T * T;
    const args = [
      this.f32(op, 'dqkv', dqkv, B * T * 3 * C),
      this.f32(op, 'dpreatt', dpreatt, TT),
      this.f32(op, 'datt', datt, TT),
      this.f32(op, 'dout', dout, B * T * C),
      this.f32(op, 'qkv', qkv, B * T * 3 * C),
      this.f32(op, 'att', att, TT),
    ] as const;
    this.run(op, () => this.kernels.attentionBackward(...args, B, T, C, NH));
  }

  // The fused path runs the TS reference on live views of linear memory (taken after every
  // check; the reference allocates nothing in wasm memory, so the views stay valid).
  flashAttentionForward(out: Tensor, lse: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'flashAttentionForward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const h = [this.f32(op, 'out', out, B * T * C), this.f32(op, 'lse', lse, B * NH * T), this.f32(op, 'qkv', qkv, B * T * 3 * C)] as const;
    const [o, l, q] = h.map((t) => this.kernels.f32(t));
    ref.flashAttentionForward(o!, l!, q!, B, T, C, NH);
  }

  flashAttentionBackward(dqkv: Tensor, dout: Tensor, qkv: Tensor, out: Tensor, lse: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'flashAttentionBackward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const h = [
      this.f32(op, 'dqkv', dqkv, B * T * 3 * C),
      this.f32(op, 'dout', dout, B * T * C),
      this.f32(op, 'qkv', qkv, B * T * 3 * C),
      this.f32(op, 'out', out, B * T * C),
      this.f32(op, 'lse', lse, B * NH * T),
    ] as const;
    const [dq, g, q, o, l] = h.map((t) => this.kernels.f32(t));
    ref.flashAttentionBackward(dq!, g!, q!, o!, l!, B, T, C, NH);
  }

  geluForward(out: Tensor, inp: Tensor, N: number): void {
    const op = 'geluForward';
    requireDims(op, { N });
    const args = [this.f32(op, 'out', out, N), this.f32(op, 'inp', inp, N)] as const;
    this.run(op, () => this.kernels.geluForward(...args, N));
  }

  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, N: number): void {
    const op = 'geluBackward';
    requireDims(op, { N });
    const args = [this.f32(op, 'dinp', dinp, N), this.f32(op, 'inp', inp, N), this.f32(op, 'dout', dout, N)] as const;
    this.run(op, () => this.kernels.geluBackward(...args, N));
  }

  residualForward(out: Tensor, a: Tensor, b: Tensor, N: number): void {
    const op = 'residualForward';
    requireDims(op, { N });
    const args = [this.f32(op, 'out', out, N), this.f32(op, 'a', a, N), this.f32(op, 'b', b, N)] as const;
    this.run(op, () => this.kernels.residualForward(...args, N));
  }

  residualBackward(da: Tensor, db: Tensor, dout: Tensor, N: number): void {
    const op = 'residualBackward';
    requireDims(op, { N });
    const args = [this.f32(op, 'da', da, N), this.f32(op, 'db', db, N), this.f32(op, 'dout', dout, N)] as const;
    this.run(op, () => this.kernels.residualBackward(...args, N));
  }

  softmaxCrossEntropyForward(losses: Tensor, probs: Tensor, logits: Tensor, targets: Tensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyForward';
    requireDims(op, { N, V });
    const args = [this.f32(op, 'losses', losses, N), this.f32(op, 'probs', probs, N * V), this.f32(op, 'logits', logits, N * V), this.i32(op, 'targets', targets, N)] as const;
    this.run(op, () => this.kernels.softmaxCrossEntropyForward(...args, N, V));
  }

  softmaxCrossEntropyBackward(dlogits: Tensor, dlosses: Tensor, probs: Tensor, targets: Tensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyBackward';
    requireDims(op, { N, V });
    const args = [this.f32(op, 'dlogits', dlogits, N * V), this.f32(op, 'dlosses', dlosses, N), this.f32(op, 'probs', probs, N * V), this.i32(op, 'targets', targets, N)] as const;
    this.run(op, () => this.kernels.softmaxCrossEntropyBackward(...args, N, V));
  }

  async globalNormSquared(grads: Tensor, N: number): Promise<number> {
    const op = 'globalNormSquared';
    const g = this.f32(op, 'grads', grads, N);
    return this.run(op, () => this.kernels.globalNormSquared(g, N));
  }

  adamwUpdate(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, N: number, opts: AdamWParams): void {
    const op = 'adamwUpdate';
    if (!(opts.step >= 1)) throw new BackendInputError(op, `step must be >= 1, got ${opts.step}`);
    const args = [this.f32(op, 'params', params, N), this.f32(op, 'grads', grads, N), this.f32(op, 'm', m, N), this.f32(op, 'v', v, N)] as const;
    this.run(op, () => this.kernels.adamwUpdate(...args, N, opts));
  }

  sgdMomentumUpdate(params: Tensor, grads: Tensor, velocity: Tensor, N: number, opts: SgdParams): void {
    const op = 'sgdMomentumUpdate';
    const args = [this.f32(op, 'params', params, N), this.f32(op, 'grads', grads, N), this.f32(op, 'velocity', velocity, N)] as const;
    this.run(op, () => this.kernels.sgdMomentumUpdate(...args, N, opts));
  }

  // ---- internals -------------------------------------------------------------------------

  private alive(): void {
    if (this.disposed) throw new BackendUnavailableError('wasm backend was disposed');
  }

  private own(t: Tensor): WasmBackendTensor {
    this.alive();
    if (!(t instanceof WasmBackendTensor) || t.owner !== this) {
      throw new ForeignTensorError(`wasm backend got a tensor of ${t instanceof WasmBackendTensor ? 'another wasm backend' : `backend '${t?.backend}'`}`);
    }
    if (t.freed || t.root?.freed) throw new ForeignTensorError('wasm backend got a freed tensor');
    return t;
  }

  private f32(op: string, arg: string, t: Tensor, needed: number): WasmTensor {
    const w = this.own(t);
    requireTensor(op, arg, w, needed, 'f32');
    return w.handle;
  }

  private i32(op: string, arg: string, t: Tensor, needed: number): WasmTensor {
    const w = this.own(t);
    requireTensor(op, arg, w, needed, 'i32');
    return w.handle;
  }

  /** Runs a kernel call, turning the wrapper's own input errors (ids, aliasing) into BackendInputError. */
  private run<R>(op: string, f: () => R): R {
    try {
      return f();
    } catch (e) {
      if (e instanceof WasmKernelInputError) throw new BackendInputError(op, e.message.replace(/^\w+: /, ''));
      throw e;
    }
  }
}

function unavailable(e: unknown): never {
  throw new BackendUnavailableError(`WebAssembly (with SIMD) is not available here: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * The wasm backend (async: browsers' main threads compile large modules only asynchronously).
 * `init.variant` forces 'simd' or 'relaxed-simd' (default: the fastest the engine validates).
 */
export async function createWasmBackend(init: WasmKernelsInit = {}): Promise<WasmBackend> {
  if (typeof WebAssembly === 'undefined') unavailable(new Error('no WebAssembly global'));
  try {
    return new WasmBackend(await createWasmKernels(init));
  } catch (e) {
    unavailable(e);
  }
}

/** The wasm backend, instantiated synchronously (Node and workers). */
export function createWasmBackendSync(init: WasmKernelsInit = {}): WasmBackend {
  if (typeof WebAssembly === 'undefined') unavailable(new Error('no WebAssembly global'));
  try {
    return new WasmBackend(createWasmKernelsSync(init));
  } catch (e) {
    unavailable(e);
  }
}
