/**
 * The tiny training recipe every backend's training test runs: a 1-block, 16-wide char-level
 * GPT on a bundled corpus, AdamW, a bounded number of steps; it reports held-out loss before
 * and after beside the unigram baseline the dataset computes. Backend-agnostic, so the cpu,
 * wasm and webgpu tests (and the browser) run the same recipe.
 */
import type { Backend } from '../backend/types.ts';
import type { TokenDataset } from '../data/dataset.ts';
import { GPT } from '../model/gpt.ts';
import type { GPTConfig } from '../model/config.ts';
import { mulberry32 } from '../util/random.ts';
import { AdamW } from './optimizer.ts';
import { evalLoss, trainStep } from './train.ts';

export interface TinyRecipe {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  B: number;
  T: number;
  steps: number;
  lr: number;
  evalBatches: number;
  seed: number;
}

export const TINY_RECIPE: TinyRecipe = { nLayer: 1, nHead: 2, nEmbd: 16, B: 32, T: 32, steps: 100, lr: 1e-2, evalBatches: 4, seed: 1 };

export interface TinyRunReport {
  config: GPTConfig;
  unigram: number;
  heldOutBefore: number;
  heldOutAfter: number;
  lastTrainLoss: number;
  steps: number;
  seconds: number;
  tokensPerSecond: number;
}

export async function runTinyTraining(backend: Backend, ds: TokenDataset, recipe: Partial<TinyRecipe> = {}): Promise<TinyRunReport> {
  const r = { ...TINY_RECIPE, ...recipe };
  const config: GPTConfig = { vocabSize: ds.vocabSize, contextLength: r.T, nLayer: r.nLayer, nHead: r.nHead, nEmbd: r.nEmbd };
  const model = new GPT(backend, config, { seed: r.seed });
  const opt = new AdamW(backend, model.layout.totalLength, { lr: r.lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const heldOut = ds.evalBatches('heldOut', r.B, r.T, r.evalBatches);
  const heldOutBefore = await evalLoss(model, heldOut);
  const rand = mulberry32(r.seed + 1);
  const t0 = performance.now();
  let lastTrainLoss = Number.NaN;
  for (let s = 0; s < r.steps; s++) lastTrainLoss = (await trainStep(model, [ds.sampleBatch('train', r.B, r.T, rand)], opt)).loss;
  await backend.sync();
  const seconds = (performance.now() - t0) / 1000;
  const heldOutAfter = await evalLoss(model, heldOut);
  opt.dispose();
  model.dispose();
  return {
    config,
    unigram: ds.unigramHeldOutLoss(),
    heldOutBefore,
    heldOutAfter,
    lastTrainLoss,
    steps: r.steps,
    seconds,
    tokensPerSecond: (r.steps * r.B * r.T) / seconds,
  };
}
