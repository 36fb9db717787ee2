/**
 * Browser side of the kernel tests: runs each WGSL kernel (forward and backward) on fresh
 * random inputs, runs the CPU reference on the same inputs in the page, and returns
 * allclose reports for Node to assert on. Gradient buffers start random, so the tests also
 * check that backward kernels accumulate (+=) as the reference does.
 */
import * as gpu from '@swarmgrad/gpu-shaders';
import { GpuContext, type MatmulVariant } from '@swarmgrad/gpu-shaders';
import * as ref from '@swarmgrad/peer-core/reference';
import { type AllcloseReport, allclose, randomUniform } from '@swarmgrad/peer-core/reference';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

type Reports = Record<string, AllcloseReport>;

/** Record with `fn`, submit, wait; GPU validation errors are thrown. */
async function run(ctx: GpuContext, what: string, fn: (enc: GPUCommandEncoder) => void): Promise<void> {
  await ctx.checked(what, () => {
    const enc = ctx.device.createCommandEncoder();
    fn(enc);
    ctx.device.queue.submit([enc.finish()]);
  });
  await ctx.device.queue.onSubmittedWorkDone();
}

const read = (ctx: GpuContext, b: GPUBuffer, n: number) => ctx.readFloat32(b, n);

function tokens(n: number, V: number, seed: number): Int32Array {
  const r = ref.mulberry32(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * V));
}

const MM_TOL = { atol: 2e-4, rtol: 1e-3 };
const TOL = { atol: 1e-4, rtol: 1e-3 };

