/**
 * Thin wrapper for attention.wgsl: causal multi-head attention, unfused, forward and backward
 * (accumulating into dqkv, dpreatt, datt as the reference does). Head size hs = C/NH <= 256.
 * Reference: `attentionForward` / `attentionBackward` in @swarmgrad/peer-core/reference.
 *
 * Two implementations, same results:
 *  - `matmul` (default): the products (q·kᵀ, att·v and the four backward products) as
 *    batched, strided matmuls (one product per head, encodeMatmul with `batch`) and the causal
 *    softmax and its backward as row kernels. Scores are computed for the full T×T square
 *    with the causal shortcuts of the matmul (tiles above the diagonal skipped, K ranges cut
 *    to where the probabilities can be non-zero).
 *  - `rows`: one workgroup per query row (and per key row in backward); plain loops.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import { encodeMatmul } from '../matmul/matmul.ts';
import code from './attention.wgsl';

export type AttentionImpl = 'matmul' | 'rows';

const WG = 64;
const MAX_HS = 256;

function bufferOf(b: BufferArg): GPUBuffer {
  return 'mapState' in b ? b : b.buffer;
}

/** Per-head operand placements for batched matmuls over z = b*NH + h. */
function heads(B: number, T: number, C: number, NH: number) {
  const hs = C / NH;
  const C3 = 3 * C;
  return {
    count: B * NH,
    inner: NH,
    q: { off: 0, outer: T * C3, innerStride: hs },
    k: { off: C, outer: T * C3, innerStride: hs },
    v: { off: 2 * C, outer: T * C3, innerStride: hs },
    /** (B,T,C) activations (out, dout): head h at channels h*hs.. */
    o: { off: 0, outer: T * C, innerStride: hs },
    /** (B,NH,T,T) score matrices */
    tt: { off: 0, outer: NH * T * T, innerStride: T * T },
  };
}

function checkHeads(kernel: string, C: number, NH: number): number {
  if (C % NH !== 0) throw new KernelInputError(kernel, `C=${C} is not a multiple of NH=${NH}`);
  const hs = C / NH;
  if (hs > MAX_HS) throw new KernelInputError(kernel, `head size ${hs} exceeds ${MAX_HS}`);
  return hs;
}

export interface AttentionForwardArgs {
  out: BufferArg;
  preatt: BufferArg;
  att: BufferArg;
  qkv: BufferArg;
  B: number;
  T: number;
  C: number;
  NH: number;
  impl?: AttentionImpl;
}

export function encodeAttentionForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: AttentionForwardArgs): void {
  const { B, T, C, NH } = args;
  checkDims('attention', { B, T, C, NH });
  const hs = checkHeads('attention', C, NH);
  checkBuffers('attention', [
    ['out', args.out, B * T * C],
    ['preatt', args.preatt, B * NH * T * T],
    ['att', args.att, B * NH * T * T],
    ['qkv', args.qkv, B * T * 3 * C],
  ]);
  if ((args.impl ?? 'matmul') === 'matmul') {
    const hd = heads(B, T, C, NH);
    // q and k come from the same tensor. When the scores land in the same buffer (views of one
    // arena), the matmul must bind everything read_write, and two read_write bindings of one
    // range are rejected as aliasing: read k from a pooled copy of qkv instead.
    let kSrc: BufferArg = args.qkv;
    let copy: GPUBuffer | null = null;
    const qkvBuf = bufferOf(args.qkv);
    if (qkvBuf === bufferOf(args.preatt) || qkvBuf === bufferOf(args.att)) {
      const bytes = B * T * 3 * C * 4;
      copy = ctx.pool.acquire(bytes, 'attention.qkv');
      encoder.copyBufferToBuffer(qkvBuf, 'mapState' in args.qkv ? 0 : (args.qkv.offset ?? 0), copy, 0, bytes);
      kSrc = copy;
    }
    // preatt (per head, T×T) = scale · q·kᵀ
    encodeMatmul(ctx, encoder, { M: T, K: hs, N: T, a: args.qkv, lda: 3 * C, b: kSrc, transB: true, ldb: 3 * C, out: args.preatt, ldo: T, alpha: 1 / Math.sqrt(hs), causal: 'skipUpper', batch: { ...hd, a: hd.q, b: hd.k, out: hd.tt } });
    if (copy) ctx.pool.release(copy);
    encodeDispatches(ctx, encoder, 'attention', [
      { kernel: 'attention', code, entryPoint: 'softmax_rows', constants: { WG: 256 }, params: packParams([B, T, C, NH, hs]), buffers: [null, null, args.preatt, args.att], workgroups: grid(B * NH * T) },
    ]);
    // out (per head, T×hs, rows C apart) = att · v
    encodeMatmul(ctx, encoder, { M: T, K: T, N: hs, a: args.att, lda: T, b: args.qkv, ldb: 3 * C, out: args.out, ldo: C, causal: 'kToRow', batch: { ...hd, a: hd.tt, b: hd.v, out: hd.o } });
    return;
  }
  encodeDispatches(ctx, encoder, 'attention', [
    {
      kernel: 'attention',
      code,
      entryPoint: 'forward',
      constants: { WG },
      params: packParams([B, T, C, NH, hs]),
      buffers: [args.qkv, args.out, args.preatt, args.att],
      workgroups: grid(B * NH * T),
    },
  ]);
}

