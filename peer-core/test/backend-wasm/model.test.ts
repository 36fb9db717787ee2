/**
 * The whole GPT on the `wasm` backend computes the same loss and parameter gradients as on the
 * `cpu` reference backend (same config, same seed, same batch, fresh every run), and so does
 * the model split into 3 pipeline stages; AdamW steps keep the two in step.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/backend/index.ts';
import { createWasmBackendSync } from '../../src/backend/wasm/index.ts';
import { GPT, type GPTConfig } from '../../src/model/index.ts';
import { allclose, freshSeed, mulberry32 } from '../../src/ops/reference/index.ts';
import { AdamW, forwardBackward, trainStep } from '../../src/train/index.ts';

// awkward sizes: V and C not multiples of 4 or 8, T not a power of two, hs = 5
const config: GPTConfig = { vocabSize: 29, contextLength: 11, nLayer: 3, nHead: 2, nEmbd: 10 };

function batch(seed: number, B: number, T: number) {
  const rng = mulberry32(seed);
  const tokens = new Int32Array(B * T).map(() => Math.floor(rng() * config.vocabSize));
  const targets = new Int32Array(B * T).map(() => Math.floor(rng() * config.vocabSize));
  targets[2] = -1; // a position without a target
  return { B, T, tokens, targets };
}

describe('GPT on the wasm backend vs the cpu backend', () => {
  it('same loss and gradients for one step over two micro-batches', async () => {
    const seed = freshSeed();
    const mbs = [batch(seed, 3, 11), batch(seed + 1, 3, 11)];
    const cpu = new GPT(createCpuBackend(), config, { seed });
    const wasm = new GPT(createWasmBackendSync(), config, { seed });
    const lossCpu = await forwardBackward(cpu, mbs);
    const lossWasm = await forwardBackward(wasm, mbs);
    expect(Math.abs(lossWasm - lossCpu), `seed ${seed}: loss ${lossWasm} vs ${lossCpu}`).toBeLessThanOrEqual(1e-5 * Math.abs(lossCpu));
    const [gc, gw] = [await cpu.getGrads(), await wasm.getGrads()];
    const rep = allclose(gw, gc, { atol: 1e-6, rtol: 1e-3 });
    expect(rep.ok, `seed ${seed} grads: ${rep.message}`).toBe(true);
    // the gradients are not trivially zero
    expect(gc.some((x) => Math.abs(x) > 1e-4)).toBe(true);
  });

  it('a model split into 3 stages gives the whole model`s loss and gradients', async () => {
    const seed = freshSeed();
    const mb = batch(seed, 2, 7);
    const whole = new GPT(createWasmBackendSync(), config, { seed });
    const loss = await forwardBackward(whole, [mb]);
    const m = new GPT(createWasmBackendSync(), config, { seed });
    const be = m.backend;
    const stages = m.split([1, 2], 2, 7);
    m.zeroGrad();
    let x = null;
    for (const s of stages) x = s.forward(0, x, mb);
    const losses = await be.read(x!);
    const count = mb.targets.filter((t) => t >= 0).length;
    let g = null;
    for (let i = stages.length - 1; i >= 0; i--) g = stages[i]!.backward(0, g, 1 / count);
    const splitLoss = losses.reduce((a, b) => a + b, 0) / count;
    expect(Math.abs(splitLoss - loss)).toBeLessThanOrEqual(1e-6 * Math.abs(loss));
    const rep = allclose(await m.getGrads(), await whole.getGrads(), { atol: 1e-7, rtol: 1e-5 });
    expect(rep.ok, `seed ${seed}: ${rep.message}`).toBe(true);
  });

  it('AdamW steps on both backends keep the parameters together', async () => {
    const seed = freshSeed();
    const models = [new GPT(createCpuBackend(), config, { seed }), new GPT(createWasmBackendSync(), config, { seed })];
    const opts = models.map((m) => new AdamW(m.backend, m.layout.totalLength, { lr: 1e-2 }));
    for (let step = 0; step < 3; step++) {
      const mb = batch(seed + 10 + step, 2, 11);
      const [a, b] = [await trainStep(models[0]!, [mb], opts[0]!), await trainStep(models[1]!, [mb], opts[1]!)];
      expect(Math.abs(a.loss - b.loss), `seed ${seed} step ${step}`).toBeLessThanOrEqual(1e-4 * a.loss);
    }
    const rep = allclose(await models[1]!.getParams(), await models[0]!.getParams(), { atol: 1e-4, rtol: 1e-3 });
    expect(rep.ok, `seed ${seed} params: ${rep.message}`).toBe(true);
  });
});
