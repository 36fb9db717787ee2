/**
 * Reference fused softmax + cross-entropy over the vocabulary (llm.c `softmax_forward`,
 * `crossentropy_forward`, `crossentropy_softmax_backward`). A negative target (e.g. -100, as
 * in PyTorch's ignore_index) marks a position without loss: its loss is 0 and it gets no
 * gradient.
 */
import type { FloatArray } from './types.ts';

// probs (N,V) = softmax(logits (N,V)); losses (N) = -log probs[n, targets[n]].
export function softmaxCrossEntropyForward(
  losses: FloatArray,
  probs: FloatArray,
  logits: FloatArray,
  targets: Int32Array,
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const r = n * V;
    let maxv = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < V; i++) if (logits[r + i] > maxv) maxv = logits[r + i];
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const e = Math.exp(logits[r + i] - maxv);
      probs[r + i] = e;
      sum += e;
    }
    for (let i = 0; i < V; i++) probs[r + i] /= sum;
    const tgt = targets[n];
    // -log p computed from the logits (log-sum-exp), so a tiny probability does not give Infinity
    losses[n] = tgt < 0 ? 0 : Math.log(sum) + maxv - logits[r + tgt];
  }
}

// Accumulates (+=) into dlogits (N,V): dlogits[n,i] += (probs[n,i] - [i == targets[n]]) * dlosses[n].
export function softmaxCrossEntropyBackward(
  dlogits: FloatArray,
  dlosses: FloatArray,
  probs: FloatArray,
  targets: Int32Array,
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const tgt = targets[n];
    if (tgt < 0) continue;
    const r = n * V;
    const dl = dlosses[n];
    for (let i = 0; i < V; i++) {
      const indicator = i === tgt ? 1 : 0;
      dlogits[r + i] += (probs[r + i] - indicator) * dl;
    }
  }
}
