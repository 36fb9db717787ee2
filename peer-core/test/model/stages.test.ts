/**
 * The model as pipeline stages: a 4-block model split into 3 stages ([0,1), [1,3), [3,4)) and
 * run GPipe-style (all micro-batch forwards, then all backwards in reverse, activations passed
 * between stages through host memory as they would be between peers) computes the same loss
 * and the same gradients as the whole model as one stage. Also: layout, init, named errors.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend, VIEW_ALIGN_ELEMENTS } from '../../src/backend/index.ts';
import { buildLayout, ConfigError, GPT, type GPTConfig, initParams, ModelInputError } from '../../src/model/index.ts';
import { allclose, freshSeed, mulberry32 } from '../../src/ops/reference/index.ts';
import { forwardBackward } from '../../src/train/index.ts';

const config: GPTConfig = { vocabSize: 23, contextLength: 8, nLayer: 4, nHead: 2, nEmbd: 12 };

function randomBatch(B: number, T: number, V: number, rng: () => number) {
  const tokens = new Int32Array(B * T).map(() => Math.floor(rng() * V));
  const targets = new Int32Array(B * T).map(() => Math.floor(rng() * V));
  targets[1] = -1; // one position without a target
  return { B, T, tokens, targets };
}

describe('flat parameter layout and init', () => {
  it('aligns every view, covers every parameter once and follows GPT-2 init', () => {
    const layout = buildLayout(config);
    const C = config.nEmbd;
    const want = config.vocabSize * C + config.contextLength * C + config.nLayer * (12 * C * C + 13 * C) + 2 * C;
    expect(layout.numParams).toBe(want);
    let end = 0;
    for (const s of layout.specs) {
      expect(s.offset % VIEW_ALIGN_ELEMENTS).toBe(0);
      expect(s.offset).toBeGreaterThanOrEqual(end);
      end = s.offset + s.length;
    }
    expect(layout.totalLength).toBeGreaterThanOrEqual(end);
    const p = initParams(layout, 7);
    expect(Array.from(initParams(layout, 7))).toEqual(Array.from(p));
    expect(Array.from(initParams(layout, 8).subarray(0, 10))).not.toEqual(Array.from(p.subarray(0, 10)));
    const view = (n: string) => {
      const s = layout.byName.get(n)!;
      return p.subarray(s.offset, s.offset + s.length);
    };
    const std = (a: Float32Array) => Math.sqrt(a.reduce((x, y) => x + y * y, 0) / a.length);
    expect(Array.from(view('h.2.ln_1.weight')).every((x) => x === 1)).toBe(true);
    expect(Array.from(view('h.2.mlp.c_fc.bias')).every((x) => x === 0)).toBe(true);
    // big tensors: empirical std within 15% of the target
    const big = buildLayout({ ...config, nEmbd: 64, nLayer: 8 });
    const pb = initParams(big, 1);
    const v2 = (n: string) => pb.subarray(big.byName.get(n)!.offset, big.byName.get(n)!.offset + big.byName.get(n)!.length);
    expect(Math.abs(std(v2('h.0.mlp.c_fc.weight')) / 0.02 - 1)).toBeLessThan(0.15);
    expect(Math.abs(std(v2('h.0.mlp.c_proj.weight')) / (0.02 / Math.sqrt(16)) - 1)).toBeLessThan(0.15);
    // padding stays zero
    let padNonZero = 0;
    let prevEnd = 0;
    for (const s of big.specs) {
      for (let i = prevEnd; i < s.offset; i++) if (pb[i] !== 0) padNonZero++;
      prevEnd = s.offset + s.length;
    }
    expect(padNonZero).toBe(0);
  });

  it('rejects bad configs and inputs with named errors', () => {
    expect(() => buildLayout({ ...config, nEmbd: 13 })).toThrow(ConfigError);
    expect(() => buildLayout({ ...config, nLayer: 0 })).toThrow(ConfigError);
    const model = new GPT(createCpuBackend(), config);
    expect(() => model.createStage({ firstLayer: 2, endLayer: 2, B: 1, T: 4 })).toThrow(ModelInputError);
    expect(() => model.createStage({ firstLayer: 0, endLayer: 4, B: 1, T: 9 })).toThrow(/contextLength/);
    const s = model.wholeModel(1, 4);
    expect(() => s.forward(0, null, { tokens: Int32Array.of(1, 2, 3) })).toThrow(/3 ids, needs B\*T = 4/);
    expect(() => s.forward(0, null, { tokens: Int32Array.of(1, 2, 3, 23) })).toThrow(/outside the vocabulary/);
    expect(() => s.backward(0, null)).toThrow(/before its forward/);
    expect(() => model.split([3, 1], 1, 4)).toThrow(ModelInputError);
  });
});

describe('3 stages compute what the whole model computes', () => {
  it('same loss and gradients over 2 micro-batches (GPipe schedule)', async () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const [B, T] = [2, 6];
    const mbs = [randomBatch(B, T, config.vocabSize, rng), randomBatch(B, T, config.vocabSize, rng)];

    const whole = new GPT(createCpuBackend(), config, { seed });
    const wantLoss = await forwardBackward(whole, mbs);
    const wantGrads = await whole.getGrads();

    const be = createCpuBackend();
    const model = new GPT(be, config, { seed });
    const stages = model.split([1, 3], B, T, mbs.length);
    expect(stages.map((s) => [s.firstLayer, s.endLayer, s.isFirst, s.isLast])).toEqual([
      [0, 1, true, false],
      [1, 3, false, false],
      [3, 4, false, true],
    ]);
    let count = 0;
    for (const mb of mbs) for (const t of mb.targets) if (t >= 0) count++;
    model.zeroGrad();
    let lossSum = 0;
    // all forwards; activations cross stage boundaries through host memory
    for (let m = 0; m < mbs.length; m++) {
      let act: Float32Array | null = null;
      for (const st of stages) {
        let input = null;
        if (act) {
          input = be.alloc(act.length);
          be.write(input, act);
        }
        const out = st.forward(m, input, mbs[m]);
        act = await be.read(out);
      }
      lossSum += act!.reduce((a, b) => a + b, 0);
    }
    // all backwards, micro-batches in reverse
    for (let m = mbs.length - 1; m >= 0; m--) {
      let grad: Float32Array | null = null;
      for (let i = stages.length - 1; i >= 0; i--) {
        let gradOut = null;
        if (grad) {
          gradOut = be.alloc(grad.length);
          be.write(gradOut, grad);
        }
        const gin = stages[i].backward(m, gradOut, 1 / count);
        grad = gin ? await be.read(gin) : null;
      }
      expect(grad).toBeNull();
    }
    const loss = lossSum / count;
    expect(Math.abs(loss - wantLoss), `seed ${seed}: loss ${loss} vs ${wantLoss}`).toBeLessThan(1e-6);
    const grads = await model.getGrads();
    const r = allclose(grads, wantGrads, { atol: 1e-7, rtol: 1e-5 });
    expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    // the gradient is not trivially zero
    expect(Math.max(...Array.from(grads).map(Math.abs))).toBeGreaterThan(1e-3);
  });
});
