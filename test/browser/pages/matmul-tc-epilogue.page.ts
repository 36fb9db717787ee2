/**
 * Browser side of test/browser/matmul-tc-epilogue.test.ts: the elementwise kernels around the
 * tensor-core matmul (gpu-shaders/src/matmul-tc/epilogue.wgsl: absmax, scaled pad, scaled
 * add_cols, bias_rows) and the fp32 routes of `encodeMatmulMixed` / `encodeMatmulBackwardMixed`,
 * each against plain loops on fresh random inputs. These need no subgroup matrices, so they run
 * under SwiftShader; the tensor-core products themselves are checked on a GPU by
 * bench/gpu/train-check.ts.
 */
import { encodeMatmulBackwardMixed, encodeMatmulEpilogue, encodeMatmulMixed, type EpilogueDims, GpuContext } from '@swarmgrad/gpu-shaders';
import { allclose, matmulBackward, matmulForward, randomUniform } from '@swarmgrad/peer-core/reference';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

/** The power of two that brings m into [2^14, 2^15), from m's exponent bits (as the kernel). */
function scaleOf(m: number): number {
  const bits = new Uint32Array(new Float32Array([m]).buffer)[0]!;
  return 2 ** (Math.min(253, Math.max(1, 268 - ((bits >>> 23) & 0xff))) - 127);
}

async function run(ctx: GpuContext, fn: (enc: GPUCommandEncoder) => void): Promise<void> {
  await ctx.checked('epilogue test', () => {
    const enc = ctx.device.createCommandEncoder();
    fn(enc);
    ctx.device.queue.submit([enc.finish()]);
  });
}

const api = {
  /**
   * absmax, then a scaled pad of (R,C) into (Rp,Cp) and a scaled add_cols of S slices (Rp,Cp)
   * back into (R,C); magnitude `mag`.
   */
  async scaled(seed: number, R: number, C: number, Rp: number, Cp: number, mag: number, S = 1) {
    const ctx = await context();
    const x = randomUniform(R * C, seed, -mag, mag);
    x[Math.floor(R * C / 3)] = -1.5 * mag; // a planted extreme (negative: |x| counts)
    const dst0 = randomUniform(R * C, seed + 1);
    const src2 = randomUniform(S * Rp * Cp, seed + 2, -mag, mag);
    const xb = ctx.buffer(x);
    const amax = ctx.buffer(16);
    const padded = ctx.buffer(Rp * Cp * 4);
    const dst = ctx.buffer(dst0);
    const src2b = ctx.buffer(src2);
    const dims: EpilogueDims = { R, C, Rp, Cp };
    await run(ctx, (enc) => {
      encodeMatmulEpilogue(ctx, enc, 'absmax', xb, null, dims, { amax });
      encodeMatmulEpilogue(ctx, enc, 'pad', xb, padded, dims, { amax, scaled: true });
      encodeMatmulEpilogue(ctx, enc, 'add_cols', src2b, dst, dims, { amax, scaled: true, slices: S });
    });
    const gotMax = (await ctx.readFloat32(amax, 1))[0]!;
    const refMax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const s = scaleOf(refMax);
    const refPad = new Float32Array(Rp * Cp);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) refPad[r * Cp + c] = x[r * C + c]! * s;
    const refAdd = new Float32Array(R * C);
    for (let r = 0; r < R; r++)
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let z = 0; z < S; z++) sum = Math.fround(sum + src2[z * Rp * Cp + r * Cp + c]!); // f32, in the kernel's order
        refAdd[r * C + c] = dst0[r * C + c]! + sum / s;
      }
    const gotPad = await ctx.readFloat32(padded, Rp * Cp);
    const gotAdd = await ctx.readFloat32(dst, R * C);
    const scaledMax = gotPad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (const b of [xb, amax, padded, dst, src2b]) b.destroy();
    return {
      gotMax,
      refMax,
      scale: s,
      scaledMax,
      pad: allclose(gotPad, refPad, { atol: 0, rtol: 0 }),
      add: allclose(gotAdd, refAdd, { atol: 1e-6, rtol: 1e-5 }),
    };
  },

  /** bias_rows: out = bias broadcast (+ out when accumulate). */
  async biasRows(seed: number, R: number, C: number, accumulate: boolean) {
    const ctx = await context();
    const bias = randomUniform(C, seed);
    const out0 = randomUniform(R * C, seed + 1);
    const bb = ctx.buffer(bias);
    const ob = ctx.buffer(out0);
    await run(ctx, (enc) => encodeMatmulEpilogue(ctx, enc, 'bias_rows', bb, ob, { R, C, Rp: R, Cp: C }, { accumulate }));
    const ref = new Float32Array(R * C);
    for (let i = 0; i < R * C; i++) ref[i] = (accumulate ? out0[i]! : 0) + bias[i % C]!;
    const got = await ctx.readFloat32(ob, R * C);
    bb.destroy();
    ob.destroy();
    return allclose(got, ref, { atol: 1e-6, rtol: 1e-6 });
  },

  /**
   * encodeMatmulMixed + encodeMatmulBackwardMixed with B stored (N,K) (transB) on a shape the
   * tensor cores do not take even with N padded: K (the row length of A and of B) not a multiple of 4.
   */
  async fp32Route(seed: number, M: number, K: number, N: number) {
    const ctx = await context();
    const a = randomUniform(M * K, seed);
    const b = randomUniform(K * N, seed + 1);
    const bias = randomUniform(N, seed + 2);
    const dout = randomUniform(M * N, seed + 3);
    const [ab, bb, biasb, doutb] = [a, b, bias, dout].map((d) => ctx.buffer(d));
    const outb = ctx.buffer(M * N * 4);
    const dab = ctx.buffer(M * K * 4);
    const dbb = ctx.buffer(K * N * 4);
    const dbiasb = ctx.buffer(N * 4);
    let routes: unknown;
    await run(ctx, (enc) => {
      const fwd = encodeMatmulMixed(ctx, enc, { M, K, N, transB: true, a: ab!, b: bb!, bias: biasb!, out: outb });
      const bwd = encodeMatmulBackwardMixed(ctx, enc, { M, K, N, transB: true, a: ab!, b: bb!, dout: doutb!, da: dab, db: dbb, dbias: dbiasb });
      routes = { fwd, bwd };
    });
    const out = new Float32Array(M * N);
    matmulForward(out, a, b, bias, { M, K, N, transB: true });
    const da = new Float32Array(M * K);
    const db = new Float32Array(K * N);
    const dbias = new Float32Array(N);
    matmulBackward(da, db, dbias, dout, a, b, { M, K, N, transB: true });
    const tol = { atol: 1e-4, rtol: 1e-4 };
    const res = {
      routes,
      out: allclose(await ctx.readFloat32(outb, M * N), out, tol),
      da: allclose(await ctx.readFloat32(dab, M * K), da, tol),
      db: allclose(await ctx.readFloat32(dbb, K * N), db, tol),
      dbias: allclose(await ctx.readFloat32(dbiasb, N), dbias, tol),
    };
    for (const x of [ab, bb, biasb, doutb, outb, dab, dbb, dbiasb]) x!.destroy();
    return res;
  },
};

declare global {
  interface Window {
    swarmgradTcEpilogue: typeof api;
  }
}
window.swarmgradTcEpilogue = api;
