/**
 * Fused (flash) vs unfused attention in the model: on the `cpu` and `wasm` backends a tiny
 * GPT gives the same loss and parameter gradients with either kind (the stage allocates lse
 * (B,NH,T) instead of preatt/att (B,NH,T,T) when fused, and no dpreatt/datt scratch), a
 * 3-stage split with fused attention matches the whole model, and a bad kind is a named error.
 * The webgpu backend's fused kernels are checked in test/browser/.
 */
import { describe, expect, it } from 'vitest';
import { type AttentionKind, type Backend, createCpuBackend } from '../../src/backend/index.ts';
import { createWasmBackendSync } from '../../src/backend/wasm/index.ts';
import { GPT, type GPTConfig, ModelInputError } from '../../src/model/index.ts';
import { allclose, freshSeed, mulberry32 } from '../../src/ops/reference/index.ts';
import { forwardBackward } from '../../src/train/index.ts';

const config: GPTConfig = { vocabSize: 29, contextLength: 16, nLayer: 2, nHead: 3, nEmbd: 24 };

function randomBatch(B: number, T: number, V: number, seed: number) {
  const rng = mulberry32(seed);
  const tokens = new Int32Array(B * T).map(() => Math.floor(rng() * V));
  const targets = new Int32Array(B * T).map(() => Math.floor(rng() * V));
  targets[2] = -1;
  return { B, T, tokens, targets };
}

async function lossAndGrads(backend: Backend, attention: AttentionKind, seed: number, B: number, T: number) {
  backend.attention = attention;
  const model = new GPT(backend, config, { seed });
  const loss = await forwardBackward(model, [randomBatch(B, T, config.vocabSize, seed + 1)]);
  const grads = await model.getGrads();
  model.dispose();
  return { loss, grads };
}

describe('fused vs unfused attention in the model', () => {
  for (const [name, make] of [
    ['cpu', () => createCpuBackend()],
    ['wasm', () => createWasmBackendSync()],
  ] as const) {
    it(`${name}: same loss and gradients (B=2, T=13: not a power of two)`, async () => {
      const seed = freshSeed();
      const be = make();
      const unfused = await lossAndGrads(be, 'unfused', seed, 2, 13);
      const fused = await lossAndGrads(be, 'fused', seed, 2, 13);
      expect(Math.abs(fused.loss - unfused.loss), `seed ${seed}`).toBeLessThan(1e-5 * Math.max(1, unfused.loss));
      const r = allclose(fused.grads, unfused.grads, { atol: 1e-6, rtol: 1e-4 });
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
      be.dispose();
    });
  }

  it('a fused stage keeps lse instead of the (B,NH,T,T) tensors', () => {
    const [B, T] = [2, 16];
    const sizes: Record<string, number> = {};
    for (const attention of ['fused', 'unfused'] as const) {
      let floats = 0;
      const cpu = createCpuBackend();
      const counting = new Proxy(cpu, {
        get(target, prop, receiver) {
          if (prop === 'alloc') {
            return (n: number, dtype?: 'f32' | 'i32') => {
              floats += n;
              return target.alloc(n, dtype);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const model = new GPT(counting, config, { seed: 1 });
      const before = floats;
      const stage = model.createStage({ firstLayer: 0, endLayer: config.nLayer, B, T, attention });
      expect(stage.attention).toBe(attention);
      sizes[attention] = floats - before;
      model.dispose();
    }
    const { nLayer: L, nHead: NH } = config;
    const TT = B * NH * T * T;
    // unfused: preatt + att per layer (activations) and dpreatt + datt (scratch); fused: lse per layer
    expect(sizes.unfused! - sizes.fused!).toBeGreaterThanOrEqual(2 * L * TT + 2 * TT - L * B * NH * T - 64 * (2 * L + 2));
    expect(sizes.fused!).toBeLessThan(sizes.unfused! - 2 * L * TT);
  });

  it('a 3-stage split with fused attention matches the whole model', async () => {
    const seed = freshSeed();
    const cfg = { ...config, nLayer: 3 };
    const be = createCpuBackend({ attention: 'fused' });
    const b = randomBatch(2, 9, cfg.vocabSize, seed);
    const whole = new GPT(be, cfg, { seed });
    const loss = await forwardBackward(whole, [b]);
    const grads = await whole.getGrads();
    const split = new GPT(be, cfg, { seed });
    const stages = split.split([1, 2], 2, 9);
    let x = stages[0]!.forward(0, null, { tokens: b.tokens });
    x = stages[1]!.forward(0, x);
    const losses = await be.read(stages[2]!.forward(0, x, { targets: b.targets }));
    const valid = b.targets.filter((t) => t >= 0).length;
    const splitLoss = losses.reduce((s, l) => s + l, 0) / valid;
    let g = stages[2]!.backward(0, null, 1 / valid);
    g = stages[1]!.backward(0, g);
    stages[0]!.backward(0, g);
    expect(Math.abs(splitLoss - loss), `seed ${seed}`).toBeLessThan(1e-5);
    const r = allclose(await split.getGrads(), grads, { atol: 1e-6, rtol: 1e-4 });
    expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
  });

  it('an unknown attention kind is a ModelInputError', () => {
    const model = new GPT(createCpuBackend(), config, { seed: 1 });
    expect(() => model.createStage({ firstLayer: 0, endLayer: 1, B: 1, T: 4, attention: 'flash' as AttentionKind })).toThrow(ModelInputError);
  });
});