export interface AttentionBackwardArgs {
  dqkv: BufferArg;
  dpreatt: BufferArg;
  datt: BufferArg;
  dout: BufferArg;
  qkv: BufferArg;
  att: BufferArg;
  B: number;
  T: number;
  C: number;
  NH: number;
  impl?: AttentionImpl;
}

export function encodeAttentionBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: AttentionBackwardArgs): void {
  const { B, T, C, NH } = args;
  checkDims('attentionBackward', { B, T, C, NH });
  const hs = checkHeads('attentionBackward', C, NH);
  checkBuffers('attentionBackward', [
    ['dqkv', args.dqkv, B * T * 3 * C],
    ['dpreatt', args.dpreatt, B * NH * T * T],
    ['datt', args.datt, B * NH * T * T],
    ['dout', args.dout, B * T * C],
    ['qkv', args.qkv, B * T * 3 * C],
    ['att', args.att, B * NH * T * T],
  ]);
  const params = packParams([B, T, C, NH, hs]);
  if ((args.impl ?? 'matmul') === 'matmul') {
    const hd = heads(B, T, C, NH);
    const scale = 1 / Math.sqrt(hs);
    const tmp = ctx.pool.acquire(B * NH * T * T * 4, 'attention.tmp');
    // tmp (per head, T×T) = dout·vᵀ; then the softmax backward rows
    encodeMatmul(ctx, encoder, { M: T, K: hs, N: T, a: args.dout, lda: C, b: args.qkv, transB: true, ldb: 3 * C, out: tmp, ldo: T, causal: 'skipUpper', batch: { ...hd, a: hd.o, b: hd.v, out: hd.tt } });
    encodeDispatches(ctx, encoder, 'attentionBackward', [
      {
        kernel: 'attention',
        code,
        entryPoint: 'softmax_bwd_rows',
        constants: { WG: 256 },
        params,
        buffers: [null, null, args.dpreatt, args.att, args.datt, null, null, tmp],
        workgroups: grid(B * NH * T),
      },
    ]);
    ctx.pool.release(tmp);
    // dq += scale · dpreatt·k;  dk += scale · dpreattᵀ·q;  dv += attᵀ·dout
    encodeMatmul(ctx, encoder, { M: T, K: T, N: hs, a: args.dpreatt, lda: T, b: args.qkv, ldb: 3 * C, out: args.dqkv, ldo: 3 * C, alpha: scale, accumulate: true, causal: 'kToRow', batch: { ...hd, a: hd.tt, b: hd.k, out: hd.q } });
    encodeMatmul(ctx, encoder, { M: T, K: T, N: hs, a: args.dpreatt, transA: true, lda: T, b: args.qkv, ldb: 3 * C, out: args.dqkv, ldo: 3 * C, alpha: scale, accumulate: true, causal: 'kFromRow', batch: { ...hd, a: hd.tt, b: hd.q, out: hd.k } });
    encodeMatmul(ctx, encoder, { M: T, K: T, N: hs, a: args.att, transA: true, lda: T, b: args.dout, ldb: C, out: args.dqkv, ldo: 3 * C, accumulate: true, causal: 'kFromRow', batch: { ...hd, a: hd.tt, b: hd.o, out: hd.v } });
    return;
  }
  encodeDispatches(ctx, encoder, 'attentionBackward', [
    {
      kernel: 'attention',
      code,
      entryPoint: 'backward_q',
      constants: { WG },
      params,
      buffers: [args.qkv, null, args.dpreatt, args.att, args.datt, args.dout, args.dqkv],
      workgroups: grid(B * NH * T),
    },
    {
      kernel: 'attention',
      code,
      entryPoint: 'backward_kv',
      constants: { WG },
      params,
      buffers: [args.qkv, null, args.dpreatt, args.att, null, args.dout, args.dqkv],
      workgroups: grid(B * NH * T),
    },
  ]);
}
