/**
 * Training on the cpu backend: the tiny recipe (1 block, width 16, char level) on the first
 * 300k characters of Moby Dick brings held-out loss clearly below the unigram baseline computed
 * from the data, within 100 steps. Also: trainStep lowers the loss on a fixed batch with both
 * optimizers, evalLoss leaves gradients alone, and generate is deterministic and honours top-k.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/backend/index.ts';
import { TokenDataset } from '../../src/data/index.ts';
import { loadCorpusText } from '../../src/data/node.ts';
import { GPT, type GPTConfig, ModelInputError } from '../../src/model/index.ts';
import { allclose, mulberry32 } from '../../src/ops/reference/index.ts';
import { CharTokenizer } from '../../src/tokenizer/index.ts';
import { AdamW, evalLoss, forwardBackward, generate, runTinyTraining, sampleLogits, SgdMomentum, trainStep } from '../../src/train/index.ts';

describe('training on the cpu backend', () => {
  it('held-out loss goes clearly below the unigram baseline (Moby Dick, char level)', async () => {
    const text = loadCorpusText('moby-dick', { maxChars: 300_000 });
    const ds = TokenDataset.fromText(text, CharTokenizer.fromText(text));
    const r = await runTinyTraining(createCpuBackend(), ds);
    console.log(
      `cpu tiny training: unigram ${r.unigram.toFixed(3)}, held-out ${r.heldOutBefore.toFixed(3)} -> ${r.heldOutAfter.toFixed(3)} in ${r.steps} steps, ${r.seconds.toFixed(1)} s (${r.tokensPerSecond.toFixed(0)} tokens/s)`,
    );
    // at init the model is near uniform over the vocabulary: ln(V) > unigram
    expect(r.heldOutBefore).toBeGreaterThan(r.unigram);
    expect(r.heldOutAfter).toBeLessThan(r.unigram - 0.25);
  });

  const config: GPTConfig = { vocabSize: 17, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 16 };
  const rng = mulberry32(3);
  const batch = {
    B: 2,
    T: 8,
    tokens: new Int32Array(16).map(() => Math.floor(rng() * 17)),
    targets: new Int32Array(16).map(() => Math.floor(rng() * 17)),
  };

  for (const kind of ['adamw', 'sgd'] as const) {
    it(`${kind}: repeated steps on one batch drive its loss down`, async () => {
      const be = createCpuBackend();
      const model = new GPT(be, config, { seed: 2 });
      const opt = kind === 'adamw' ? new AdamW(be, model.layout.totalLength, { lr: 1e-2 }) : new SgdMomentum(be, model.layout.totalLength, { lr: 0.5, momentum: 0.9 });
      const first = (await trainStep(model, [batch], opt)).loss;
      let last = first;
      for (let i = 0; i < 30; i++) last = (await trainStep(model, [batch], opt)).loss;
      expect(last).toBeLessThan(first * 0.7);
      expect(opt.stepCount).toBe(31);
    });
  }

  it('two micro-batches give the loss and gradients of one batch holding both', async () => {
    const r2 = mulberry32(8);
    const ids = () => new Int32Array(16).map(() => Math.floor(r2() * 17));
    const a = { B: 2, T: 8, tokens: ids(), targets: ids() };
    const b = { B: 2, T: 8, tokens: ids(), targets: ids() };
    b.targets[5] = -1;
    const both = { B: 4, T: 8, tokens: Int32Array.of(...a.tokens, ...b.tokens), targets: Int32Array.of(...a.targets, ...b.targets) };
    const m1 = new GPT(createCpuBackend(), config, { seed: 6 });
    const m2 = new GPT(createCpuBackend(), config, { seed: 6 });
    const l1 = await forwardBackward(m1, [a, b]);
    const l2 = await forwardBackward(m2, [both]);
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-6);
    const r = allclose(await m1.getGrads(), await m2.getGrads(), { atol: 1e-7, rtol: 1e-5 });
    expect(r.ok, r.message).toBe(true);
  });

  it('gradient clipping caps the update norm; evalLoss does not touch gradients', async () => {
    const be = createCpuBackend();
    const model = new GPT(be, config, { seed: 2 });
    const before = await model.getParams();
    const opt = new SgdMomentum(be, model.layout.totalLength, { lr: 1, momentum: 0 });
    const r = await trainStep(model, [batch], opt, { maxGradNorm: 1e-3 });
    expect(r.gradNorm).toBeGreaterThan(1e-3);
    const after = await model.getParams();
    let sq = 0;
    for (let i = 0; i < after.length; i++) sq += (after[i] - before[i]) ** 2;
    expect(Math.sqrt(sq)).toBeCloseTo(1e-3, 5);
    const g = await model.getGrads();
    await evalLoss(model, [batch]);
    expect(Array.from(await model.getGrads())).toEqual(Array.from(g));
  });

  it('generate: deterministic per seed, greedy = argmax, top-k=1 = greedy', async () => {
    const be = createCpuBackend();
    const model = new GPT(be, config, { seed: 4 });
    const a = await generate(model, [1, 2, 3], { maxNewTokens: 10, seed: 9 });
    const b = await generate(model, [1, 2, 3], { maxNewTokens: 10, seed: 9 });
    expect(a).toEqual(b);
    expect(a.length).toBe(13);
    expect(a.slice(0, 3)).toEqual([1, 2, 3]);
    expect(a.every((t) => t >= 0 && t < 17)).toBe(true);
    const greedy = await generate(model, [1, 2, 3], { maxNewTokens: 10, temperature: 0 });
    const top1 = await generate(model, [1, 2, 3], { maxNewTokens: 10, topK: 1, seed: 5 });
    expect(top1).toEqual(greedy);
    // the padded window does not change the current position's logits (causal attention)
    const exact = model.wholeModel(1, 3);
    exact.forward(0, null, { tokens: Int32Array.of(1, 2, 3) });
    const row = (await be.read(exact.logits(0))).subarray(2 * 17, 3 * 17);
    expect(greedy[3]).toBe(row.indexOf(Math.max(...row)));
    await expect(generate(model, [], { maxNewTokens: 1 })).rejects.toThrow(ModelInputError);
    await expect(generate(model, [99], { maxNewTokens: 1 })).rejects.toThrow(/outside/);
  });

  it('sampleLogits follows the softmax with temperature and top-k', () => {
    const logits = [0, Math.log(2), Math.log(7), -50];
    const rand = mulberry32(11);
    const n = 20000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleLogits(logits, 1, undefined, rand)]++;
    expect(counts[0] / n).toBeCloseTo(0.1, 1);
    expect(counts[2] / n).toBeCloseTo(0.7, 1);
    const top2 = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) top2[sampleLogits(logits, 1, 2, rand)]++;
    expect(top2[0]).toBe(0);
    expect(top2[1] / n).toBeCloseTo(2 / 9, 1);
  });
});
