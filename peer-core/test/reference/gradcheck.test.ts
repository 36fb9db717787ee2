/**
 * Finite-difference gradient checks of every reference backward op, in float64 on tiny
 * sizes: for a random projection w, L = sum(out * w); the backward op run with dout = w must
 * match central differences of L for every input. Also checks the forward ops against
 * closed-form facts (softmax rows sum to 1, layernorm output has mean 0 / var 1, causal mask).
 */
import { describe, expect, it } from 'vitest';
import {
  adamwUpdate,
  allclose,
  attentionBackward,
  attentionForward,
  encoderBackward,
  encoderForward,
  freshSeed,
  geluBackward,
  geluForward,
  globalNormSquared,
  layernormBackward,
  layernormForward,
  matmulBackward,
  matmulForward,
  mulberry32,
  residualBackward,
  residualForward,
  sgdMomentumUpdate,
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from '../../src/ops/reference/index.ts';

function rand64(n: number, rng: () => number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng() * 2 - 1) * scale;
  return a;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central differences of `loss()` with respect to every element of `x` (restored after). */
function numericGrad(x: Float64Array, loss: () => number, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + eps;
    const lp = loss();
    x[i] = old - eps;
    const lm = loss();
    x[i] = old;
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

const TOL = { atol: 1e-7, rtol: 1e-5 };

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, seed: number, tol = TOL) {
  const r = allclose(got, ref, tol);
  expect(r.ok, `seed ${seed} ${what}: ${r.message}`).toBe(true);
}

describe('reference backward ops match finite differences (float64)', () => {
  it('encoder', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const [B, T, C, V, maxT] = [2, 3, 4, 5, 4];
    const inp = new Int32Array(B * T).map(() => Math.floor(rng() * V));
    inp[0] = inp[1]; // a repeated token must accumulate
    const wte = rand64(V * C, rng);
    const wpe = rand64(maxT * C, rng);
    const w = rand64(B * T * C, rng);
    const out = new Float64Array(B * T * C);
    const loss = () => {
      encoderForward(out, inp, wte, wpe, B, T, C);
      return dot(out, w);
    };
    const dwte = new Float64Array(V * C);
    const dwpe = new Float64Array(maxT * C);
    encoderBackward(dwte, dwpe, w, inp, B, T, C);
    expectClose(dwte, numericGrad(wte, loss), 'dwte', seed);
    expectClose(dwpe, numericGrad(wpe, loss), 'dwpe', seed);
  });

  it('layernorm', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const [N, C] = [3, 7];
    const inp = rand64(N * C, rng, 2);
    const weight = rand64(C, rng);
    const bias = rand64(C, rng);
    const w = rand64(N * C, rng);
    const out = new Float64Array(N * C);
    const mean = new Float64Array(N);
    const rstd = new Float64Array(N);
    const loss = () => {
      layernormForward(out, mean, rstd, inp, weight, bias, N, C);
      return dot(out, w);
    };
    loss();
    const dinp = new Float64Array(N * C);
    const dweight = new Float64Array(C);
    const dbias = new Float64Array(C);
    layernormBackward(dinp, dweight, dbias, w, inp, weight, mean, rstd, N, C);
    expectClose(dinp, numericGrad(inp, loss), 'dinp', seed);
    expectClose(dweight, numericGrad(weight, loss), 'dweight', seed);
    expectClose(dbias, numericGrad(bias, loss), 'dbias', seed);
    // forward: with weight 1 and bias 0, rows are normalized
    const ones = new Float64Array(C).fill(1);
    const zeros = new Float64Array(C);
    layernormForward(out, mean, rstd, inp, ones, zeros, N, C);
    for (let n = 0; n < N; n++) {
      const row = out.subarray(n * C, (n + 1) * C);
      const m = row.reduce((a, b) => a + b, 0) / C;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / C;
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(Math.abs(v - 1)).toBeLessThan(1e-4); // eps 1e-5 shrinks the variance slightly
    }
  });

  it('matmul (float32 storage; linear, so differences are exact up to rounding)', () => {
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const seed = freshSeed();
      const rng = mulberry32(seed);
      const [M, K, N] = [3, 5, 4];
      const a = Float32Array.from(rand64(M * K, rng));
      const b = Float32Array.from(rand64(K * N, rng));
      const bias = Float32Array.from(rand64(N, rng));
      const w = Float32Array.from(rand64(M * N, rng));
      const shape = { M, K, N, transA, transB };
      // closed form in float64 with the layouts spelled out
      const A = (m: number, k: number) => (transA ? a[k * M + m] : a[m * K + k]);
      const Bm = (k: number, n: number) => (transB ? b[n * K + k] : b[k * N + n]);
      const out = new Float32Array(M * N);
      matmulForward(out, a, b, bias, shape);
      const want = new Float64Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) want[m * N + n] += A(m, k) * Bm(k, n) + (k === 0 ? bias[n] : 0);
      expectClose(out, want, `forward ${transA}/${transB}`, seed, { atol: 1e-5, rtol: 1e-5 });
      const da = new Float32Array(M * K);
      const db = new Float32Array(K * N);
      const dbias = new Float32Array(N);
      matmulBackward(da, db, dbias, w, a, b, shape);
      // dL/dA(m,k) = sum_n w(m,n) B(k,n); dL/dB(k,n) = sum_m A(m,k) w(m,n); dL/dbias(n) = sum_m w(m,n)
      const wantDa = new Float64Array(M * K);
      const wantDb = new Float64Array(K * N);
      const wantDbias = new Float64Array(N);
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          wantDbias[n] += w[m * N + n];
          for (let k = 0; k < K; k++) {
            wantDa[transA ? k * M + m : m * K + k] += w[m * N + n] * Bm(k, n);
            wantDb[transB ? n * K + k : k * N + n] += A(m, k) * w[m * N + n];
          }
        }
      expectClose(da, wantDa, `da ${transA}/${transB}`, seed, { atol: 1e-5, rtol: 1e-5 });
      expectClose(db, wantDb, `db ${transA}/${transB}`, seed, { atol: 1e-5, rtol: 1e-5 });
      expectClose(dbias, wantDbias, 'dbias', seed, { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it('attention', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const [B, T, C, NH] = [2, 4, 6, 2];
    const qkv = rand64(B * T * 3 * C, rng);
    const w = rand64(B * T * C, rng);
    const out = new Float64Array(B * T * C);
    const preatt = new Float64Array(B * NH * T * T);
    const att = new Float64Array(B * NH * T * T);
    const loss = () => {
      attentionForward(out, preatt, att, qkv, B, T, C, NH);
      return dot(out, w);
    };
    loss();
    // causal: the first position attends only to itself; rows sum to 1; masked entries are 0
    for (let r = 0; r < B * NH * T; r++) {
      const t = r % T;
      let s = 0;
      for (let t2 = 0; t2 < T; t2++) {
        s += att[r * T + t2];
        if (t2 > t) expect(att[r * T + t2]).toBe(0);
      }
      expect(Math.abs(s - 1)).toBeLessThan(1e-12);
    }
    const dqkv = new Float64Array(qkv.length);
    attentionBackward(dqkv, new Float64Array(att.length), new Float64Array(att.length), w, qkv, att, B, T, C, NH);
    expectClose(dqkv, numericGrad(qkv, loss), 'dqkv', seed);
  });

  it('gelu', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const N = 11;
    const inp = rand64(N, rng, 3);
    const w = rand64(N, rng);
    const out = new Float64Array(N);
    const loss = () => {
      geluForward(out, inp, N);
      return dot(out, w);
    };
    const dinp = new Float64Array(N);
    geluBackward(dinp, inp, w, N);
    expectClose(dinp, numericGrad(inp, loss), 'dinp', seed);
    geluForward(out, Float64Array.of(0, 10, -10), 3);
    expect(out[0]).toBe(0);
    expect(Math.abs(out[1] - 10)).toBeLessThan(1e-9);
    expect(Math.abs(out[2])).toBeLessThan(1e-9);
  });

  it('residual', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const N = 9;
    const a = rand64(N, rng);
    const b = rand64(N, rng);
    const w = rand64(N, rng);
    const out = new Float64Array(N);
    const loss = () => {
      residualForward(out, a, b, N);
      return dot(out, w);
    };
    const da = new Float64Array(N);
    const db = new Float64Array(N);
    residualBackward(da, db, w, N);
    expectClose(da, numericGrad(a, loss), 'da', seed);
    expectClose(db, numericGrad(b, loss), 'db', seed);
  });

  it('softmax cross-entropy (with an ignored target)', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const [N, V] = [4, 7];
    const logits = rand64(N * V, rng, 3);
    const targets = new Int32Array(N).map(() => Math.floor(rng() * V));
    targets[2] = -100;
    const dl = rand64(N, rng);
    const losses = new Float64Array(N);
    const probs = new Float64Array(N * V);
    const loss = () => {
      softmaxCrossEntropyForward(losses, probs, logits, targets, N, V);
      return dot(losses, dl);
    };
    loss();
    expect(losses[2]).toBe(0);
    for (let n = 0; n < N; n++) {
      const row = probs.subarray(n * V, (n + 1) * V);
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      if (targets[n] >= 0) expect(Math.abs(losses[n] + Math.log(row[targets[n]]))).toBeLessThan(1e-9);
    }
    const dlogits = new Float64Array(N * V);
    softmaxCrossEntropyBackward(dlogits, dl, probs, targets, N, V);
    expectClose(dlogits, numericGrad(logits, loss), 'dlogits', seed);
  });
});

