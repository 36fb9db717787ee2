/**
 * Browser side of the WASM kernel test: instantiates @swarmgrad/wasm in the page (async, as a
 * browser main thread requires), runs each op forward and backward on fresh random inputs, runs
 * the CPU reference on the same inputs in the page, and returns allclose reports to Node.
 */
// imported by path: the package root also exports the network stack, which this page does not need
import { createWasmBackend } from '../../../../peer-core/src/backend/wasm/index.ts';
import * as ref from '@swarmgrad/peer-core/reference';
import { allclose, mulberry32, randomUniform } from '@swarmgrad/peer-core/reference';
import { createWasmKernels, supportedVariants, type WasmTensor, type WasmVariant } from '@swarmgrad/wasm';

interface Report {
  name: string;
  ok: boolean;
  message: string;
}

const api = {
  simd(): boolean {
    // the smallest module using a v128 type: validates only where SIMD is supported
    const bytes = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11);
    return WebAssembly.validate(bytes);
  },

  variants(): WasmVariant[] {
    return supportedVariants();
  },

  async ops(seed: number, variant: WasmVariant): Promise<Report[]> {
    const k = await createWasmKernels({ variant });
    const reports: Report[] = [];
    const put = (a: Float32Array | Int32Array) => k.fromArray(a);
    const cmp = (name: string, got: WasmTensor, want: Float32Array, tol = { atol: 1e-4, rtol: 1e-4 }) => {
      const r = allclose(k.read(got), want, tol);
      reports.push({ name, ok: r.ok, message: r.message });
    };
    const u = (n: number, s: number, lo = -1, hi = 1) => randomUniform(n, seed + s, lo, hi);

    // matmul, every transpose variant, with bias and accumulation, forward and backward
    let s = 0;
    for (const [M, K, N, transA, transB] of [
      [37, 53, 29, false, false],
      [33, 17, 70, true, false],
      [50, 300, 19, false, true],
      [21, 40, 35, true, true],
    ] as const) {
      const shape = { M, K, N, transA, transB };
      const [a, b, bias, out, dout, da, db, dbias] = [u(M * K, s++), u(K * N, s++), u(N, s++), u(M * N, s++), u(M * N, s++), u(M * K, s++), u(K * N, s++), u(N, s++)];
      const t = [a, b, bias, out, dout, da, db, dbias].map(put);
      ref.matmulForward(out, a, b, bias, shape, true);
      k.matmulForward(t[3]!, t[0]!, t[1]!, t[2]!, shape, true);
      ref.matmulBackward(da, db, dbias, dout, a, b, shape);
      k.matmulBackward(t[5]!, t[6]!, t[7]!, t[4]!, t[0]!, t[1]!, shape);
      const tag = `matmul ${M}x${K}x${N} tA=${transA} tB=${transB}`;
      cmp(`${tag} out`, t[3]!, out);
      cmp(`${tag} da`, t[5]!, da);
      cmp(`${tag} db`, t[6]!, db);
      cmp(`${tag} dbias`, t[7]!, dbias);
      for (const x of t) k.free(x);
    }

    // encoder -> layernorm -> attention -> gelu -> residual -> softmax cross-entropy, fwd + bwd
    const [B, T, C, NH, V] = [2, 7, 12, 3, 23];
    const BT = B * T;
    const r = mulberry32(seed + 100);
    const inp = Int32Array.from({ length: BT }, () => Math.floor(r() * V));
    const targets = Int32Array.from({ length: BT }, (_, i) => (i === 3 ? -100 : Math.floor(r() * V)));
    const wte = u(V * C, 101);
    const wpe = u(T * C, 102);
    const enc = new Float32Array(BT * C);
    ref.encoderForward(enc, inp, wte, wpe, B, T, C);
    const [tInp, tTargets, tWte, tWpe, tEnc] = [put(inp), put(targets), put(wte), put(wpe), k.alloc(BT * C)];
    k.encoderForward(tEnc, tInp, tWte, tWpe, B, T, C);
    cmp('encoder out', tEnc, enc);

    const [lnw, lnb] = [u(C, 103), u(C, 104)];
    const [ln, mean, rstd] = [new Float32Array(BT * C), new Float32Array(BT), new Float32Array(BT)];
    ref.layernormForward(ln, mean, rstd, enc, lnw, lnb, BT, C);
    const [tLnw, tLnb, tLn, tMean, tRstd] = [put(lnw), put(lnb), k.alloc(BT * C), k.alloc(BT), k.alloc(BT)];
    k.layernormForward(tLn, tMean, tRstd, tEnc, tLnw, tLnb, BT, C);
    cmp('layernorm out', tLn, ln);

    const qkv = u(BT * 3 * C, 105, -2, 2);
    const TT = B * NH * T * T;
    const [att, preatt, attOut] = [new Float32Array(TT), new Float32Array(TT), new Float32Array(BT * C)];
    ref.attentionForward(attOut, preatt, att, qkv, B, T, C, NH);
    const [tQkv, tAtt, tPre, tAttOut] = [put(qkv), k.alloc(TT), k.alloc(TT), k.alloc(BT * C)];
    k.attentionForward(tAttOut, tPre, tAtt, tQkv, B, T, C, NH);
    cmp('attention out', tAttOut, attOut);
    cmp('attention att', tAtt, att);

    const gelu = new Float32Array(BT * C);
    ref.geluForward(gelu, attOut, BT * C);
    const tGelu = k.alloc(BT * C);
    k.geluForward(tGelu, tAttOut, BT * C);
    cmp('gelu out', tGelu, gelu);

    const res = new Float32Array(BT * C);
    ref.residualForward(res, gelu, ln, BT * C);
    const tRes = k.alloc(BT * C);
    k.residualForward(tRes, tGelu, tLn, BT * C);
    cmp('residual out', tRes, res);

    const logits = u(BT * V, 106, -5, 5);
    const [losses, probs] = [new Float32Array(BT), new Float32Array(BT * V)];
    ref.softmaxCrossEntropyForward(losses, probs, logits, targets, BT, V);
    const [tLogits, tLosses, tProbs] = [put(logits), k.alloc(BT), k.alloc(BT * V)];
    k.softmaxCrossEntropyForward(tLosses, tProbs, tLogits, tTargets, BT, V);
    cmp('cross-entropy losses', tLosses, losses, { atol: 1e-5, rtol: 1e-4 });

    // backward, from random non-zero gradients (accumulation)
    const dl = u(BT, 107);
    const dlogits = u(BT * V, 108);
    const [tDl, tDlogits] = [put(dl), put(dlogits)];
    ref.softmaxCrossEntropyBackward(dlogits, dl, probs, targets, BT, V);
    k.softmaxCrossEntropyBackward(tDlogits, tDl, tProbs, tTargets, BT, V);
    cmp('cross-entropy dlogits', tDlogits, dlogits, { atol: 1e-5, rtol: 1e-4 });

    const dres = u(BT * C, 109);
    const [dg, dln] = [u(BT * C, 110), u(BT * C, 111)];
    const [tDres, tDg, tDln] = [put(dres), put(dg), put(dln)];
    ref.residualBackward(dg, dln, dres, BT * C);
    k.residualBackward(tDg, tDln, tDres, BT * C);
    cmp('residual dgelu', tDg, dg);
    const dAttOut = u(BT * C, 112);
    const tDAttOut = put(dAttOut);
    ref.geluBackward(dAttOut, attOut, dg, BT * C);
    k.geluBackward(tDAttOut, tAttOut, tDg, BT * C);
    cmp('gelu dinp', tDAttOut, dAttOut);

    const [dqkv, dpre, datt] = [u(BT * 3 * C, 113), new Float32Array(TT), new Float32Array(TT)];
    const [tDqkv, tDpre, tDatt] = [put(dqkv), k.zeros(TT), k.zeros(TT)];
    ref.attentionBackward(dqkv, dpre, datt, dAttOut, qkv, att, B, T, C, NH);
    k.attentionBackward(tDqkv, tDpre, tDatt, tDAttOut, tQkv, tAtt, B, T, C, NH);
    cmp('attention dqkv', tDqkv, dqkv);

    const [denc, dlnw, dlnb] = [u(BT * C, 114), u(C, 115), u(C, 116)];
    const [tDenc, tDlnw, tDlnb] = [put(denc), put(dlnw), put(dlnb)];
    ref.layernormBackward(denc, dlnw, dlnb, dln, enc, lnw, mean, rstd, BT, C);
    k.layernormBackward(tDenc, tDlnw, tDlnb, tDln, tEnc, tLnw, tMean, tRstd, BT, C);
    cmp('layernorm dinp', tDenc, denc);
    cmp('layernorm dweight', tDlnw, dlnw);

    const [dwte, dwpe] = [u(V * C, 117), u(T * C, 118)];
    const [tDwte, tDwpe] = [put(dwte), put(dwpe)];
    ref.encoderBackward(dwte, dwpe, denc, inp, B, T, C);
    k.encoderBackward(tDwte, tDwpe, tDenc, tInp, B, T, C);
    cmp('encoder dwte', tDwte, dwte);
    cmp('encoder dwpe', tDwpe, dwpe);

    // optimizer
    const opt = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    const [m, v] = [u(V * C, 119, -0.1, 0.1), u(V * C, 120, 0, 0.1)];
    const [tM, tV] = [put(m), put(v)];
    ref.adamwUpdate(wte, dwte, m, v, V * C, opt);
    k.adamwUpdate(tWte, tDwte, tM, tV, V * C, opt);
    cmp('adamw params', tWte, wte, { atol: 1e-6, rtol: 1e-5 });
    // on identical inputs (dwte and tDwte differ by the tolerated rounding)
    const gn = ref.globalNormSquared(dwte, V * C);
    const got = k.globalNormSquared(put(dwte), V * C);
    reports.push({ name: 'global norm', ok: Math.abs(got - gn) <= 1e-9 * gn, message: `got ${got} ref ${gn}` });
    return reports;
  },

  /** The peer-core wasm Backend in the page: a small matmul through the interface. */
  async backendMatmul(seed: number): Promise<Report> {
    const be = await createWasmBackend();
    const [M, K, N] = [9, 14, 11];
    const a = randomUniform(M * K, seed);
    const b = randomUniform(K * N, seed + 1);
    const want = new Float32Array(M * N);
    ref.matmulForward(want, a, b, null, { M, K, N });
    const [ta, tb, to] = [be.alloc(M * K), be.alloc(K * N), be.alloc(M * N)];
    be.write(ta, a);
    be.write(tb, b);
    be.matmulForward(to, ta, tb, null, { M, K, N });
    const r = allclose(await be.read(to), want, { atol: 1e-4, rtol: 1e-4 });
    return { name: 'backend matmul', ok: r.ok, message: r.message };
  },
};

declare global {
  interface Window {
    swarmgradWasmTest: typeof api;
  }
}
window.swarmgradWasmTest = api;
