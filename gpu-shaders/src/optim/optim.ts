/**
 * Thin wrapper for optim.wgsl: the squared global gradient norm (two-pass reduction into a
 * one-float buffer), AdamW and SGD with momentum over flat buffers. Clipping can run on the
 * GPU with no read-back: pass `clip: { normSq, maxNorm }` (normSq from encodeGlobalNormSquared)
 * and the update multiplies the gradients by min(1, maxNorm/norm) on top of `gradScale`.
 * Reference: `globalNormSquared`, `adamwUpdate`, `sgdMomentumUpdate` (the `gradScale` there
 * is the clip factor the caller computed).
 *
 * Per-step hyperparameters (lr, bias corrections, gradScale) live in a small storage buffer
 * `hyper` (HYPER_BYTES) that the caller fills with `adamwHyper` / `sgdHyper` through
 * `queue.writeBuffer` before submitting the recorded update; a training loop therefore creates
 * no uniform or bind group per step. Queue order matters: writeBuffer takes effect before the
 * next submit, so submit earlier recorded updates that read the same `hyper` first.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, packParams } from '../kernel.ts';
import code from './optim.wgsl';

const WG = 256;
/** Size of the hyperparameter buffer of encodeAdamW / encodeSgdMomentum. */
export const HYPER_BYTES = 48;
/** Workgroups of the first norm pass (each grid-strides over the buffer). */
const NORM_PARTIALS = 256;

export interface ClipArgs {
  /** One float holding the squared global norm (from encodeGlobalNormSquared). */
  normSq: BufferArg;
  maxNorm: number;
}

/** normSq[0] = sum of grads[i]^2 over the first N elements (overwrites). */
export function encodeGlobalNormSquared(ctx: GpuContext, encoder: GPUCommandEncoder, args: { grads: BufferArg; N: number; normSq: BufferArg }): void {
  const { N } = args;
  checkDims('globalNorm', { N });
  checkBuffers('globalNorm', [
    ['grads', args.grads, N],
    ['normSq', args.normSq, 1],
  ]);
  const nPartials = Math.min(NORM_PARTIALS, Math.ceil(N / WG));
  const partial = ctx.pool.acquire(nPartials * 4, 'norm.partial');
  const params = packParams([N, nPartials]);
  encodeDispatches(ctx, encoder, 'globalNorm', [
    { kernel: 'optim', code, entryPoint: 'norm_partial', constants: { WG }, params, buffers: [args.grads, null, null, null, partial], workgroups: [nPartials] },
    { kernel: 'optim', code, entryPoint: 'norm_final', constants: { WG }, params, buffers: [null, null, null, null, partial, args.normSq], workgroups: [1] },
  ]);
  ctx.pool.release(partial);
}

export interface AdamWArgs {
  params: BufferArg;
  grads: BufferArg;
  m: BufferArg;
  v: BufferArg;
  N: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step for bias correction. */
  step: number;
  gradScale: number;
  clip?: ClipArgs;
  /** HYPER_BYTES buffer holding adamwHyper(args), written by the caller (see the header). */
  hyper: BufferArg;
}

/** The hyperparameter words of one AdamW update (write them into `hyper`). */
export function adamwHyper(a: Omit<AdamWArgs, 'params' | 'grads' | 'm' | 'v' | 'N' | 'hyper'>): Float32Array {
  const bc1 = 1 - a.beta1 ** a.step;
  const bc2 = 1 - a.beta2 ** a.step;
  return Float32Array.of(a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, bc1, bc2, a.gradScale, a.clip?.maxNorm ?? 0, 0, 0, 0);
}

/** The hyperparameter words of one SGD update (write them into `hyper`). */
export function sgdHyper(a: Omit<SgdArgs, 'params' | 'grads' | 'velocity' | 'N' | 'hyper'>): Float32Array {
  return Float32Array.of(a.lr, 0, 0, 0, a.weightDecay, 0, 0, a.gradScale, a.clip?.maxNorm ?? 0, a.momentum, 0, 0);
}

export function encodeAdamW(ctx: GpuContext, encoder: GPUCommandEncoder, a: AdamWArgs): void {
  const { N } = a;
  checkDims('adamw', { N, step: a.step });
  checkBuffers('adamw', [
    ['params', a.params, N],
    ['grads', a.grads, N],
    ['m', a.m, N],
    ['v', a.v, N],
  ]);
  checkBuffers('adamw', [['hyper', a.hyper, HYPER_BYTES / 4]]);
  const params = packParams([N]);
  encodeDispatches(ctx, encoder, 'adamw', [
    {
      kernel: 'optim',
      code,
      entryPoint: 'adamw',
      constants: { WG, CLIP: !!a.clip },
      params,
      buffers: [a.grads, a.params, a.m, a.v, null, a.clip?.normSq ?? ctx.emptyBuffer, a.hyper],
      workgroups: grid(Math.ceil(N / WG)),
    },
  ]);
}

export interface SgdArgs {
  params: BufferArg;
  grads: BufferArg;
  velocity: BufferArg;
  N: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  gradScale: number;
  clip?: ClipArgs;
  /** HYPER_BYTES buffer holding sgdHyper(args), written by the caller. */
  hyper: BufferArg;
}

export function encodeSgdMomentum(ctx: GpuContext, encoder: GPUCommandEncoder, a: SgdArgs): void {
  const { N } = a;
  checkDims('sgd', { N });
  checkBuffers('sgd', [
    ['params', a.params, N],
    ['grads', a.grads, N],
    ['velocity', a.velocity, N],
  ]);
  checkBuffers('sgd', [['hyper', a.hyper, HYPER_BYTES / 4]]);
  const params = packParams([N]);
  encodeDispatches(ctx, encoder, 'sgd', [
    {
      kernel: 'optim',
      code,
      entryPoint: 'sgd',
      constants: { WG, CLIP: !!a.clip },
      params,
      buffers: [a.grads, a.params, a.velocity, null, null, a.clip?.normSq ?? ctx.emptyBuffer, a.hyper],
      workgroups: grid(Math.ceil(N / WG)),
    },
  ]);
}
