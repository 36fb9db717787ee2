/**
 * One training step, evaluation and the shared forward+backward over micro-batches, on the
 * whole model as one stage (pipelines across peers drive GPTStage directly).
 *
 * The loss is the mean next-token cross-entropy over every position that has a target
 * (target >= 0) in all micro-batches of the step, as PyTorch's mean reduction; gradients are
 * those of that mean.
 */
import type { GPT } from '../model/gpt.ts';
import { ModelInputError } from '../model/errors.ts';
import type { Optimizer } from './optimizer.ts';

/** B sequences of T tokens and their next-token targets (negative = none), row-major. */
export interface Batch {
  B: number;
  T: number;
  tokens: Int32Array;
  targets: Int32Array;
}

function countTargets(batches: Batch[]): number {
  let n = 0;
  for (const b of batches) for (let i = 0; i < b.targets.length; i++) if (b.targets[i] >= 0) n++;
  return n;
}

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function checkBatches(batches: Batch[]): void {
  if (!batches.length) throw new ModelInputError('no micro-batches');
  const { B, T } = batches[0];
  for (const b of batches) {
    if (b.B !== B || b.T !== T) throw new ModelInputError(`micro-batches differ in shape: ${b.B}x${b.T} vs ${B}x${T}`);
  }
}

/**
 * Zeroes the gradients, then runs forward and backward over every micro-batch, accumulating
 * gradients of the mean loss. Returns the mean loss.
 */
export async function forwardBackward(model: GPT, microBatches: Batch[]): Promise<number> {
  checkBatches(microBatches);
  const { B, T } = microBatches[0];
  const stage = model.wholeModel(B, T);
  const count = countTargets(microBatches);
  if (count === 0) throw new ModelInputError('no position in the step has a target');
  model.zeroGrad();
  const losses: Promise<Float32Array>[] = [];
  for (const mb of microBatches) {
    const l = stage.forward(0, null, mb);
    losses.push(model.backend.read(l));
    stage.backward(0, null, 1 / count);
  }
  let total = 0;
  for (const l of await Promise.all(losses)) total += sum(l);
  return total / count;
}

export interface TrainStepOptions {
  /** Clip the global gradient norm to this (default 1; Infinity for none). */
  maxGradNorm?: number;
}

export interface TrainStepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
}

/** forwardBackward, global-norm clipping, one optimizer update. */
export async function trainStep(model: GPT, microBatches: Batch[], optimizer: Optimizer, { maxGradNorm = 1 }: TrainStepOptions = {}): Promise<TrainStepResult> {
  const loss = await forwardBackward(model, microBatches);
  const gradNorm = Math.sqrt(await model.backend.globalNormSquared(model.grads, model.layout.totalLength));
  const gradScale = Number.isFinite(maxGradNorm) && gradNorm > maxGradNorm ? maxGradNorm / gradNorm : 1;
  const lr = optimizer.step(model.params, model.grads, gradScale);
  await model.backend.flush();
  return { loss, gradNorm, lr };
}

/** Mean loss over the batches (forward only; gradients untouched). */
export async function evalLoss(model: GPT, batches: Batch[]): Promise<number> {
  checkBatches(batches);
  const { B, T } = batches[0];
  const stage = model.wholeModel(B, T);
  const count = countTargets(batches);
  if (count === 0) throw new ModelInputError('no position has a target');
  let total = 0;
  for (const b of batches) total += sum(await model.backend.read(stage.forward(0, null, b)));
  return total / count;
}
