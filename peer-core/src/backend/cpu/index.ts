/**
 * The `cpu` backend: runs the plain TypeScript reference ops on Float32Arrays. It is the
 * specification the `wasm` and `webgpu` backends are tested against, and slow on purpose
 * (readable loops, no blocking or SIMD). Ops run immediately; flush/sync resolve at once.
 */
import * as ref from '../../ops/reference/index.ts';
import { BackendInputError, ForeignTensorError, requireDims, requireTensor } from '../errors.ts';
import type { AdamWParams, AttentionKind, Backend, DType, MatmulShape, SgdParams, Tensor } from '../types.ts';

export class CpuTensor implements Tensor {
  readonly backend = 'cpu' as const;
  freed = false;
  constructor(
    readonly dtype: DType,
    readonly data: Float32Array | Int32Array,
    readonly offset: number,
    readonly root: CpuTensor | null,
  ) {}
  get length(): number {
    return this.data.length;
  }
}

function t32(op: string, arg: string, t: Tensor, needed: number): Float32Array {
  const c = own(t);
  requireTensor(op, arg, c, needed, 'f32');
  return c.data as Float32Array;
}

function i32(op: string, arg: string, t: Tensor, needed: number): Int32Array {
  const c = own(t);
  requireTensor(op, arg, c, needed, 'i32');
  return c.data as Int32Array;
}

