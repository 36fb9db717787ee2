/**
 * Every WASM kernel, forward and backward, against the plain-TS reference on fresh random
 * inputs at awkward sizes (not multiples of the SIMD width, the 8-column panel or the 4-row
 * micro-kernel; K larger than the K block). Backward ops start from random (non-zero)
 * gradients to check that they accumulate. |got - ref| <= atol + rtol*|ref| elementwise.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '@swarmgrad/peer-core/reference';
import { allclose, freshSeed, mulberry32, randomUniform } from '@swarmgrad/peer-core/reference';
import { createWasmKernels, createWasmKernelsSync, supportedVariants, WasmOutOfMemoryError, type WasmKernels, type WasmTensor } from '../src/index.ts';

let k: WasmKernels;
const put = (a: Float32Array | Int32Array): WasmTensor => k.fromArray(a);
const TOL = { atol: 1e-5, rtol: 1e-4 };

function ids(n: number, V: number, seed: number, ignoreEvery = 0): Int32Array {
  const r = mulberry32(seed);
  return Int32Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === 0 ? -100 : Math.floor(r() * V)));
}

/** Asserts that each [wasm tensor, reference array] pair is allclose, then frees the tensors. */
function check(seed: number, pairs: Record<string, [WasmTensor, Float32Array]>, tol = TOL, all: WasmTensor[] = []): void {
  for (const [name, [t, r]] of Object.entries(pairs)) {
    const rep = allclose(k.read(t), r, tol);
    expect(rep.ok, `seed ${seed} ${name}: ${rep.message}`).toBe(true);
  }
  for (const t of all) k.free(t);
}

it('runs plain SIMD here, and relaxed SIMD (fused multiply-add) where the engine has it', () => {
  const vs = supportedVariants();
  expect(vs).toContain('simd');
  // Node 24's V8 ships relaxed SIMD; the loader must then pick it by default
  expect(vs[0]).toBe('relaxed-simd');
  expect(createWasmKernelsSync().variant).toBe('relaxed-simd');
  expect(createWasmKernelsSync({ variant: 'simd' }).variant).toBe('simd');
});

