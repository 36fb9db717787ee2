/**
 * Thin wrapper for crossentropy.wgsl: fused softmax + cross-entropy forward (losses, probs)
 * and its backward into dlogits (accumulating). Targets are i32; negative = ignored.
 * Reference: `softmaxCrossEntropyForward` / `softmaxCrossEntropyBackward`.
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { checkBuffers, checkDims, encodeDispatches, grid, MAX_WORKGROUPS_PER_DIM, packParams } from '../kernel.ts';
import code from './crossentropy.wgsl';

export interface CrossEntropyForwardArgs {
  losses: BufferArg;
  probs: BufferArg;
  logits: BufferArg;
  targets: BufferArg;
  N: number;
  V: number;
}

export function encodeCrossEntropyForward(ctx: GpuContext, encoder: GPUCommandEncoder, args: CrossEntropyForwardArgs): void {
  const { N, V } = args;
  checkDims('crossEntropy', { N, V });
  checkBuffers('crossEntropy', [
    ['losses', args.losses, N],
    ['probs', args.probs, N * V],
    ['logits', args.logits, N * V],
    ['targets', args.targets, N],
  ]);
  encodeDispatches(ctx, encoder, 'crossEntropy', [
    {
      kernel: 'crossentropy',
      code,
      entryPoint: 'forward',
      constants: { WG: V >= 1024 ? 256 : 64 },
      params: packParams([N, V]),
      buffers: [args.targets, args.logits, args.probs, args.losses],
      workgroups: grid(N),
    },
  ]);
}

export interface CrossEntropyBackwardArgs {
  dlogits: BufferArg;
  dlosses: BufferArg;
  probs: BufferArg;
  targets: BufferArg;
  N: number;
  V: number;
}

export function encodeCrossEntropyBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: CrossEntropyBackwardArgs): void {
  const { N, V } = args;
  checkDims('crossEntropyBackward', { N, V });
  checkBuffers('crossEntropyBackward', [
    ['dlogits', args.dlogits, N * V],
    ['dlosses', args.dlosses, N],
    ['probs', args.probs, N * V],
    ['targets', args.targets, N],
  ]);
  const rowsY = Math.min(N, MAX_WORKGROUPS_PER_DIM);
  encodeDispatches(ctx, encoder, 'crossEntropyBackward', [
    {
      kernel: 'crossentropy',
      code,
      entryPoint: 'backward',
      params: packParams([N, V]),
      buffers: [args.targets, args.probs, args.dlogits, null, args.dlosses],
      workgroups: [Math.ceil(V / 256), rowsY, Math.ceil(N / MAX_WORKGROUPS_PER_DIM)],
    },
  ]);
}
