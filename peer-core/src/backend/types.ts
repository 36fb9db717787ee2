/**
 * The `Backend` interface: the one connector the model, training and every later feature
 * compute through (jax-js style: each backend — `cpu`, `wasm`, `webgpu` — is a connector that
 * implements the same op set). It is op-level on purpose: tensors are opaque handles that
 * live wherever the backend keeps them (GPU buffers for `webgpu`), and only `read` brings data
 * back to JavaScript, so a training step can run without leaving the device.
 *
 * Every op has the same name and argument order as its CPU reference in
 * `peer-core/src/ops/reference` (tensors instead of arrays); that reference is its
 * specification. Forward ops overwrite their outputs; backward ops accumulate (+=) into
 * their gradient outputs. Ops are enqueued in call order and may run later: `flush()`
 * submits what is queued, `sync()` waits until all of it has finished, and `read()` sees the
 * result of every op enqueued before it.
 *
 * This file is NOT an implementation: see `cpu/` (reference), `wasm/` and `webgpu/`.
 * Stability: additive changes only — other backends implement this interface.
 */
import type { AdamWParams, MatmulShape, SgdParams } from '../ops/reference/index.ts';

export type { AdamWParams, MatmulShape, SgdParams };

export type DType = 'f32' | 'i32';

export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/**
 * Which attention the model runs on a backend. `unfused`: attentionForward/Backward, which
 * keep the scores and probabilities, preatt and att (B,NH,T,T), between forward and backward.
 * `fused`: flashAttentionForward/Backward, which keep only the per-row logsumexp lse
 * (B,NH,T) and recompute the probabilities in backward (the memory of the (B,NH,T,T)
 * tensors is never allocated). Same function, same gradients up to rounding.
 */
export type AttentionKind = 'fused' | 'unfused';

/**
 * Offsets of views into one allocation that a GPU backend binds directly must be multiples
 * of this many elements: 64 × 4 bytes = 256 bytes, WebGPU's default
 * `minStorageBufferOffsetAlignment`. The flat parameter layout and the activation arenas
 * align every named view to it.
 */
export const VIEW_ALIGN_ELEMENTS = 64;

/**
 * An opaque handle to `length` elements of `dtype` owned by one backend. A backend only
 * accepts its own tensors. A view (from `view`) shares storage with its root allocation.
 */
export interface Tensor {
  readonly backend: BackendName;
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  /** Offset in elements into the root allocation (0 for a root tensor). */
  readonly offset: number;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * The attention a model built on this backend uses (GPTStage reads it when it allocates
   * its activations; stages built earlier keep theirs). Every backend implements both kinds;
   * this picks one, and may be set to A/B them.
   */
  attention: AttentionKind;
  /**
   * How a model stage lays out its activations and scratch: 'one' allocation carved into
   * views (default when absent), or 'separate' allocations, one per tensor. The webgpu backend
   * takes 'separate': an op whose input and output are views of one GPU buffer must bind the
   * input read_write or copy it first, and either costs time.
   */
  readonly activationLayout?: 'one' | 'separate';

  // ---- memory ----------------------------------------------------------------------------
  /** A new zero-filled tensor of `length` elements. */
  alloc(length: number, dtype?: DType): Tensor;
  /**
   * A view of `length` elements starting `offset` elements into `tensor` (offset relative to
   * `tensor`, which may itself be a view). Shares storage. Backends that bind views by offset
   * may require the absolute offset to be a multiple of VIEW_ALIGN_ELEMENTS and throw
   * BackendInputError otherwise; `cpu` and `wasm` accept any offset.
   */
  view(tensor: Tensor, offset: number, length: number): Tensor;
  /** Copies `data` into `tensor` starting at element `offset` (default 0). Enqueued in order. */
  write(tensor: Tensor, data: Float32Array | Int32Array, offset?: number): void;
  /** The contents of an f32 tensor after every op enqueued before this call. */
  read(tensor: Tensor): Promise<Float32Array>;
  /** The contents of an i32 tensor after every op enqueued before this call. */
  readI32(tensor: Tensor): Promise<Int32Array>;
  /** Releases a root tensor (a no-op on views). Using it afterwards is an error. */
  free(tensor: Tensor): void;
  /** tensor = 0 */
  zero(tensor: Tensor): void;
  /** tensor = value (f32) */
  fill(tensor: Tensor, value: number): void;
  /** dst = src (same length and dtype; they must not overlap). */
  copy(dst: Tensor, src: Tensor): void;

  // ---- scheduling ------------------------------------------------------------------------
  /** Submits the queued work (a GPU backend ends its command buffer here). */
  flush(): Promise<void>;
  /** Submits the queued work and waits until it has finished. */
  sync(): Promise<void>;
  /** Releases everything the backend holds (device, pools). */
  dispose(): void;

  // ---- ops: same names and argument order as ops/reference ---------------------------------
  // out (B,T,C) = wte[inp] + wpe[t];  inp i32 (B,T)
  encoderForward(out: Tensor, inp: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void;
  encoderBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, inp: Tensor, B: number, T: number, C: number): void;

  layernormForward(
    out: Tensor,
    mean: Tensor,
    rstd: Tensor,
    inp: Tensor,
    weight: Tensor,
    bias: Tensor,
    N: number,
    C: number,
  ): void;
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
  ): void;

  // out (M,N) = A·B + bias; when accumulate, out += A·B (+ bias).
  matmulForward(out: Tensor, a: Tensor, b: Tensor, bias: Tensor | null, shape: MatmulShape, accumulate?: boolean): void;
  matmulBackward(
    da: Tensor | null,
    db: Tensor | null,
    dbias: Tensor | null,
    dout: Tensor,
    a: Tensor,
    b: Tensor,
    shape: MatmulShape,
  ): void;

  // qkv (B,T,3C) -> out (B,T,C); preatt, att (B,NH,T,T)
  attentionForward(
    out: Tensor,
    preatt: Tensor,
    att: Tensor,
    qkv: Tensor,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void;
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
  ): void;

  // Fused (flash) attention: qkv (B,T,3C) -> out (B,T,C), lse (B,NH,T) = per-row logsumexp of
  // the scaled scores; backward accumulates (+=) into dqkv from dout and the forward's out, lse.
  flashAttentionForward(out: Tensor, lse: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void;
  flashAttentionBackward(
    dqkv: Tensor,
    dout: Tensor,
    qkv: Tensor,
    out: Tensor,
    lse: Tensor,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void;

  geluForward(out: Tensor, inp: Tensor, N: number): void;
  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, N: number): void;

  residualForward(out: Tensor, a: Tensor, b: Tensor, N: number): void;
  residualBackward(da: Tensor, db: Tensor, dout: Tensor, N: number): void;

  // losses (N), probs (N,V) from logits (N,V), targets i32 (N); negative target = no loss
  softmaxCrossEntropyForward(losses: Tensor, probs: Tensor, logits: Tensor, targets: Tensor, N: number, V: number): void;
  softmaxCrossEntropyBackward(dlogits: Tensor, dlosses: Tensor, probs: Tensor, targets: Tensor, N: number, V: number): void;

  /** sum of grads[i]^2 over the first N elements, after every op enqueued before it. */
  globalNormSquared(grads: Tensor, N: number): Promise<number>;
  adamwUpdate(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, N: number, opts: AdamWParams): void;
  sgdMomentumUpdate(params: Tensor, grads: Tensor, velocity: Tensor, N: number, opts: SgdParams): void;
}