for (const variant of supportedVariants()) describe(`wasm kernels (${variant}) vs reference`, () => {
  beforeAll(() => {
    k = createWasmKernelsSync({ variant });
  });
  it('encoder forward and backward', () => {
    const s = freshSeed();
    const [B, T, C, V, maxT] = [3, 7, 13, 11, 9];
    const inp = ids(B * T, V, s);
    const wte = randomUniform(V * C, s + 1);
    const wpe = randomUniform(maxT * C, s + 2);
    const out = new Float32Array(B * T * C);
    ref.encoderForward(out, inp, wte, wpe, B, T, C);
    const [to, ti, tw, tp] = [k.alloc(B * T * C), put(inp), put(wte), put(wpe)];
    k.encoderForward(to, ti, tw, tp, B, T, C);
    const dout = randomUniform(B * T * C, s + 3);
    const dwte = randomUniform(V * C, s + 4);
    const dwpe = randomUniform(maxT * C, s + 5);
    const [tdo, tdw, tdp] = [put(dout), put(dwte), put(dwpe)];
    ref.encoderBackward(dwte, dwpe, dout, inp, B, T, C);
    k.encoderBackward(tdw, tdp, tdo, ti, B, T, C);
    check(s, { out: [to, out], dwte: [tdw, dwte], dwpe: [tdp, dwpe] }, TOL, [to, ti, tw, tp, tdo, tdw, tdp]);
  });

  for (const [N, C] of [
    [5, 13],
    [17, 64],
    [3, 1],
  ] as const) {
    it(`layernorm forward and backward N=${N} C=${C}`, () => {
      const s = freshSeed();
      const inp = randomUniform(N * C, s, -2, 3);
      const w = randomUniform(C, s + 1);
      const b = randomUniform(C, s + 2);
      const [out, mean, rstd] = [new Float32Array(N * C), new Float32Array(N), new Float32Array(N)];
      ref.layernormForward(out, mean, rstd, inp, w, b, N, C);
      const [ti, tw, tb, to, tm, tr] = [put(inp), put(w), put(b), k.alloc(N * C), k.alloc(N), k.alloc(N)];
      k.layernormForward(to, tm, tr, ti, tw, tb, N, C);
      check(s, { out: [to, out], mean: [tm, mean], rstd: [tr, rstd] }, { atol: 1e-5, rtol: 1e-4 });
      const dout = randomUniform(N * C, s + 3);
      const [dinp, dw, db] = [randomUniform(N * C, s + 4), randomUniform(C, s + 5), randomUniform(C, s + 6)];
      const [tdo, tdi, tdw, tdb] = [put(dout), put(dinp), put(dw), put(db)];
      ref.layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
      k.layernormBackward(tdi, tdw, tdb, tdo, ti, tw, tm, tr, N, C);
      check(s, { dinp: [tdi, dinp], dweight: [tdw, dw], dbias: [tdb, db] }, { atol: 1e-4, rtol: 1e-4 }, [ti, tw, tb, to, tm, tr, tdo, tdi, tdw, tdb]);
    });
  }

  const mm = [
    { M: 37, K: 53, N: 29 },
    { M: 67, K: 129, N: 45, bias: true },
    { M: 33, K: 17, N: 70, transA: true },
    { M: 50, K: 31, N: 19, transB: true, bias: true },
    { M: 21, K: 40, N: 35, transA: true, transB: true, accumulate: true },
    { M: 70, K: 300, N: 9, bias: true, accumulate: true },
    { M: 1, K: 1, N: 1 },
    { M: 131, K: 263, N: 67, transB: true },
  ];
  for (const c of mm) {
    it(`matmul forward and backward ${JSON.stringify(c)}`, () => {
      const s = freshSeed();
      const { M, K, N } = c;
      const shape = { M, K, N, transA: c.transA, transB: c.transB };
      const a = randomUniform(M * K, s);
      const b = randomUniform(K * N, s + 1);
      const bias = c.bias ? randomUniform(N, s + 2) : null;
      const out = c.accumulate ? randomUniform(M * N, s + 3) : new Float32Array(M * N);
      const [ta, tb, tbias, to] = [put(a), put(b), bias ? put(bias) : null, put(out)];
      ref.matmulForward(out, a, b, bias, shape, !!c.accumulate);
      k.matmulForward(to, ta, tb, tbias, shape, !!c.accumulate);
      const tol = { atol: 1e-4, rtol: 1e-4 };
      check(s, { out: [to, out] }, tol);
      const dout = randomUniform(M * N, s + 4);
      const [da, db, dbias] = [randomUniform(M * K, s + 5), randomUniform(K * N, s + 6), randomUniform(N, s + 7)];
      const [tdo, tda, tdb, tdbias] = [put(dout), put(da), put(db), put(dbias)];
      ref.matmulBackward(da, db, dbias, dout, a, b, shape);
      k.matmulBackward(tda, tdb, tdbias, tdo, ta, tb, shape);
      check(s, { da: [tda, da], db: [tdb, db], dbias: [tdbias, dbias] }, tol, [ta, tb, to, tdo, tda, tdb, tdbias, ...(tbias ? [tbias] : [])]);
    });
  }

  for (const [B, T, C, NH] of [
    [2, 7, 12, 3],
    [1, 5, 10, 2],
    [3, 1, 8, 8],
  ] as const) {
    it(`attention forward and backward B=${B} T=${T} C=${C} NH=${NH}`, () => {
      const s = freshSeed();
      const qkv = randomUniform(B * T * 3 * C, s, -2, 2);
      const TT = B * NH * T * T;
      const [out, preatt, att] = [new Float32Array(B * T * C), new Float32Array(TT), new Float32Array(TT)];
      ref.attentionForward(out, preatt, att, qkv, B, T, C, NH);
      // the kernels must overwrite everything the reference writes, including the masked zeros
      const [tq, to, tp, ta] = [put(qkv), put(randomUniform(B * T * C, s + 9)), put(randomUniform(TT, s + 10)), put(randomUniform(TT, s + 11))];
      k.attentionForward(to, tp, ta, tq, B, T, C, NH);
      check(s, { out: [to, out], preatt: [tp, preatt], att: [ta, att] });
      const dout = randomUniform(B * T * C, s + 3);
      const dqkv = randomUniform(B * T * 3 * C, s + 4);
      const [dpreatt, datt] = [new Float32Array(TT), new Float32Array(TT)];
      const [tdo, tdq, tdp, tda] = [put(dout), put(dqkv), k.zeros(TT), k.zeros(TT)];
      ref.attentionBackward(dqkv, dpreatt, datt, dout, qkv, att, B, T, C, NH);
      k.attentionBackward(tdq, tdp, tda, tdo, tq, ta, B, T, C, NH);
      check(s, { dqkv: [tdq, dqkv], dpreatt: [tdp, dpreatt], datt: [tda, datt] }, { atol: 1e-5, rtol: 1e-4 }, [tq, to, tp, ta, tdo, tdq, tdp, tda]);
    });
  }

  it('gelu and residual forward and backward', () => {
    const s = freshSeed();
    const N = 1003;
    const x = randomUniform(N, s, -5, 5);
    const y = randomUniform(N, s + 1);
    const dout = randomUniform(N, s + 2);
    const [g, r] = [new Float32Array(N), new Float32Array(N)];
    ref.geluForward(g, x, N);
    ref.residualForward(r, x, y, N);
    const [tx, ty, tdo, tg, tr] = [put(x), put(y), put(dout), k.alloc(N), k.alloc(N)];
    k.geluForward(tg, tx, N);
    k.residualForward(tr, tx, ty, N);
    const [dx, da, db] = [randomUniform(N, s + 3), randomUniform(N, s + 4), randomUniform(N, s + 5)];
    const [tdx, tda, tdb] = [put(dx), put(da), put(db)];
    ref.geluBackward(dx, x, dout, N);
    ref.residualBackward(da, db, dout, N);
    k.geluBackward(tdx, tx, tdo, N);
    k.residualBackward(tda, tdb, tdo, N);
    check(s, { gelu: [tg, g], residual: [tr, r], dgelu: [tdx, dx], da: [tda, da], db: [tdb, db] }, TOL, [tx, ty, tdo, tg, tr, tdx, tda, tdb]);
  });

  for (const [N, V, ignoreEvery] of [
    [7, 29, 0],
    [13, 257, 3],
  ] as const) {
    it(`softmax cross-entropy forward and backward N=${N} V=${V}${ignoreEvery ? ' with ignored targets' : ''}`, () => {
      const s = freshSeed();
      const logits = randomUniform(N * V, s, -8, 8);
      const targets = ids(N, V, s + 1, ignoreEvery);
      const [losses, probs] = [new Float32Array(N), new Float32Array(N * V)];
      ref.softmaxCrossEntropyForward(losses, probs, logits, targets, N, V);
      const [tl, tt, tlo, tp] = [put(logits), put(targets), k.alloc(N), k.alloc(N * V)];
      k.softmaxCrossEntropyForward(tlo, tp, tl, tt, N, V);
      const dlosses = randomUniform(N, s + 2);
      const dlogits = randomUniform(N * V, s + 3);
      const [tdl, tdlo] = [put(dlosses), put(dlogits)];
      ref.softmaxCrossEntropyBackward(dlogits, dlosses, probs, targets, N, V);
      k.softmaxCrossEntropyBackward(tdlo, tdl, tp, tt, N, V);
      check(s, { losses: [tlo, losses], probs: [tp, probs], dlogits: [tdlo, dlogits] }, TOL, [tl, tt, tlo, tp, tdl, tdlo]);
    });
  }

  it('global norm, AdamW and SGD with momentum', () => {
    const s = freshSeed();
    const N = 1027;
    const grads = randomUniform(N, s);
    const gn = ref.globalNormSquared(grads, N);
    const tg = put(grads);
    expect(Math.abs(k.globalNormSquared(tg, N) - gn)).toBeLessThanOrEqual(1e-9 * gn + 1e-12);
    const params = randomUniform(N, s + 1);
    const m = randomUniform(N, s + 2, -0.1, 0.1);
    const v = randomUniform(N, s + 3, 0, 0.01);
    const [tp, tm, tv] = [put(params), put(m), put(v)];
    for (let step = 1; step <= 3; step++) {
      const o = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step, gradScale: 0.7 };
      ref.adamwUpdate(params, grads, m, v, N, o);
      k.adamwUpdate(tp, tg, tm, tv, N, o);
    }
    check(s, { params: [tp, params], m: [tm, m], v: [tv, v] }, { atol: 1e-6, rtol: 1e-5 });
    const vel = randomUniform(N, s + 4);
    const tvel = put(vel);
    for (let i = 0; i < 3; i++) {
      const o = { lr: 0.05, momentum: 0.9, weightDecay: 0.01, gradScale: 0.5 };
      ref.sgdMomentumUpdate(params, grads, vel, N, o);
      k.sgdMomentumUpdate(tp, tg, tvel, N, o);
    }
    check(s, { params: [tp, params], velocity: [tvel, vel] }, { atol: 1e-6, rtol: 1e-5 }, [tg, tp, tm, tv, tvel]);
  });
});