function own(t: Tensor): CpuTensor {
  if (!(t instanceof CpuTensor)) throw new ForeignTensorError(`cpu backend got a tensor of backend '${t?.backend}'`);
  if (t.freed || t.root?.freed) throw new ForeignTensorError('cpu backend got a freed tensor');
  return t;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  /** Unfused by default (the plain reference the others are checked against); both work. */
  attention: AttentionKind;

  constructor(init: CpuBackendInit = {}) {
    this.attention = init.attention ?? 'unfused';
  }

  alloc(length: number, dtype: DType = 'f32'): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new BackendInputError('alloc', `bad length ${length}`);
    const data = dtype === 'f32' ? new Float32Array(length) : new Int32Array(length);
    return new CpuTensor(dtype, data, 0, null);
  }

  view(tensor: Tensor, offset: number, length: number): Tensor {
    const t = own(tensor);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > t.length) {
      throw new BackendInputError('view', `[${offset}, ${offset + length}) is outside a tensor of ${t.length}`);
    }
    const data = t.data.subarray(offset, offset + length);
    return new CpuTensor(t.dtype, data, t.offset + offset, t.root ?? t);
  }

  write(tensor: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const t = own(tensor);
    if ((t.dtype === 'f32') !== data instanceof Float32Array) {
      throw new BackendInputError('write', `cannot write ${data.constructor.name} into a ${t.dtype} tensor`);
    }
    if (offset < 0 || offset + data.length > t.length) {
      throw new BackendInputError('write', `${data.length} elements at ${offset} do not fit in ${t.length}`);
    }
    t.data.set(data, offset);
  }

  async read(tensor: Tensor): Promise<Float32Array> {
    const t = own(tensor);
    if (t.dtype !== 'f32') throw new BackendInputError('read', 'tensor is i32; use readI32');
    return (t.data as Float32Array).slice();
  }

  async readI32(tensor: Tensor): Promise<Int32Array> {
    const t = own(tensor);
    if (t.dtype !== 'i32') throw new BackendInputError('readI32', 'tensor is f32; use read');
    return (t.data as Int32Array).slice();
  }

  free(tensor: Tensor): void {
    const t = own(tensor);
    if (!t.root) t.freed = true;
  }

  zero(tensor: Tensor): void {
    own(tensor).data.fill(0);
  }

  fill(tensor: Tensor, value: number): void {
    t32('fill', 'tensor', tensor, 0).fill(value);
  }

  copy(dst: Tensor, src: Tensor): void {
    const d = own(dst);
    const s = own(src);
    if (d.dtype !== s.dtype || d.length !== s.length) {
      throw new BackendInputError('copy', `dst ${d.dtype}[${d.length}] and src ${s.dtype}[${s.length}] differ`);
    }
    d.data.set(s.data);
  }

  async flush(): Promise<void> {}
  async sync(): Promise<void> {}
  dispose(): void {}

  encoderForward(out: Tensor, inp: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void {
    const op = 'encoderForward';
    requireDims(op, { B, T, C });
    ref.encoderForward(t32(op, 'out', out, B * T * C), i32(op, 'inp', inp, B * T), t32(op, 'wte', wte, C), t32(op, 'wpe', wpe, T * C), B, T, C);
  }

  encoderBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, inp: Tensor, B: number, T: number, C: number): void {
    const op = 'encoderBackward';
    requireDims(op, { B, T, C });
    ref.encoderBackward(t32(op, 'dwte', dwte, C), t32(op, 'dwpe', dwpe, T * C), t32(op, 'dout', dout, B * T * C), i32(op, 'inp', inp, B * T), B, T, C);
  }

  layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor, N: number, C: number): void {
    const op = 'layernormForward';
    requireDims(op, { N, C });
    ref.layernormForward(
      t32(op, 'out', out, N * C),
      t32(op, 'mean', mean, N),
      t32(op, 'rstd', rstd, N),
      t32(op, 'inp', inp, N * C),
      t32(op, 'weight', weight, C),
      t32(op, 'bias', bias, C),
      N,
      C,
    );
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
    ref.layernormBackward(
      t32(op, 'dinp', dinp, N * C),
      t32(op, 'dweight', dweight, C),
      t32(op, 'dbias', dbias, C),
      t32(op, 'dout', dout, N * C),
      t32(op, 'inp', inp, N * C),
      t32(op, 'weight', weight, C),
      t32(op, 'mean', mean, N),
      t32(op, 'rstd', rstd, N),
      N,
      C,
    );
  }

  matmulForward(out: Tensor, a: Tensor, b: Tensor, bias: Tensor | null, shape: MatmulShape, accumulate = false): void {
    const op = 'matmulForward';
    const { M, K, N } = shape;
    requireDims(op, { M, K, N });
    ref.matmulForward(t32(op, 'out', out, M * N), t32(op, 'a', a, M * K), t32(op, 'b', b, K * N), bias ? t32(op, 'bias', bias, N) : null, shape, accumulate);
  }

  matmulBackward(da: Tensor | null, db: Tensor | null, dbias: Tensor | null, dout: Tensor, a: Tensor, b: Tensor, shape: MatmulShape): void {
    const op = 'matmulBackward';
    const { M, K, N } = shape;
    requireDims(op, { M, K, N });
    ref.matmulBackward(
      da ? t32(op, 'da', da, M * K) : null,
      db ? t32(op, 'db', db, K * N) : null,
      dbias ? t32(op, 'dbias', dbias, N) : null,
      t32(op, 'dout', dout, M * N),
      t32(op, 'a', a, M * K),
      t32(op, 'b', b, K * N),
      shape,
    );
  }

  attentionForward(out: Tensor, preatt: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'attentionForward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    const TT = B * NH * T * T;
    ref.attentionForward(t32(op, 'out', out, B * T * C), t32(op, 'preatt', preatt, TT), t32(op, 'att', att, TT), t32(op, 'qkv', qkv, B * T * 3 * C), B, T, C, NH);
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
    ref.attentionBackward(
      t32(op, 'dqkv', dqkv, B * T * 3 * C),
      t32(op, 'dpreatt', dpreatt, TT),
      t32(op, 'datt', datt, TT),
      t32(op, 'dout', dout, B * T * C),
      t32(op, 'qkv', qkv, B * T * 3 * C),
      t32(op, 'att', att, TT),
      B,
      T,
      C,
      NH,
    );
  }

  flashAttentionForward(out: Tensor, lse: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'flashAttentionForward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    ref.flashAttentionForward(t32(op, 'out', out, B * T * C), t32(op, 'lse', lse, B * NH * T), t32(op, 'qkv', qkv, B * T * 3 * C), B, T, C, NH);
  }

  flashAttentionBackward(dqkv: Tensor, dout: Tensor, qkv: Tensor, out: Tensor, lse: Tensor, B: number, T: number, C: number, NH: number): void {
    const op = 'flashAttentionBackward';
    requireDims(op, { B, T, C, NH });
    if (C % NH !== 0) throw new BackendInputError(op, `C=${C} is not a multiple of NH=${NH}`);
    ref.flashAttentionBackward(
      t32(op, 'dqkv', dqkv, B * T * 3 * C),
      t32(op, 'dout', dout, B * T * C),
      t32(op, 'qkv', qkv, B * T * 3 * C),
      t32(op, 'out', out, B * T * C),
      t32(op, 'lse', lse, B * NH * T),
      B,
      T,
      C,
      NH,
    );
  }

  geluForward(out: Tensor, inp: Tensor, N: number): void {
    requireDims('geluForward', { N });
    ref.geluForward(t32('geluForward', 'out', out, N), t32('geluForward', 'inp', inp, N), N);
  }

  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, N: number): void {
    const op = 'geluBackward';
    requireDims(op, { N });
    ref.geluBackward(t32(op, 'dinp', dinp, N), t32(op, 'inp', inp, N), t32(op, 'dout', dout, N), N);
  }

  residualForward(out: Tensor, a: Tensor, b: Tensor, N: number): void {
    const op = 'residualForward';
    requireDims(op, { N });
    ref.residualForward(t32(op, 'out', out, N), t32(op, 'a', a, N), t32(op, 'b', b, N), N);
  }

  residualBackward(da: Tensor, db: Tensor, dout: Tensor, N: number): void {
    const op = 'residualBackward';
    requireDims(op, { N });
    ref.residualBackward(t32(op, 'da', da, N), t32(op, 'db', db, N), t32(op, 'dout', dout, N), N);
  }

  softmaxCrossEntropyForward(losses: Tensor, probs: Tensor, logits: Tensor, targets: Tensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyForward';
    requireDims(op, { N, V });
    const tg = i32(op, 'targets', targets, N);
    for (let n = 0; n < N; n++) if (tg[n] >= V) throw new BackendInputError(op, `target ${tg[n]} at ${n} is outside the vocabulary of ${V}`);
    ref.softmaxCrossEntropyForward(t32(op, 'losses', losses, N), t32(op, 'probs', probs, N * V), t32(op, 'logits', logits, N * V), tg, N, V);
  }

  softmaxCrossEntropyBackward(dlogits: Tensor, dlosses: Tensor, probs: Tensor, targets: Tensor, N: number, V: number): void {
    const op = 'softmaxCrossEntropyBackward';
    requireDims(op, { N, V });
    ref.softmaxCrossEntropyBackward(
      t32(op, 'dlogits', dlogits, N * V),
      t32(op, 'dlosses', dlosses, N),
      t32(op, 'probs', probs, N * V),
      i32(op, 'targets', targets, N),
      N,
      V,
    );
  }

  async globalNormSquared(grads: Tensor, N: number): Promise<number> {
    return ref.globalNormSquared(t32('globalNormSquared', 'grads', grads, N), N);
  }

  adamwUpdate(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, N: number, opts: AdamWParams): void {
    const op = 'adamwUpdate';
    if (!(opts.step >= 1)) throw new BackendInputError(op, `step must be >= 1, got ${opts.step}`);
    ref.adamwUpdate(t32(op, 'params', params, N), t32(op, 'grads', grads, N), t32(op, 'm', m, N), t32(op, 'v', v, N), N, opts);
  }

  sgdMomentumUpdate(params: Tensor, grads: Tensor, velocity: Tensor, N: number, opts: SgdParams): void {
    const op = 'sgdMomentumUpdate';
    ref.sgdMomentumUpdate(t32(op, 'params', params, N), t32(op, 'grads', grads, N), t32(op, 'velocity', velocity, N), N, opts);
  }
}

/** The plain-TypeScript reference backend. */
export interface CpuBackendInit {
  /** The attention models on this backend use (default 'unfused'). */
  attention?: AttentionKind;
}

export function createCpuBackend(init: CpuBackendInit = {}): CpuBackend {
  return new CpuBackend(init);
}
