/**
 * @swarmgrad/wasm: Swarmgrad's CPU kernels compiled to WebAssembly (AssemblyScript, SIMD),
 * the fallback backend for peers without WebGPU. Runs in browsers and in Node.
 *
 * `createWasmKernels()` instantiates the module (bytes are embedded by the build, see
 * wasm/scripts/build.mjs) and returns a `WasmKernels`: a tensor arena over the module's linear
 * memory plus one method per reference op (`@swarmgrad/peer-core/reference`), with the same
 * argument order, taking `WasmTensor`s instead of typed arrays. Every call is validated here
 * (shapes, tensor sizes, liveness, token ids) and bad input throws `WasmKernelInputError`
 * before any wasm runs. Backward ops ACCUMULATE (+=) like the reference.
 *
 * NOT here: autograd, models, or threads (one instance = one single-threaded memory).
 */
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from '../build/kernels-bytes.ts';
import { ALIGN, Arena } from './arena.ts';
import { WasmKernelInputError, WasmUnsupportedError } from './errors.ts';

export { WasmKernelInputError, WasmOutOfMemoryError, WasmUnsupportedError } from './errors.ts';

export type WasmDType = 'f32' | 'i32';

/**
 * A tensor in the arena: a byte offset into linear memory and an element count. A view (from
 * `view`) shares its root allocation's memory; `root` is that allocation's offset.
 */
export interface WasmTensor {
  readonly ptr: number;
  readonly length: number;
  readonly dtype: WasmDType;
  /** Byte offset of the root allocation (equals `ptr` for a root tensor). */
  readonly root: number;
}

export interface MatmulShape {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
}

export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Multiplies the gradient first (e.g. the global-norm clipping factor). */
  gradScale: number;
}

