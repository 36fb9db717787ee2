/**
 * Autoregressive sampling with temperature and top-k. Runs the whole model on a window of the
 * last `contextLength` tokens (padded with token 0 on the right: causal attention means
 * positions after the current one do not change its logits), samples from the logits of the
 * current position, appends, repeats. Deterministic for a given seed.
 */
import type { GPT } from '../model/gpt.ts';
import { ModelInputError } from '../model/errors.ts';
import { mulberry32 } from '../util/random.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Softmax temperature (default 1); 0 means greedy (argmax). */
  temperature?: number;
  /** Sample only among the k most likely tokens (default: all). */
  topK?: number;
  seed?: number;
}

/** Samples one token id from logits (V) with temperature/top-k; `rand` returns [0,1). */
export function sampleLogits(logits: ArrayLike<number>, temperature: number, topK: number | undefined, rand: () => number): number {
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let ids = Array.from({ length: V }, (_, i) => i);
  if (topK !== undefined && topK < V) {
    ids.sort((a, b) => logits[b] - logits[a]);
    ids = ids.slice(0, Math.max(1, topK));
  }
  let maxv = Number.NEGATIVE_INFINITY;
  for (const i of ids) maxv = Math.max(maxv, logits[i] / temperature);
  const w = ids.map((i) => Math.exp(logits[i] / temperature - maxv));
  const total = w.reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (let j = 0; j < ids.length; j++) {
    r -= w[j];
    if (r < 0) return ids[j];
  }
  return ids[ids.length - 1];
}

/** Returns prompt + up to maxNewTokens sampled ids. */
export async function generate(model: GPT, prompt: ArrayLike<number>, { maxNewTokens, temperature = 1, topK, seed = 0 }: GenerateOptions): Promise<number[]> {
  const { contextLength: maxT, vocabSize: V } = model.config;
  if (prompt.length === 0) throw new ModelInputError('generate needs a non-empty prompt');
  if (!(temperature >= 0)) throw new ModelInputError(`temperature must be >= 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK > 0)) throw new ModelInputError(`topK must be a positive integer, got ${topK}`);
  const out = Array.from(prompt, Number);
  for (const t of out) if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new ModelInputError(`prompt token ${t} is outside [0, ${V})`);
  // window length rounded up to a power of two (capped at the context), so repeated calls reuse
  // a few cached whole-model stages instead of one per prompt length
  let T = 1;
  while (T < Math.min(maxT, out.length + maxNewTokens)) T *= 2;
  T = Math.min(T, maxT);
  const stage = model.wholeModel(1, T);
  const rand = mulberry32(seed);
  const tokens = new Int32Array(T);
  for (let n = 0; n < maxNewTokens; n++) {
    const window = out.slice(-T);
    tokens.fill(0);
    tokens.set(window);
    const pos = window.length - 1;
    stage.forward(0, null, { tokens });
    const logits = await model.backend.read(stage.logits(0));
    out.push(sampleLogits(logits.subarray(pos * V, (pos + 1) * V), temperature, topK, rand));
  }
  return out;
}