describe('reference optimizers', () => {
  it('globalNormSquared is the sum of squares', () => {
    expect(globalNormSquared(Float64Array.of(3, 4, 12), 3)).toBe(169);
    expect(globalNormSquared(Float64Array.of(3, 4, 12), 2)).toBe(25);
  });

  it('AdamW follows the closed form for two steps', () => {
    const seed = freshSeed();
    const rng = mulberry32(seed);
    const N = 5;
    const p = rand64(N, rng);
    const g1 = rand64(N, rng);
    const g2 = rand64(N, rng);
    const o = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradScale: 0.5 };
    const params = p.slice();
    const m = new Float64Array(N);
    const v = new Float64Array(N);
    adamwUpdate(params, g1, m, v, N, { ...o, step: 1 });
    adamwUpdate(params, g2, m, v, N, { ...o, step: 2 });
    for (let i = 0; i < N; i++) {
      let x = p[i];
      let mm = 0;
      let vv = 0;
      for (const [step, g] of [
        [1, g1[i] * 0.5],
        [2, g2[i] * 0.5],
      ]) {
        mm = 0.9 * mm + 0.1 * g;
        vv = 0.95 * vv + 0.05 * g * g;
        const upd = mm / (1 - 0.9 ** step) / (Math.sqrt(vv / (1 - 0.95 ** step)) + 1e-8);
        x = x - 0.01 * (upd + 0.1 * x);
      }
      expect(Math.abs(params[i] - x), `seed ${seed}`).toBeLessThan(1e-12);
      // first step of Adam moves each weight by about lr (sign of the gradient)
    }
  });

  it('SGD with momentum follows the closed form for two steps', () => {
    const p = Float64Array.of(1, -2);
    const g = Float64Array.of(0.5, 0.25);
    const vel = new Float64Array(2);
    const o = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, gradScale: 2 };
    sgdMomentumUpdate(p, g, vel, 2, o);
    sgdMomentumUpdate(p, g, vel, 2, o);
    // by hand for element 0: g1 = 1 + 0.01 = 1.01, v1 = 1.01, p1 = 0.899; g2 = 1 + 0.00899, v2 = 0.9*1.01 + 1.00899
    const v2 = 0.9 * 1.01 + (1 + 0.01 * 0.899);
    expect(Math.abs(p[0] - (0.899 - 0.1 * v2))).toBeLessThan(1e-12);
  });
});