export interface SgdMomentumParams {
  lr: number;
  momentum: number;
  weightDecay: number;
  gradScale: number;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  zeroBytes(p: number, n: number): void;
  encoderForward(out: number, inp: number, wte: number, wpe: number, B: number, T: number, C: number): void;
  encoderBackward(dwte: number, dwpe: number, dout: number, inp: number, B: number, T: number, C: number): void;
  layernormForward(out: number, mean: number, rstd: number, inp: number, w: number, b: number, N: number, C: number): void;
  layernormBackward(dinp: number, dw: number, db: number, dout: number, inp: number, w: number, mean: number, rstd: number, N: number, C: number): void;
  matmulForward(out: number, a: number, b: number, bias: number, packed: number, M: number, K: number, N: number, tA: number, tB: number, acc: number): void;
  biasBackward(dbias: number, dout: number, M: number, N: number): void;
  attentionForward(out: number, preatt: number, att: number, qkv: number, B: number, T: number, C: number, NH: number): void;
  attentionBackward(dqkv: number, dpreatt: number, datt: number, dout: number, qkv: number, att: number, B: number, T: number, C: number, NH: number): void;
  geluForward(out: number, inp: number, N: number): void;
  geluBackward(dinp: number, inp: number, dout: number, N: number): void;
  residualForward(out: number, a: number, b: number, N: number): void;
  residualBackward(da: number, db: number, dout: number, N: number): void;
  softmaxCrossEntropyForward(losses: number, probs: number, logits: number, targets: number, N: number, V: number): void;
  softmaxCrossEntropyBackward(dlogits: number, dlosses: number, probs: number, targets: number, N: number, V: number): void;
  globalNormSquared(grads: number, N: number): number;
  adamwUpdate(p: number, g: number, m: number, v: number, N: number, lr: number, b1: number, b2: number, eps: number, wd: number, step: number, gs: number): void;
  sgdMomentumUpdate(p: number, g: number, vel: number, N: number, lr: number, momentum: number, wd: number, gs: number): void;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  // the native decoder where the engine has it (Node 25+, recent browsers), else atob
  const native = (Uint8Array as unknown as { fromBase64?: (b64: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (native) return native(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * 'relaxed-simd' uses fused multiply-add (relaxed SIMD: Chrome/Node/Firefox) and is picked
 * where the engine validates it; 'simd' (plain wasm SIMD) runs everywhere else.
 */
export type WasmVariant = 'simd' | 'relaxed-simd';

export interface WasmKernelsInit {
  /** Force a variant (default: the fastest this engine validates). */
  variant?: WasmVariant;
}

const variantBytes = new Map<WasmVariant, Uint8Array<ArrayBuffer>>();
function bytesOf(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  let b = variantBytes.get(variant);
  if (!b) variantBytes.set(variant, (b = decodeBase64(variant === 'simd' ? KERNELS_WASM_BASE64 : KERNELS_RELAXED_WASM_BASE64)));
  return b;
}

/** The variants this engine can run, fastest first. */
export function supportedVariants(): WasmVariant[] {
  return (['relaxed-simd', 'simd'] as const).filter((v) => WebAssembly.validate(bytesOf(v)));
}

function pick(init: WasmKernelsInit): WasmVariant {
  const ok = supportedVariants();
  const v = init.variant ?? ok[0];
  if (!v || !ok.includes(v)) throw new WasmUnsupportedError(`this WebAssembly engine cannot run the '${init.variant ?? 'simd'}' kernels (it supports: ${ok.join(', ') || 'none'})`);
  return v;
}

const modules = new Map<WasmVariant, Promise<WebAssembly.Module> | WebAssembly.Module>();

/** Instantiate the kernels (works everywhere; browsers' main threads require this async form). */
export async function createWasmKernels(init: WasmKernelsInit = {}): Promise<WasmKernels> {
  const variant = pick(init);
  let mod = modules.get(variant);
  if (!mod) modules.set(variant, (mod = WebAssembly.compile(bytesOf(variant))));
  const instance = await WebAssembly.instantiate(await mod, {});
  return new WasmKernels(instance.exports as unknown as KernelExports, variant);
}

/** Synchronous instantiation, for Node and workers (Chromium refuses sync compiles >4 KB on the main thread). */
export function createWasmKernelsSync(init: WasmKernelsInit = {}): WasmKernels {
  const variant = pick(init);
  let mod = modules.get(variant);
  if (!(mod instanceof WebAssembly.Module)) modules.set(variant, (mod = new WebAssembly.Module(bytesOf(variant))));
  const instance = new WebAssembly.Instance(mod, {});
  return new WasmKernels(instance.exports as unknown as KernelExports, variant);
}

const flag = (x: boolean | undefined): number => (x ? 1 : 0);

export class WasmKernels {
  readonly memory: WebAssembly.Memory;
  private readonly arena: Arena;
  private scratch: WasmTensor | null = null;

  constructor(
    private readonly k: KernelExports,
    /** Which build runs: 'relaxed-simd' (fused multiply-add) or 'simd'. */
    readonly variant: WasmVariant,
  ) {
    this.memory = k.memory;
    this.arena = new Arena(k.memory, k.heapBase());
  }

  // ------------------------------------------------------------------------------------------
  // arena

  /** A new tensor of `length` elements (contents undefined; see `zeros`). */
  alloc(length: number, dtype: WasmDType = 'f32'): WasmTensor {
    if (!Number.isInteger(length) || length < 0) throw new WasmKernelInputError(`alloc: length must be a non-negative integer, got ${length}`);
    const ptr = this.arena.alloc(length * 4);
    return { ptr, length, dtype, root: ptr };
  }

  /** `length` elements of `t` starting `offset` elements in; shares memory with `t`. */
  view(t: WasmTensor, offset: number, length: number): WasmTensor {
    this.live('view', 't', t);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > t.length) {
      throw new WasmKernelInputError(`view: [${offset}, ${offset + length}) is outside a tensor of ${t.length}`);
    }
    return { ptr: t.ptr + offset * 4, length, dtype: t.dtype, root: t.root };
  }

  zeros(length: number, dtype: WasmDType = 'f32'): WasmTensor {
    const t = this.alloc(length, dtype);
    this.fill(t, 0);
    return t;
  }

  /** A new tensor holding a copy of `data` (f32 for Float32Array, i32 for Int32Array). */
  fromArray(data: Float32Array | Int32Array): WasmTensor {
    const t = this.alloc(data.length, data instanceof Int32Array ? 'i32' : 'f32');
    this.write(t, data);
    return t;
  }

  /** Releases a root tensor (a no-op on views). */
  free(t: WasmTensor): void {
    if (t.ptr === t.root) this.arena.release(t.ptr);
  }

  /** t = value (f32), or t = 0 for either dtype when value is 0. */
  fill(t: WasmTensor, value: number): void {
    this.live('fill', 't', t);
    if (value === 0) this.k.zeroBytes(t.ptr, t.length * 4);
    else this.f32(t).fill(value);
  }

  /** dst = src (same length and dtype). */
  copy(dst: WasmTensor, src: WasmTensor): void {
    this.live('copy', 'dst', dst);
    this.live('copy', 'src', src);
    if (dst.dtype !== src.dtype || dst.length !== src.length) throw new WasmKernelInputError(`copy: dst ${dst.dtype}[${dst.length}] and src ${src.dtype}[${src.length}] differ`);
    new Uint8Array(this.memory.buffer).copyWithin(dst.ptr, src.ptr, src.ptr + src.length * 4);
  }

  /** Copy `data` into `t` starting at element `offset`. */
  write(t: WasmTensor, data: ArrayLike<number>, offset = 0): void {
    this.live('write', 't', t);
    if (offset < 0 || offset + data.length > t.length) throw new WasmKernelInputError(`write: ${data.length} elements at ${offset} overflow a tensor of ${t.length}`);
    if (t.dtype === 'i32') new Int32Array(this.memory.buffer, t.ptr + offset * 4, data.length).set(data);
    else new Float32Array(this.memory.buffer, t.ptr + offset * 4, data.length).set(data);
  }

  /** A copy of an f32 tensor's contents. */
  read(t: WasmTensor): Float32Array {
    return this.f32(t).slice();
  }

  /** A copy of an i32 tensor's contents. */
  readInt32(t: WasmTensor): Int32Array {
    return this.i32(t).slice();
  }

  /** A live view of an f32 tensor; invalid after the next allocation that grows memory. */
  f32(t: WasmTensor): Float32Array {
    this.live('f32', 't', t);
    if (t.dtype !== 'f32') throw new WasmKernelInputError('f32: tensor is i32');
    return new Float32Array(this.memory.buffer, t.ptr, t.length);
  }

  /** A live view of an i32 tensor; invalid after the next allocation that grows memory. */
  i32(t: WasmTensor): Int32Array {
    this.live('i32', 't', t);
    if (t.dtype !== 'i32') throw new WasmKernelInputError('i32: tensor is f32');
    return new Int32Array(this.memory.buffer, t.ptr, t.length);
  }

  /** Bytes held by live tensors (including the matmul packing scratch). */
  get bytesInUse(): number {
    return this.arena.bytesInUse;
  }

  /** Size of linear memory in bytes. */
  get memoryBytes(): number {
    return this.arena.capacity;
  }

  // ------------------------------------------------------------------------------------------
  // ops (argument order as in the reference)

  encoderForward(out: WasmTensor, inp: WasmTensor, wte: WasmTensor, wpe: WasmTensor, B: number, T: number, C: number): void {
    const op = 'encoderForward';
    this.dims(op, { B, T, C });
    this.need(op, { out: [out, B * T * C], inp: [inp, B * T, 'i32'], wpe: [wpe, T * C] });
    this.tokens(op, 'inp', inp, B * T, this.rows(op, 'wte', wte, C));
    this.k.encoderForward(out.ptr, inp.ptr, wte.ptr, wpe.ptr, B, T, C);
  }

  encoderBackward(dwte: WasmTensor, dwpe: WasmTensor, dout: WasmTensor, inp: WasmTensor, B: number, T: number, C: number): void {
    const op = 'encoderBackward';
    this.dims(op, { B, T, C });
    this.need(op, { dwpe: [dwpe, T * C], dout: [dout, B * T * C], inp: [inp, B * T, 'i32'] });
    this.tokens(op, 'inp', inp, B * T, this.rows(op, 'dwte', dwte, C));
    this.k.encoderBackward(dwte.ptr, dwpe.ptr, dout.ptr, inp.ptr, B, T, C);
  }

  layernormForward(out: WasmTensor, mean: WasmTensor, rstd: WasmTensor, inp: WasmTensor, weight: WasmTensor, bias: WasmTensor, N: number, C: number): void {
    const op = 'layernormForward';
    this.dims(op, { N, C });
    this.need(op, { out: [out, N * C], mean: [mean, N], rstd: [rstd, N], inp: [inp, N * C], weight: [weight, C], bias: [bias, C] });
    this.k.layernormForward(out.ptr, mean.ptr, rstd.ptr, inp.ptr, weight.ptr, bias.ptr, N, C);
  }

  layernormBackward(
    dinp: WasmTensor, dweight: WasmTensor, dbias: WasmTensor, dout: WasmTensor, inp: WasmTensor, weight: WasmTensor, mean: WasmTensor, rstd: WasmTensor, N: number, C: number,
  ): void {
    const op = 'layernormBackward';
    this.dims(op, { N, C });
    this.need(op, {
      dinp: [dinp, N * C], dweight: [dweight, C], dbias: [dbias, C], dout: [dout, N * C], inp: [inp, N * C], weight: [weight, C], mean: [mean, N], rstd: [rstd, N],
    });
    this.k.layernormBackward(dinp.ptr, dweight.ptr, dbias.ptr, dout.ptr, inp.ptr, weight.ptr, mean.ptr, rstd.ptr, N, C);
  }

  /** out (M,N) = op(A)·op(B) (+ bias); `accumulate` adds into out instead. out must not alias a or b. */
  matmulForward(out: WasmTensor, a: WasmTensor, b: WasmTensor, bias: WasmTensor | null, shape: MatmulShape, accumulate = false): void {
    const op = 'matmulForward';
    const { M, K, N } = shape;
    this.dims(op, { M, K, N });
    this.need(op, { out: [out, M * N], a: [a, M * K], b: [b, K * N] });
    if (bias) this.need(op, { bias: [bias, N] });
    if (out.ptr === a.ptr || out.ptr === b.ptr) throw new WasmKernelInputError(`${op}: out must not alias a or b`);
    this.gemm(out, a, b, bias, M, K, N, !!shape.transA, !!shape.transB, accumulate);
  }

  /** Accumulates the gradients of out = op(A)·op(B) + bias into da, db, dbias (any may be null). */
  matmulBackward(da: WasmTensor | null, db: WasmTensor | null, dbias: WasmTensor | null, dout: WasmTensor, a: WasmTensor, b: WasmTensor, shape: MatmulShape): void {
    const op = 'matmulBackward';
    const { M, K, N } = shape;
    const tA = !!shape.transA;
    const tB = !!shape.transB;
    this.dims(op, { M, K, N });
    this.need(op, { dout: [dout, M * N], a: [a, M * K], b: [b, K * N] });
    if (da) this.need(op, { da: [da, M * K] });
    if (db) this.need(op, { db: [db, K * N] });
    if (dbias) this.need(op, { dbias: [dbias, N] });
    if (da) {
      if (!tA) this.gemm(da, dout, b, null, M, N, K, false, !tB, true); // dA (M,K) += dout · op(B)^T
      else this.gemm(da, b, dout, null, K, N, M, tB, true, true); // dA stored (K,M) += op(B) · dout^T
    }
    if (db) {
      if (!tB) this.gemm(db, a, dout, null, K, M, N, !tA, false, true); // dB (K,N) += op(A)^T · dout
      else this.gemm(db, dout, a, null, N, M, K, true, tA, true); // dB stored (N,K) += dout^T · op(A)
    }
    if (dbias) this.k.biasBackward(dbias.ptr, dout.ptr, M, N);
  }

  attentionForward(out: WasmTensor, preatt: WasmTensor, att: WasmTensor, qkv: WasmTensor, B: number, T: number, C: number, NH: number): void {
    const op = 'attentionForward';
    this.dims(op, { B, T, C, NH });
    this.heads(op, C, NH);
    this.need(op, { out: [out, B * T * C], preatt: [preatt, B * NH * T * T], att: [att, B * NH * T * T], qkv: [qkv, B * T * 3 * C] });
    this.k.attentionForward(out.ptr, preatt.ptr, att.ptr, qkv.ptr, B, T, C, NH);
  }

  attentionBackward(
    dqkv: WasmTensor, dpreatt: WasmTensor, datt: WasmTensor, dout: WasmTensor, qkv: WasmTensor, att: WasmTensor, B: number, T: number, C: number, NH: number,
  ): void {
    const op = 'attentionBackward';
    this.dims(op, { B, T, C, NH });
    this.heads(op, C, NH);
    const tt = B * NH * T * T;
    this.need(op, { dqkv: [dqkv, B * T * 3 * C], dpreatt: [dpreatt, tt], datt: [datt, tt], dout: [dout, B * T * C], qkv: [qkv, B * T * 3 * C], att: [att, tt] });
    this.k.attentionBackward(dqkv.ptr, dpreatt.ptr, datt.ptr, dout.ptr, qkv.ptr, att.ptr, B, T, C, NH);
  }

  geluForward(out: WasmTensor, inp: WasmTensor, N: number): void {
    this.dims('geluForward', { N });
    this.need('geluForward', { out: [out, N], inp: [inp, N] });
    this.k.geluForward(out.ptr, inp.ptr, N);
  }

  geluBackward(dinp: WasmTensor, inp: WasmTensor, dout: WasmTensor, N: number): void {
    this.dims('geluBackward', { N });
    this.need('geluBackward', { dinp: [dinp, N], inp: [inp, N], dout: [dout, N] });
    this.k.geluBackward(dinp.ptr, inp.ptr, dout.ptr, N);
  }

  residualForward(out: WasmTensor, a: WasmTensor, b: WasmTensor, N: number): void {
    this.dims('residualForward', { N });
    this.need('residualForward', { out: [out, N], a: [a, N], b: [b, N] });
    this.k.residualForward(out.ptr, a.ptr, b.ptr, N);
  }

  residualBackward(da: WasmTensor, db: WasmTensor, dout: WasmTensor, N: number): void {
    this.dims('residualBackward', { N });
    this.need('residualBackward', { da: [da, N], db: [db, N], dout: [dout, N] });
    this.k.residualBackward(da.ptr, db.ptr, dout.ptr, N);
  }

  softmaxCrossEntropyForward(losses: WasmTensor, probs: WasmTensor, logits: WasmTensor, targets: WasmTensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyForward';
    this.dims(op, { N, V });
    this.need(op, { losses: [losses, N], probs: [probs, N * V], logits: [logits, N * V], targets: [targets, N, 'i32'] });
    this.tokens(op, 'targets', targets, N, V, true);
    this.k.softmaxCrossEntropyForward(losses.ptr, probs.ptr, logits.ptr, targets.ptr, N, V);
  }

  softmaxCrossEntropyBackward(dlogits: WasmTensor, dlosses: WasmTensor, probs: WasmTensor, targets: WasmTensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyBackward';
    this.dims(op, { N, V });
    this.need(op, { dlogits: [dlogits, N * V], dlosses: [dlosses, N], probs: [probs, N * V], targets: [targets, N, 'i32'] });
    this.tokens(op, 'targets', targets, N, V, true);
    this.k.softmaxCrossEntropyBackward(dlogits.ptr, dlosses.ptr, probs.ptr, targets.ptr, N, V);
  }

  /** sum of squares of grads[0..N) (accumulated in f64). */
  globalNormSquared(grads: WasmTensor, N: number): number {
    this.dims('globalNormSquared', { N });
    this.need('globalNormSquared', { grads: [grads, N] });
    return this.k.globalNormSquared(grads.ptr, N);
  }

  adamwUpdate(params: WasmTensor, grads: WasmTensor, m: WasmTensor, v: WasmTensor, N: number, o: AdamWParams): void {
    const op = 'adamwUpdate';
    this.dims(op, { N });
    if (!Number.isInteger(o.step) || o.step < 1) throw new WasmKernelInputError(`${op}: step must be an integer >= 1, got ${o.step}`);
    this.need(op, { params: [params, N], grads: [grads, N], m: [m, N], v: [v, N] });
    this.k.adamwUpdate(params.ptr, grads.ptr, m.ptr, v.ptr, N, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.step, o.gradScale);
  }

  sgdMomentumUpdate(params: WasmTensor, grads: WasmTensor, velocity: WasmTensor, N: number, o: SgdMomentumParams): void {
    const op = 'sgdMomentumUpdate';
    this.dims(op, { N });
    this.need(op, { params: [params, N], grads: [grads, N], velocity: [velocity, N] });
    this.k.sgdMomentumUpdate(params.ptr, grads.ptr, velocity.ptr, N, o.lr, o.momentum, o.weightDecay, o.gradScale);
  }

  // ------------------------------------------------------------------------------------------
  // internals

  private gemm(out: WasmTensor, a: WasmTensor, b: WasmTensor, bias: WasmTensor | null, M: number, K: number, N: number, tA: boolean, tB: boolean, acc: boolean): void {
    // B packed in 8-column panels, then A transposed when transA (see matmulForward in kernels.ts)
    const packed = K * Math.ceil(N / 8) * 8 + (tA ? M * K : 0);
    if (!this.scratch || this.scratch.length < packed) {
      if (this.scratch) this.free(this.scratch);
      this.scratch = this.alloc(Math.max(packed, 1024));
    }
    this.k.matmulForward(out.ptr, a.ptr, b.ptr, bias ? bias.ptr : 0, this.scratch.ptr, M, K, N, flag(tA), flag(tB), flag(acc));
  }

  private live(op: string, name: string, t: WasmTensor): void {
    const size = t && typeof t.root === 'number' ? this.arena.sizeOf(t.root) : undefined;
    if (size === undefined || t.root % ALIGN !== 0 || t.ptr < t.root || t.ptr + t.length * 4 > t.root + size) {
      throw new WasmKernelInputError(`${op}: tensor ${name} is not a live tensor of this instance`);
    }
  }

  private dims(op: string, d: Record<string, number>): void {
    for (const [k, v] of Object.entries(d)) {
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new WasmKernelInputError(`${op}: ${k} must be a non-negative integer, got ${v}`);
    }
  }

  private heads(op: string, C: number, NH: number): void {
    if (NH < 1 || C % NH !== 0) throw new WasmKernelInputError(`${op}: C=${C} is not divisible by NH=${NH}`);
  }

  private need(op: string, req: Record<string, [WasmTensor, number] | [WasmTensor, number, WasmDType]>): void {
    for (const [name, [t, n, dtype = 'f32']] of Object.entries(req)) {
      this.live(op, name, t);
      if (t.dtype !== dtype) throw new WasmKernelInputError(`${op}: tensor ${name} is ${t.dtype}, needs ${dtype}`);
      if (t.length < n) throw new WasmKernelInputError(`${op}: tensor ${name} holds ${t.length} ${dtype === 'f32' ? 'floats' : 'ints'}, needs ${n}`);
    }
  }

  /** Rows of a (rows, C) table, checked to be whole; the vocabulary size for token checks. */
  private rows(op: string, name: string, t: WasmTensor, C: number): number {
    this.need(op, { [name]: [t, C] });
    return C === 0 ? 0 : Math.floor(t.length / C);
  }

  /** Every id in t[0..n) must be in [0, V), or in [-inf, V) when `allowNegative` (ignore_index). */
  private tokens(op: string, name: string, t: WasmTensor, n: number, V: number, allowNegative = false): void {
    const ids = new Int32Array(this.memory.buffer, t.ptr, n);
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id >= V || (id < 0 && !allowNegative)) throw new WasmKernelInputError(`${op}: ${name}[${i}] = ${id} is outside [0, ${V})`);
    }
  }
}