const api = {
  async adapterInfo() {
    const ctx = await context();
    const i = ctx.adapterInfo;
    return { vendor: i?.vendor, architecture: i?.architecture, description: i?.description, features: [...ctx.features] };
  },

  async matmul(
    seed: number,
    M: number,
    K: number,
    N: number,
    opts: { transA?: boolean; transB?: boolean; bias?: boolean; accumulate?: boolean; variant?: MatmulVariant; splitK?: number; padK?: boolean },
  ) {
    const ctx = await context();
    const a = randomUniform(M * K, seed);
    const b = randomUniform(K * N, seed + 1);
    const bias = opts.bias ? randomUniform(N, seed + 2) : null;
    const out0 = opts.accumulate ? randomUniform(M * N, seed + 3) : new Float32Array(M * N);
    const want = out0.slice();
    ref.matmulForward(want, a, b, bias, { M, K, N, transA: opts.transA, transB: opts.transB }, !!opts.accumulate);
    const out = ctx.buffer(out0);
    await gpu.matmul(ctx, {
      M,
      K,
      N,
      transA: opts.transA,
      transB: opts.transB,
      accumulate: opts.accumulate,
      a: ctx.buffer(a),
      b: ctx.buffer(b),
      bias: bias ? ctx.buffer(bias) : undefined,
      out,
      variant: opts.variant,
      splitK: opts.splitK,
      padK: opts.padK,
    });
    return allclose(await read(ctx, out, M * N), want, MM_TOL);
  },

  /**
   * out = A·B (+ bias) with A and out two views of one buffer (as in an activation arena: the
   * aliased input is bound read_write) and B, bias in a second buffer (read-only views).
   */
  async matmulAliased(seed: number, M: number, K: number, N: number, opts: { transB?: boolean; bias?: boolean }) {
    const ctx = await context();
    const a = randomUniform(M * K, seed);
    const b = randomUniform(K * N, seed + 1);
    const bias = opts.bias ? randomUniform(N, seed + 2) : null;
    const want = new Float32Array(M * N);
    ref.matmulForward(want, a, b, bias, { M, K, N, transB: opts.transB }, false);
    const al = (n: number) => Math.ceil(n / 64) * 64; // 256-byte view offsets
    const arena = new Float32Array(al(M * K) + M * N);
    arena.set(a);
    const wb = new Float32Array(al(K * N) + N);
    wb.set(b);
    if (bias) wb.set(bias, al(K * N));
    const [A, W] = [ctx.buffer(arena), ctx.buffer(wb)];
    const outOff = al(M * K) * 4;
    await run(ctx, 'matmulAliased', (enc) =>
      gpu.encodeMatmul(ctx, enc, {
        M,
        K,
        N,
        transB: opts.transB,
        a: { buffer: A, offset: 0, size: M * K * 4 },
        b: { buffer: W, offset: 0, size: K * N * 4 },
        bias: bias ? { buffer: W, offset: al(K * N) * 4, size: N * 4 } : null,
        out: { buffer: A, offset: outOff, size: M * N * 4 },
      }),
    );
    const all = await read(ctx, A, arena.length);
    return allclose(all.subarray(al(M * K)), want, MM_TOL);
  },

  /** The pad kernel (a strided block at an offset into a zero-padded packed copy) vs padMatrix. */
  async pad(seed: number, R: number, C: number, Rp: number, Cp: number, ld: number, off: number) {
    const ctx = await context();
    const inp = randomUniform(off + (R - 1) * ld + C + 5, seed);
    const out = ctx.buffer(randomUniform(Rp * Cp, seed + 1)); // every element must be overwritten
    await run(ctx, 'pad', (enc) => gpu.encodePad(ctx, enc, { R, C, Rp, Cp, ld, off, inp: ctx.buffer(inp), out }));
    return allclose(await read(ctx, out, Rp * Cp), ref.padMatrix(inp, R, C, Rp, Cp, ld, off), { atol: 0, rtol: 0 });
  },

  async matmulBackward(seed: number, M: number, K: number, N: number, opts: { transA?: boolean; transB?: boolean; variant?: MatmulVariant; padK?: boolean }): Promise<Reports> {
    const ctx = await context();
    const shape = { M, K, N, transA: opts.transA, transB: opts.transB };
    const a = randomUniform(M * K, seed);
    const b = randomUniform(K * N, seed + 1);
    const dout = randomUniform(M * N, seed + 2);
    const da0 = randomUniform(M * K, seed + 3);
    const db0 = randomUniform(K * N, seed + 4);
    const dbias0 = randomUniform(N, seed + 5);
    const [da, db, dbias] = [da0.slice(), db0.slice(), dbias0.slice()];
    ref.matmulBackward(da, db, dbias, dout, a, b, shape);
    const g = { da: ctx.buffer(da0), db: ctx.buffer(db0), dbias: ctx.buffer(dbias0) };
    await run(ctx, 'matmulBackward', (enc) =>
      gpu.encodeMatmulBackward(ctx, enc, { ...shape, dout: ctx.buffer(dout), a: ctx.buffer(a), b: ctx.buffer(b), ...g, variant: opts.variant, padK: opts.padK }),
    );
    return {
      da: allclose(await read(ctx, g.da, M * K), da, MM_TOL),
      db: allclose(await read(ctx, g.db, K * N), db, MM_TOL),
      dbias: allclose(await read(ctx, g.dbias, N), dbias, MM_TOL),
    };
  },

  async matmulBadShape() {
    const ctx = await context();
    try {
      await gpu.matmul(ctx, { M: 4, K: 4, N: 4, a: ctx.buffer(8), b: ctx.buffer(64), out: ctx.buffer(64) });
      return 'no error';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  },

  async encoder(seed: number, B: number, T: number, C: number, V: number, maxT: number): Promise<Reports> {
    const ctx = await context();
    const inp = tokens(B * T, V, seed);
    const wte = randomUniform(V * C, seed + 1);
    const wpe = randomUniform(maxT * C, seed + 2);
    const out = new Float32Array(B * T * C);
    ref.encoderForward(out, inp, wte, wpe, B, T, C);
    const dout = randomUniform(B * T * C, seed + 3);
    const dwte0 = randomUniform(V * C, seed + 4);
    const dwpe0 = randomUniform(maxT * C, seed + 5);
    const [dwte, dwpe] = [dwte0.slice(), dwpe0.slice()];
    ref.encoderBackward(dwte, dwpe, dout, inp, B, T, C);
    const g = { out: ctx.buffer(B * T * C * 4), inp: ctx.buffer(inp), dwte: ctx.buffer(dwte0), dwpe: ctx.buffer(dwpe0) };
    await run(ctx, 'encoder', (enc) => {
      gpu.encodeEncoderForward(ctx, enc, { out: g.out, inp: g.inp, wte: ctx.buffer(wte), wpe: ctx.buffer(wpe), B, T, C, V });
      gpu.encodeEncoderBackward(ctx, enc, { dwte: g.dwte, dwpe: g.dwpe, dout: ctx.buffer(dout), inp: g.inp, B, T, C, V });
    });
    return {
      out: allclose(await read(ctx, g.out, B * T * C), out, TOL),
      dwte: allclose(await read(ctx, g.dwte, V * C), dwte, TOL),
      dwpe: allclose(await read(ctx, g.dwpe, maxT * C), dwpe, TOL),
    };
  },

  async layernorm(seed: number, N: number, C: number): Promise<Reports> {
    const ctx = await context();
    const inp = randomUniform(N * C, seed, -2, 3);
    const weight = randomUniform(C, seed + 1);
    const bias = randomUniform(C, seed + 2);
    const [out, mean, rstd] = [new Float32Array(N * C), new Float32Array(N), new Float32Array(N)];
    ref.layernormForward(out, mean, rstd, inp, weight, bias, N, C);
    const dout = randomUniform(N * C, seed + 3);
    const dinp0 = randomUniform(N * C, seed + 4);
    const dw0 = randomUniform(C, seed + 5);
    const db0 = randomUniform(C, seed + 6);
    const [dinp, dw, db] = [dinp0.slice(), dw0.slice(), db0.slice()];
    ref.layernormBackward(dinp, dw, db, dout, inp, weight, mean, rstd, N, C);
    const g = {
      out: ctx.buffer(N * C * 4),
      mean: ctx.buffer(N * 4),
      rstd: ctx.buffer(N * 4),
      inp: ctx.buffer(inp),
      weight: ctx.buffer(weight),
      dinp: ctx.buffer(dinp0),
      dw: ctx.buffer(dw0),
      db: ctx.buffer(db0),
    };
    await run(ctx, 'layernorm', (enc) => {
      gpu.encodeLayernormForward(ctx, enc, { out: g.out, mean: g.mean, rstd: g.rstd, inp: g.inp, weight: g.weight, bias: ctx.buffer(bias), N, C });
      gpu.encodeLayernormBackward(ctx, enc, { dinp: g.dinp, dweight: g.dw, dbias: g.db, dout: ctx.buffer(dout), inp: g.inp, weight: g.weight, mean: g.mean, rstd: g.rstd, N, C });
    });
    return {
      out: allclose(await read(ctx, g.out, N * C), out, TOL),
      mean: allclose(await read(ctx, g.mean, N), mean, TOL),
      rstd: allclose(await read(ctx, g.rstd, N), rstd, TOL),
      dinp: allclose(await read(ctx, g.dinp, N * C), dinp, TOL),
      dweight: allclose(await read(ctx, g.dw, C), dw, TOL),
      dbias: allclose(await read(ctx, g.db, C), db, TOL),
    };
  },

  async elementwise(seed: number, N: number): Promise<Reports> {
    const ctx = await context();
    const x = randomUniform(N, seed, -6, 6);
    const y = randomUniform(N, seed + 1);
    const dout = randomUniform(N, seed + 2);
    const d0 = randomUniform(N, seed + 3);
    const d1 = randomUniform(N, seed + 4);
    const gelu = new Float32Array(N);
    ref.geluForward(gelu, x, N);
    const dgelu = d0.slice();
    ref.geluBackward(dgelu, x, dout, N);
    const res = new Float32Array(N);
    ref.residualForward(res, x, y, N);
    const [da, db] = [d0.slice(), d1.slice()];
    ref.residualBackward(da, db, dout, N);
    const g = { x: ctx.buffer(x), gelu: ctx.buffer(N * 4), dgelu: ctx.buffer(d0), res: ctx.buffer(N * 4), da: ctx.buffer(d0), db: ctx.buffer(d1), dout: ctx.buffer(dout) };
    await run(ctx, 'elementwise', (enc) => {
      gpu.encodeGeluForward(ctx, enc, { out: g.gelu, inp: g.x, N });
      gpu.encodeGeluBackward(ctx, enc, { dinp: g.dgelu, inp: g.x, dout: g.dout, N });
      gpu.encodeResidualForward(ctx, enc, { out: g.res, a: g.x, b: ctx.buffer(y), N });
      gpu.encodeResidualBackward(ctx, enc, { da: g.da, db: g.db, dout: g.dout, N });
    });
    return {
      geluForward: allclose(await read(ctx, g.gelu, N), gelu, { atol: 1e-5, rtol: 1e-4 }),
      geluBackward: allclose(await read(ctx, g.dgelu, N), dgelu, { atol: 1e-5, rtol: 1e-4 }),
      residualForward: allclose(await read(ctx, g.res, N), res, { atol: 1e-6, rtol: 1e-6 }),
      residualBackwardA: allclose(await read(ctx, g.da, N), da, { atol: 1e-6, rtol: 1e-6 }),
      residualBackwardB: allclose(await read(ctx, g.db, N), db, { atol: 1e-6, rtol: 1e-6 }),
    };
  },

  async crossEntropy(seed: number, N: number, V: number): Promise<Reports> {
    const ctx = await context();
    const logits = randomUniform(N * V, seed, -8, 8);
    const targets = tokens(N, V, seed + 1);
    targets[0] = -100; // ignored position: loss 0, no gradient
    const dlosses = randomUniform(N, seed + 2, 0, 1);
    const dlogits0 = randomUniform(N * V, seed + 3);
    const [losses, probs, dlogits] = [new Float32Array(N), new Float32Array(N * V), dlogits0.slice()];
    ref.softmaxCrossEntropyForward(losses, probs, logits, targets, N, V);
    ref.softmaxCrossEntropyBackward(dlogits, dlosses, probs, targets, N, V);
    const g = { losses: ctx.buffer(N * 4), probs: ctx.buffer(N * V * 4), targets: ctx.buffer(targets), dlogits: ctx.buffer(dlogits0) };
    await run(ctx, 'crossEntropy', (enc) => {
      gpu.encodeCrossEntropyForward(ctx, enc, { losses: g.losses, probs: g.probs, logits: ctx.buffer(logits), targets: g.targets, N, V });
      gpu.encodeCrossEntropyBackward(ctx, enc, { dlogits: g.dlogits, dlosses: ctx.buffer(dlosses), probs: g.probs, targets: g.targets, N, V });
    });
    return {
      losses: allclose(await read(ctx, g.losses, N), losses, TOL),
      probs: allclose(await read(ctx, g.probs, N * V), probs, { atol: 1e-6, rtol: 1e-4 }),
      dlogits: allclose(await read(ctx, g.dlogits, N * V), dlogits, TOL),
    };
  },

  async attention(seed: number, B: number, T: number, C: number, NH: number, impl: gpu.AttentionImpl): Promise<Reports> {
    const ctx = await context();
    const qkv = randomUniform(B * T * 3 * C, seed, -1.5, 1.5);
    const TT = B * NH * T * T;
    const [out, preatt, att] = [new Float32Array(B * T * C), new Float32Array(TT), new Float32Array(TT)];
    ref.attentionForward(out, preatt, att, qkv, B, T, C, NH);
    const dout = randomUniform(B * T * C, seed + 1);
    const dqkv0 = randomUniform(B * T * 3 * C, seed + 2);
    const [dqkv, dpreatt, datt] = [dqkv0.slice(), new Float32Array(TT), new Float32Array(TT)];
    ref.attentionBackward(dqkv, dpreatt, datt, dout, qkv, att, B, T, C, NH);
    const g = {
      qkv: ctx.buffer(qkv),
      out: ctx.buffer(B * T * C * 4),
      preatt: ctx.buffer(TT * 4),
      att: ctx.buffer(TT * 4),
      dqkv: ctx.buffer(dqkv0),
      dpreatt: ctx.buffer(TT * 4),
      datt: ctx.buffer(TT * 4),
    };
    await run(ctx, 'attention', (enc) => {
      gpu.encodeAttentionForward(ctx, enc, { out: g.out, preatt: g.preatt, att: g.att, qkv: g.qkv, B, T, C, NH, impl });
      gpu.encodeAttentionBackward(ctx, enc, { dqkv: g.dqkv, dpreatt: g.dpreatt, datt: g.datt, dout: ctx.buffer(dout), qkv: g.qkv, att: g.att, B, T, C, NH, impl });
    });
    return {
      out: allclose(await read(ctx, g.out, B * T * C), out, TOL),
      preatt: allclose(await read(ctx, g.preatt, TT), preatt, TOL),
      att: allclose(await read(ctx, g.att, TT), att, TOL),
      dqkv: allclose(await read(ctx, g.dqkv, B * T * 3 * C), dqkv, TOL),
      datt: allclose(await read(ctx, g.datt, TT), datt, TOL),
      dpreatt: allclose(await read(ctx, g.dpreatt, TT), dpreatt, TOL),
    };
  },

  async optimizers(seed: number, N: number, maxNorm: number): Promise<Reports & { normSq: AllcloseReport }> {
    const ctx = await context();
    const grads = randomUniform(N, seed, -0.5, 0.5);
    const params0 = randomUniform(N, seed + 1);
    const m0 = randomUniform(N, seed + 2, -0.01, 0.01);
    const v0 = randomUniform(N, seed + 3, 0, 0.01);
    const vel0 = randomUniform(N, seed + 4, -0.1, 0.1);
    const normSq = ref.globalNormSquared(grads, N);
    const clipScale = Math.min(1, maxNorm / Math.sqrt(normSq));
    const adamOpts = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    const sgdOpts = { lr: 0.05, momentum: 0.9, weightDecay: 0.01, gradScale: 0.5 };
    const [pA, m, v, pS, vel] = [params0.slice(), m0.slice(), v0.slice(), params0.slice(), vel0.slice()];
    ref.adamwUpdate(pA, grads, m, v, N, { ...adamOpts, gradScale: adamOpts.gradScale * clipScale });
    ref.sgdMomentumUpdate(pS, grads, vel, N, { ...sgdOpts, gradScale: sgdOpts.gradScale * clipScale });
    const g = { grads: ctx.buffer(grads), normSq: ctx.buffer(4), pA: ctx.buffer(params0), m: ctx.buffer(m0), v: ctx.buffer(v0), pS: ctx.buffer(params0), vel: ctx.buffer(vel0) };
    const clip = { normSq: g.normSq, maxNorm };
    const hyperA = ctx.buffer(gpu.adamwHyper({ ...adamOpts, clip }));
    const hyperS = ctx.buffer(gpu.sgdHyper({ ...sgdOpts, clip }));
    await run(ctx, 'optimizers', (enc) => {
      gpu.encodeGlobalNormSquared(ctx, enc, { grads: g.grads, N, normSq: g.normSq });
      gpu.encodeAdamW(ctx, enc, { params: g.pA, grads: g.grads, m: g.m, v: g.v, N, ...adamOpts, clip, hyper: hyperA });
      gpu.encodeSgdMomentum(ctx, enc, { params: g.pS, grads: g.grads, velocity: g.vel, N, ...sgdOpts, clip, hyper: hyperS });
    });
    return {
      normSq: allclose(await read(ctx, g.normSq, 1), [normSq], { atol: 1e-4, rtol: 1e-4 }),
      adamwParams: allclose(await read(ctx, g.pA, N), pA, { atol: 1e-5, rtol: 1e-4 }),
      adamwM: allclose(await read(ctx, g.m, N), m, { atol: 1e-6, rtol: 1e-4 }),
      adamwV: allclose(await read(ctx, g.v, N), v, { atol: 1e-7, rtol: 1e-4 }),
      sgdParams: allclose(await read(ctx, g.pS, N), pS, { atol: 1e-5, rtol: 1e-4 }),
      sgdVelocity: allclose(await read(ctx, g.vel, N), vel, { atol: 1e-5, rtol: 1e-4 }),
    };
  },

  /**
   * A small forward+backward sequence recorded twice on the same buffers: returns the
   * context's creation counters after each run (the second must create nothing).
   */
  async steadyState() {
    const ctx = await context();
    const [M, K, N] = [24, 32, 20];
    const b = { a: ctx.buffer(randomUniform(M * K, 1)), w: ctx.buffer(randomUniform(K * N, 2)), bias: ctx.buffer(randomUniform(N, 3)), h: ctx.buffer(M * N * 4), g: ctx.buffer(M * N * 4) };
    const d = { h: ctx.buffer(randomUniform(M * N, 4)), g: ctx.buffer(M * N * 4), a: ctx.buffer(M * K * 4), w: ctx.buffer(K * N * 4), bias: ctx.buffer(N * 4), ln: ctx.buffer(N * 4), lnb: ctx.buffer(N * 4) };
    const st = { mean: ctx.buffer(M * 4), rstd: ctx.buffer(M * 4), out: ctx.buffer(M * N * 4), normSq: ctx.buffer(4), m: ctx.buffer(K * N * 4), v: ctx.buffer(K * N * 4), hyper: ctx.buffer(gpu.HYPER_BYTES) };
    const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, gradScale: 1, clip: { normSq: st.normSq, maxNorm: 1 } };
    let stepNo = 0;
    const step = async () => {
      adam.step = ++stepNo; // per-step hyperparameters change without creating anything
      ctx.device.queue.writeBuffer(st.hyper, 0, gpu.adamwHyper(adam));
      await run(ctx, 'steadyState', (enc) => {
        gpu.encodeMatmul(ctx, enc, { M, K, N, a: b.a, b: b.w, bias: b.bias, out: b.h });
        gpu.encodeGeluForward(ctx, enc, { out: b.g, inp: b.h, N: M * N });
        gpu.encodeLayernormForward(ctx, enc, { out: st.out, mean: st.mean, rstd: st.rstd, inp: b.g, weight: b.bias, bias: b.bias, N: M, C: N });
        gpu.encodeLayernormBackward(ctx, enc, { dinp: d.g, dweight: d.ln, dbias: d.lnb, dout: d.h, inp: b.g, weight: b.bias, mean: st.mean, rstd: st.rstd, N: M, C: N });
        gpu.encodeGeluBackward(ctx, enc, { dinp: d.h, inp: b.h, dout: d.g, N: M * N });
        gpu.encodeMatmulBackward(ctx, enc, { M, K, N, dout: d.h, a: b.a, b: b.w, da: d.a, db: d.w, dbias: d.bias });
        gpu.encodeGlobalNormSquared(ctx, enc, { grads: d.w, N: K * N, normSq: st.normSq });
        gpu.encodeAdamW(ctx, enc, { params: b.w, grads: d.w, m: st.m, v: st.v, N: K * N, ...adam, hyper: st.hyper });
      });
      return ctx.stats;
    };
    const first = await step();
    const second = await step();
    return { first, second };
  },
};

declare global {
  interface Window {
    swarmgradTest: typeof api;
  }
}
window.swarmgradTest = api;
