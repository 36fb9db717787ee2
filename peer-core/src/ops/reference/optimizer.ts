/**
 * Reference optimizers over flat buffers: the squared global gradient norm (for clipping),
 * AdamW (llm.c `gpt2_update`, decoupled weight decay) and SGD with momentum (PyTorch
 * convention). Gradient clipping enters as `gradScale`: the caller computes
 * min(1, maxNorm / sqrt(globalNormSquared)) and every gradient is multiplied by it.
 */
import type { FloatArray } from './types.ts';

export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number for bias correction. */
  step: number;
  /** Multiplies every gradient before the update (clip factor; 1 for none). */
  gradScale: number;
}

export interface SgdParams {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Multiplies every gradient before the update (clip factor; 1 for none). */
  gradScale: number;
}

// sum_i grads[i]^2 over N elements (accumulated in float64).
export function globalNormSquared(grads: FloatArray, N: number): number {
  let s = 0;
  for (let i = 0; i < N; i++) s += grads[i] * grads[i];
  return s;
}

// In place on params, m, v (each N):
//   g = grads*gradScale;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   params -= lr * ( (m/(1-b1^step)) / (sqrt(v/(1-b2^step)) + eps) + weightDecay * params )
export function adamwUpdate(
  params: FloatArray,
  grads: FloatArray,
  m: FloatArray,
  v: FloatArray,
  N: number,
  { lr, beta1, beta2, eps, weightDecay, step, gradScale }: AdamWParams,
): void {
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  for (let i = 0; i < N; i++) {
    const g = grads[i] * gradScale;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const mhat = mi / bc1;
    const vhat = vi / bc2;
    params[i] -= lr * (mhat / (Math.sqrt(vhat) + eps) + weightDecay * params[i]);
  }
}

// In place on params and velocity (each N):
//   g = grads*gradScale + weightDecay*params;  velocity = momentum*velocity + g;  params -= lr*velocity
export function sgdMomentumUpdate(
  params: FloatArray,
  grads: FloatArray,
  velocity: FloatArray,
  N: number,
  { lr, momentum, weightDecay, gradScale }: SgdParams,
): void {
  for (let i = 0; i < N; i++) {
    const g = grads[i] * gradScale + weightDecay * params[i];
    const vel = momentum * velocity[i] + g;
    velocity[i] = vel;
    params[i] -= lr * vel;
  }
}
