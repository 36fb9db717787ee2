/**
 * The `wasm` backend through the `Backend` interface: memory semantics (views share storage,
 * write/read/copy/fill), the same named errors as the `cpu` backend, and every op, forward and
 * backward, giving the cpu backend's results on fresh random inputs (backward ops from
 * non-zero gradients, so accumulation is checked too).
 */
import { describe, expect, it } from 'vitest';
import { BackendInputError, ForeignTensorError, createCpuBackend, type Backend, type Tensor } from '../../src/backend/index.ts';
import { createWasmBackend, createWasmBackendSync } from '../../src/backend/wasm/index.ts';
import { allclose, freshSeed, mulberry32, randomUniform } from '../../src/ops/reference/index.ts';

describe('wasm backend memory and errors', () => {
  it('views share storage with their root and compose offsets', async () => {
    const be = await createWasmBackend();
    const t = be.alloc(10);
    const v = be.view(t, 2, 6);
    const w = be.view(v, 3, 2);
    expect(w.offset).toBe(5);
    be.write(w, Float32Array.of(7, 8));
    be.fill(be.view(t, 0, 1), 3);
    expect(Array.from(await be.read(t))).toEqual([3, 0, 0, 0, 0, 7, 8, 0, 0, 0]);
    const c = be.alloc(6);
    be.copy(c, v);
    expect(Array.from(await be.read(c))).toEqual([0, 0, 0, 7, 8, 0]);
    be.zero(v);
    expect(Array.from(await be.read(t))).toEqual([3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const ids = be.alloc(3, 'i32');
    be.write(ids, Int32Array.of(1, 2, 3));
    expect(Array.from(await be.readI32(ids))).toEqual([1, 2, 3]);
    // freed space is reused and comes back zeroed from alloc
    be.fill(c, 5);
    be.free(c);
    const d = be.alloc(6);
    expect(Array.from(await be.read(d))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects bad input with named errors', async () => {
    const be = createWasmBackendSync();
    const t = be.alloc(4);
    expect(() => be.view(t, 2, 3)).toThrow(BackendInputError);
    expect(() => be.write(t, new Float32Array(5))).toThrow(BackendInputError);
    expect(() => be.write(t, new Int32Array(2))).toThrow(/cannot write Int32Array/);
    await expect(be.readI32(t)).rejects.toThrow(BackendInputError);
    expect(() => be.geluForward(t, be.alloc(3), 4)).toThrow(/geluForward: tensor inp holds 3 elements, needs 4/);
    expect(() => be.encoderForward(be.alloc(8), t, t, t, 1, 2, 4)).toThrow(/tensor inp is f32, needs i32/);
    expect(() => be.attentionForward(t, t, t, t, 1, 1, 3, 2)).toThrow(/not a multiple/);
    const foreign = createCpuBackend().alloc(4);
    expect(() => be.zero(foreign)).toThrow(ForeignTensorError);
    expect(() => be.zero(createWasmBackendSync().alloc(4))).toThrow(/another wasm backend/);
    be.free(t);
    expect(() => be.zero(t)).toThrow(ForeignTensorError);
    const logits = be.alloc(6);
    const tg = be.alloc(2, 'i32');
    be.write(tg, Int32Array.of(0, 3));
    expect(() => be.softmaxCrossEntropyForward(be.alloc(2), be.alloc(6), logits, tg, 2, 3)).toThrow(/softmaxCrossEntropyForward: targets\[1\] = 3 is outside/);
    const inp = be.alloc(2, 'i32');
    be.write(inp, Int32Array.of(0, -1));
    expect(() => be.encoderForward(be.alloc(8), inp, be.alloc(8), be.alloc(8), 1, 2, 4)).toThrow(/encoderForward: inp\[1\] = -1 is outside \[0, 2\)/);
  });
});

/** The same inputs on both backends; `run` runs one op on a backend, `outs` names what to compare. */
interface Pair {
  cpu: Backend;
  wasm: Backend;
}
type Inputs = Record<string, Float32Array | Int32Array>;

async function compare(p: Pair, seed: number, inputs: Inputs, run: (be: Backend, t: Record<string, Tensor>) => unknown, outs: string[], tol = { atol: 1e-5, rtol: 1e-4 }) {
  const results: Record<string, Float32Array>[] = [];
  for (const be of [p.cpu, p.wasm]) {
    const t: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) {
      t[k] = be.alloc(v.length, v instanceof Int32Array ? 'i32' : 'f32');
      be.write(t[k], v);
    }
    await run(be, t);
    const r: Record<string, Float32Array> = {};
    for (const o of outs) r[o] = await be.read(t[o]!);
    results.push(r);
    for (const x of Object.values(t)) be.free(x);
  }
  for (const o of outs) {
    const rep = allclose(results[1]![o]!, results[0]![o]!, tol);
    expect(rep.ok, `seed ${seed} ${o}: ${rep.message}`).toBe(true);
  }
}

describe('wasm backend ops vs cpu backend', () => {
  const p: Pair = { cpu: createCpuBackend(), wasm: createWasmBackendSync() };
  const u = randomUniform;
  const ids = (n: number, V: number, seed: number) => {
    const r = mulberry32(seed);
    return Int32Array.from({ length: n }, () => Math.floor(r() * V));
  };

  it('encoder', async () => {
    const s = freshSeed();
    const [B, T, C, V] = [2, 5, 9, 7];
    await compare(
      p,
      s,
      { out: u(B * T * C, s), inp: ids(B * T, V, s + 1), wte: u(V * C, s + 2), wpe: u(T * C, s + 3), dout: u(B * T * C, s + 4), dwte: u(V * C, s + 5), dwpe: u(T * C, s + 6) },
      (be, t) => {
        be.encoderForward(t.out!, t.inp!, t.wte!, t.wpe!, B, T, C);
        be.encoderBackward(t.dwte!, t.dwpe!, t.dout!, t.inp!, B, T, C);
      },
      ['out', 'dwte', 'dwpe'],
    );
  });

  it('layernorm', async () => {
    const s = freshSeed();
    const [N, C] = [11, 21];
    await compare(
      p,
      s,
      { out: u(N * C, s), mean: u(N, s + 1), rstd: u(N, s + 2), inp: u(N * C, s + 3, -2, 2), w: u(C, s + 4), b: u(C, s + 5), dout: u(N * C, s + 6), dinp: u(N * C, s + 7), dw: u(C, s + 8), db: u(C, s + 9) },
      (be, t) => {
        be.layernormForward(t.out!, t.mean!, t.rstd!, t.inp!, t.w!, t.b!, N, C);
        be.layernormBackward(t.dinp!, t.dw!, t.db!, t.dout!, t.inp!, t.w!, t.mean!, t.rstd!, N, C);
      },
      ['out', 'mean', 'rstd', 'dinp', 'dw', 'db'],
      { atol: 1e-4, rtol: 1e-4 },
    );
  });

  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`matmul transA=${transA} transB=${transB} on views`, async () => {
      const s = freshSeed();
      const [M, K, N] = [19, 35, 13];
      const shape = { M, K, N, transA, transB };
      await compare(
        p,
        s,
        // operands are views at odd offsets into one flat buffer, as the model's parameters are
        { flat: u(M * K + K * N + N + 3, s), out: u(M * N, s + 1), dout: u(M * N, s + 2), dflat: u(M * K + K * N + N + 3, s + 3) },
        (be, t) => {
          const v = (x: Tensor, o: number, n: number) => be.view(x, o, n);
          const [a, b, bias] = [v(t.flat!, 1, M * K), v(t.flat!, 1 + M * K, K * N), v(t.flat!, 2 + M * K + K * N, N)];
          const [da, db, dbias] = [v(t.dflat!, 1, M * K), v(t.dflat!, 1 + M * K, K * N), v(t.dflat!, 2 + M * K + K * N, N)];
          be.matmulForward(t.out!, a, b, bias, shape, true);
          be.matmulBackward(da, db, dbias, t.dout!, a, b, shape);
        },
        ['out', 'dflat'],
        { atol: 1e-4, rtol: 1e-4 },
      );
    });
  }

  it('attention', async () => {
    const s = freshSeed();
    const [B, T, C, NH] = [2, 6, 12, 3];
    const TT = B * NH * T * T;
    await compare(
      p,
      s,
      { out: u(B * T * C, s), preatt: u(TT, s + 1), att: u(TT, s + 2), qkv: u(B * T * 3 * C, s + 3), dout: u(B * T * C, s + 4), dqkv: u(B * T * 3 * C, s + 5), dpreatt: new Float32Array(TT), datt: new Float32Array(TT) },
      (be, t) => {
        be.attentionForward(t.out!, t.preatt!, t.att!, t.qkv!, B, T, C, NH);
        be.attentionBackward(t.dqkv!, t.dpreatt!, t.datt!, t.dout!, t.qkv!, t.att!, B, T, C, NH);
      },
      ['out', 'preatt', 'att', 'dqkv', 'dpreatt', 'datt'],
    );
  });

  it('gelu, residual, softmax cross-entropy', async () => {
    const s = freshSeed();
    const [N, V] = [9, 37];
    const targets = ids(N, V, s);
    targets[4] = -100; // ignore_index
    await compare(
      p,
      s,
      {
        x: u(N * V, s + 1, -4, 4), y: u(N * V, s + 2), g: u(N * V, s + 3), r: u(N * V, s + 4), dx: u(N * V, s + 5), dy: u(N * V, s + 6),
        losses: u(N, s + 7), probs: u(N * V, s + 8), targets, dlosses: u(N, s + 9), dlogits: u(N * V, s + 10),
      },
      (be, t) => {
        be.geluForward(t.g!, t.x!, N * V);
        be.geluBackward(t.dx!, t.x!, t.y!, N * V);
        be.residualForward(t.r!, t.x!, t.y!, N * V);
        be.residualBackward(t.dx!, t.dy!, t.g!, N * V);
        be.softmaxCrossEntropyForward(t.losses!, t.probs!, t.x!, t.targets!, N, V);
        be.softmaxCrossEntropyBackward(t.dlogits!, t.dlosses!, t.probs!, t.targets!, N, V);
      },
      ['g', 'r', 'dx', 'dy', 'losses', 'probs', 'dlogits'],
    );
  });

  it('global norm, AdamW, SGD with momentum', async () => {
    const s = freshSeed();
    const N = 333;
    const norms: number[] = [];
    await compare(
      p,
      s,
      { p: u(N, s), g: u(N, s + 1), m: u(N, s + 2, -0.1, 0.1), v: u(N, s + 3, 0, 0.1), vel: u(N, s + 4) },
      async (be, t) => {
        const gn = await be.globalNormSquared(t.g!, N);
        norms.push(gn);
        const gradScale = Math.min(1, 5 / Math.sqrt(gn));
        for (let step = 1; step <= 2; step++) be.adamwUpdate(t.p!, t.g!, t.m!, t.v!, N, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step, gradScale });
        be.sgdMomentumUpdate(t.p!, t.g!, t.vel!, N, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, gradScale });
      },
      ['p', 'm', 'v', 'vel'],
      { atol: 1e-6, rtol: 1e-5 },
    );
    expect(Math.abs(norms[1]! - norms[0]!)).toBeLessThanOrEqual(1e-9 * norms[0]!);
  });
});
