/**
 * Optimizers over the model's flat parameter buffer: AdamW and SGD with momentum. Their state
 * (m, v or velocity) is a backend tensor of the same layout, so it stays on the device.
 * Gradient clipping is the caller's clip factor `gradScale` (see trainStep).
 */
import type { Backend, Tensor } from '../backend/types.ts';

export type Schedule = number | ((step: number) => number);

export interface Optimizer {
  /** Number of updates applied so far. */
  readonly stepCount: number;
  /** Applies one update to params from grads (both `length` floats) with gradients scaled by gradScale. Returns the lr used. */
  step(params: Tensor, grads: Tensor, gradScale: number): number;
  /** Frees the optimizer state. */
  dispose(): void;
}

export interface AdamWInit {
  lr: Schedule;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

function lrAt(s: Schedule, step: number): number {
  return typeof s === 'number' ? s : s(step);
}

export class AdamW implements Optimizer {
  stepCount = 0;
  private readonly m: Tensor;
  private readonly v: Tensor;
  constructor(
    private readonly backend: Backend,
    private readonly length: number,
    private readonly init: AdamWInit,
  ) {
    this.m = backend.alloc(length);
    this.v = backend.alloc(length);
  }

  step(params: Tensor, grads: Tensor, gradScale: number): number {
    this.stepCount++;
    const lr = lrAt(this.init.lr, this.stepCount);
    const { beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0 } = this.init;
    this.backend.adamwUpdate(params, grads, this.m, this.v, this.length, { lr, beta1, beta2, eps, weightDecay, step: this.stepCount, gradScale });
    return lr;
  }

  dispose(): void {
    this.backend.free(this.m);
    this.backend.free(this.v);
  }
}

export interface SgdInit {
  lr: Schedule;
  momentum?: number;
  weightDecay?: number;
}

export class SgdMomentum implements Optimizer {
  stepCount = 0;
  private readonly velocity: Tensor;
  constructor(
    private readonly backend: Backend,
    private readonly length: number,
    private readonly init: SgdInit,
  ) {
    this.velocity = backend.alloc(length);
  }

  step(params: Tensor, grads: Tensor, gradScale: number): number {
    this.stepCount++;
    const lr = lrAt(this.init.lr, this.stepCount);
    const { momentum = 0.9, weightDecay = 0 } = this.init;
    this.backend.sgdMomentumUpdate(params, grads, this.velocity, this.length, { lr, momentum, weightDecay, gradScale });
    return lr;
  }

  dispose(): void {
    this.backend.free(this.velocity);
  }
}

/** Linear warmup to `peak` over `warmup` steps, then cosine decay to `min` at `total`. */
export function warmupCosine(peak: number, warmup: number, total: number, min = peak / 10): (step: number) => number {
  return (step) => {
    if (step <= warmup) return (peak * step) / Math.max(1, warmup);
    const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * p));
  };
}