describe('wasm arena and validation', () => {
  it('grows memory, keeps earlier tensors intact, reuses freed space and supports views', async () => {
    const kk = await createWasmKernels();
    const a = kk.fromArray(Float32Array.from({ length: 1000 }, (_, i) => i));
    const before = kk.memoryBytes;
    const big = kk.zeros(4_000_000); // 16 MB: forces growth
    expect(kk.memoryBytes).toBeGreaterThan(before);
    expect(kk.read(a)[999]).toBe(999);
    expect(kk.read(big).every((x) => x === 0)).toBe(true);
    kk.free(big);
    const again = kk.alloc(4_000_000);
    expect(again.ptr).toBe(big.ptr);
    const v = kk.view(a, 10, 5);
    expect(Array.from(kk.read(v))).toEqual([10, 11, 12, 13, 14]);
    kk.fill(v, 2);
    expect(kk.read(a)[12]).toBe(2);
    expect(kk.read(a)[15]).toBe(15);
    const c = kk.alloc(5);
    kk.copy(c, v);
    expect(Array.from(kk.read(c))).toEqual([2, 2, 2, 2, 2]);
  });

  it('rejects bad input with WasmKernelInputError before running wasm', () => {
    k = createWasmKernelsSync();
    const a = k.alloc(8);
    const b = k.alloc(64);
    const out = k.alloc(64);
    expect(() => k.matmulForward(out, a, b, null, { M: 4, K: 4, N: 4 })).toThrow(/^matmulForward: tensor a holds 8 floats, needs 16/);
    expect(() => k.matmulForward(out, out, b, null, { M: 2, K: 2, N: 2 })).toThrow(/alias/);
    const inp = k.fromArray(Int32Array.from([0, 5]));
    const wte = k.alloc(16); // V = 4 rows of C = 4
    expect(() => k.encoderForward(out, inp, wte, b, 1, 2, 4)).toThrow(/inp\[1\] = 5 is outside \[0, 4\)/);
    expect(() => k.encoderForward(out, b, b, b, 1, 2, 4)).toThrow(/tensor inp is f32, needs i32/);
    expect(() => k.attentionForward(out, b, b, b, 1, 1, 5, 2)).toThrow(/not divisible/);
    k.free(a);
    expect(() => k.geluForward(out, a, 8)).toThrow(/not a live tensor/);
    // more than wasm32's 4 GiB: a named error, and the arena stays usable
    expect(() => k.alloc(1.2e9)).toThrow(WasmOutOfMemoryError);
    expect(k.read(k.fromArray(Float32Array.of(1, 2)))).toEqual(Float32Array.of(1, 2));
    for (const t of [b, out, inp, wte]) k.free(t);
  });
});
