/**
 * WGSL matmul kernels on WebGPU (SwiftShader on GPU-less machines) vs the CPU reference, on
 * fresh random inputs of awkward sizes (not multiples of any tile): the plain 16×16 tiled
 * kernel, the register-blocked vec4 kernel (64×64 and 128×128 tiles, BK 8 and 16) and its
 * any-shape scalar twin, the CPU-shaped lanes kernel (register tiles, no workgroup memory) in
 * several tile shapes, forward in every transpose variant with bias and accumulation, and
 * backward (dA, dB, dbias); batched, strided, scaled and causal products (as attention issues
 * them) for the lanes and blocked kernels. `auto` picks by adapter family: on SwiftShader the
 * lanes kernel, elsewhere the any-shape kernel for the ragged sizes and split-K for a long K
 * over few output tiles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { freshSeed } from '@swarmgrad/peer-core/reference';
import { anyBindings, chooseMatmulVariant } from '@swarmgrad/gpu-shaders';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradMatmul', { path: 'matmul.html' });
});

afterAll(() => t?.close());

/**
 * `lanes…s` variants share A through subgroups of exactly 4 invocations ('subgroups' feature,
 * subgroup size 4, as SwiftShader has): elsewhere they cannot compile, so their tests skip.
 */
async function skipWithoutSubgroups4(tc: { skip: (note?: string) => void }, variant?: string): Promise<void> {
  if (!variant || !/^lanes.*s$/.test(variant)) return;
  const { subgroups4 } = await t.page.evaluate(() => window.swarmgradMatmul.choice({ M: 1, K: 1, N: 1 }));
  if (!subgroups4) tc.skip('this adapter has no subgroups of exactly 4 invocations, which lanes…s variants need');
}

describe('matmul kernels on WebGPU vs CPU reference', () => {
  it('has a WebGPU adapter', async () => {
    const info = await t.page.evaluate(() => window.swarmgradTest.adapterInfo());
    expect(info).toBeTruthy();
  });

  const cases = [
    { M: 37, K: 53, N: 29, opts: { variant: 'tiled16' } },
    { M: 33, K: 17, N: 70, opts: { variant: 'tiled16', transA: true, transB: true, bias: true, accumulate: true } },
    { M: 37, K: 53, N: 29, opts: {} },
    { M: 67, K: 129, N: 45, opts: { bias: true } },
    { M: 33, K: 17, N: 70, opts: { transA: true } },
    { M: 50, K: 31, N: 19, opts: { transB: true, bias: true } },
    { M: 21, K: 40, N: 35, opts: { transA: true, transB: true, accumulate: true } },
    // register-blocked: contiguous dims multiples of 4, everything else ragged
    { M: 67, K: 132, N: 76, opts: { variant: 'blocked64', bias: true } },
    { M: 36, K: 45, N: 68, opts: { variant: 'blocked64', transA: true, accumulate: true } },
    { M: 61, K: 44, N: 52, opts: { variant: 'blocked64k16', transB: true, bias: true } },
    { M: 44, K: 36, N: 20, opts: { variant: 'blocked64', transA: true, transB: true, accumulate: true, bias: true } },
    { M: 131, K: 36, N: 136, opts: { variant: 'blocked128', bias: true, accumulate: true } },
    { M: 140, K: 72, N: 132, opts: { variant: 'blocked128k16', transA: true, transB: true } },
    { M: 70, K: 52, N: 12, opts: { variant: 'auto', transB: true } },
    { M: 129, K: 45, N: 131, opts: { variant: 'any128', transA: true, bias: true } },
    { M: 45, K: 23, N: 67, opts: { variant: 'any64', transB: true, accumulate: true } },
    // any-shape kernel with mixed bindings: LM-head shape (vec4 A and B, scalar out at N = 131)
    { M: 70, K: 36, N: 131, opts: { transB: true } },
    { M: 133, K: 36, N: 131, opts: { variant: 'any128', transB: true, accumulate: true } },
    // scalar A (lda 45): all scalar; then all four bound as vec4 (any64 forced on aligned dims);
    // then vec4 A and B with scalar out and bias (N = 66)
    { M: 37, K: 45, N: 68, opts: { bias: true, accumulate: true } },
    { M: 37, K: 44, N: 68, opts: { variant: 'any64', bias: true, accumulate: true } },
    { M: 37, K: 44, N: 66, opts: { variant: 'any64', transB: true, bias: true } },
    // auto splits a long K over few output tiles (split-K: sliced batch + sum pass)
    { M: 36, K: 2048, N: 44, opts: { transA: true, bias: true, accumulate: true } },
    // forced split-K (the rule auto applies to B-transposed products on GPUs)
    { M: 37, K: 96, N: 44, opts: { splitK: 2, transB: true, bias: true, accumulate: true } },
    { M: 36, K: 64, N: 40, opts: { splitK: 4, variant: 'blocked64' } },
    // rectangular register-blocked tiles
    { M: 131, K: 36, N: 76, opts: { variant: 'blocked128x64', bias: true } },
    { M: 67, K: 40, N: 132, opts: { variant: 'blocked64x128', transB: true, accumulate: true } },
    { M: 68, K: 37, N: 132, opts: { variant: 'blocked64x128', transA: true, bias: true } },
    { M: 133, K: 48, N: 68, opts: { variant: 'blocked128x64k16', transB: true } },
    // padded-K path: K (the contiguous dimension of A, or of B when transposed) not a multiple of
    // 4, copied into zero-padded scratch for the blocked kernel (the LM head's dA); auto takes
    // it on GPUs for large products only, so it is forced here
    { M: 37, K: 45, N: 68, opts: { padK: true, bias: true, accumulate: true } },
    { M: 40, K: 45, N: 36, opts: { padK: true, transB: true } },
    { M: 40, K: 45, N: 36, opts: { padK: true, transA: true, transB: true, bias: true } },
    // CPU-shaped lanes kernel: the tiles auto takes (16/8 rows × 16/8/4 columns, A through
    // subgroups: suffix s) and others, all transposes, K % 4 tails, edges of the 4-lane column
    // groups and of the row tiles
    { M: 131, K: 53, N: 70, opts: { variant: 'lanes16x16w16g1s', bias: true } },
    { M: 37, K: 18, N: 67, opts: { variant: 'lanes16x16w16g1s', transA: true, accumulate: true } },
    { M: 70, K: 31, N: 35, opts: { variant: 'lanes16x8w16g1s', transB: true, bias: true, accumulate: true } },
    { M: 21, K: 42, N: 13, opts: { variant: 'lanes8x4w16g1s', transA: true, transB: true, bias: true } },
    { M: 50, K: 29, N: 70, opts: { variant: 'lanes16x16w16g1', transB: true, accumulate: true } },
    { M: 21, K: 40, N: 13, opts: { variant: 'lanes8x4w16g1', transA: true, transB: true, bias: true } },
    { M: 9, K: 7, N: 5, opts: { variant: 'lanes4x4w64g4' } },
    { M: 67, K: 45, N: 90, opts: { variant: 'lanes2x12w128g2', transB: true } },
    { M: 30, K: 3, N: 41, opts: { variant: 'lanes1x4w32g8s', accumulate: true } },
  ];
  for (const { M, K, N, opts } of cases) {
    it(`forward ${M}x${K}x${N} ${JSON.stringify(opts)}`, async (tc) => {
      await skipWithoutSubgroups4(tc, opts.variant);
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m, k, n, o]) => window.swarmgradTest.matmul(s, m, k, n, o as never), [seed, M, K, N, opts] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  for (const [R, C, Rp, Cp, ld, off] of [
    [5, 7, 5, 8, 7, 0],
    [9, 13, 12, 16, 50, 3],
    [1, 4, 4, 4, 4, 0],
  ] as const) {
    it(`pad ${R}x${C} (ld ${ld}, offset ${off}) into ${Rp}x${Cp}`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, a, b, c, d, e, f]) => window.swarmgradTest.pad(s, a, b, c, d, e, f), [seed, R, C, Rp, Cp, ld, off] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  const backward = [
    { M: 37, K: 29, N: 23, opts: {} },
    { M: 35, K: 21, N: 27, opts: { variant: 'tiled16', transA: true } },
    { M: 41, K: 19, N: 33, opts: { variant: 'any64', transB: true } },
    // LM-head shape: dA and dB read the N-strided dout (scalar bindings); then dA on the
    // padded-K path
    { M: 70, K: 36, N: 131, opts: { transB: true } },
    { M: 70, K: 36, N: 131, opts: { transB: true, padK: true } },
    { M: 2048, K: 36, N: 44, opts: {} }, // dB = Aᵀ·dout has K = 2048: split-K
    { M: 31, K: 22, N: 41, opts: { transA: true, transB: true } },
    { M: 36, K: 44, N: 28, opts: { variant: 'blocked64' } },
    { M: 40, K: 28, N: 52, opts: { variant: 'blocked64', transA: true } },
    { M: 44, K: 36, N: 24, opts: { variant: 'blocked64', transB: true } },
    { M: 28, K: 40, N: 36, opts: { variant: 'blocked64', transA: true, transB: true } },
    { M: 37, K: 29, N: 23, opts: { variant: 'lanes16x16w16g1s' } },
    { M: 35, K: 21, N: 27, opts: { variant: 'lanes16x16w16g1s', transA: true } },
    { M: 41, K: 19, N: 33, opts: { variant: 'lanes8x8w32g1', transB: true } },
    { M: 31, K: 22, N: 14, opts: { variant: 'lanes16x4w16g1s', transA: true, transB: true } },
  ];
  for (const { M, K, N, opts } of backward) {
    it(`backward ${M}x${K}x${N} ${JSON.stringify(opts)}`, async (tc) => {
      await skipWithoutSubgroups4(tc, opts.variant);
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m, k, n, o]) => window.swarmgradTest.matmulBackward(s, m, k, n, o as never), [seed, M, K, N, opts] as const);
      for (const [name, rep] of Object.entries(r)) expect(rep.ok, `${name} seed ${seed}: ${rep.message}`).toBe(true);
    });
  }

  // Attention-shaped products: a batch over (sequence, head) with strided rows, alpha, causal
  // shortcuts, bias and accumulation, each run by the lanes kernel and by the blocked one.
  const head = (T: number, hs: number, NH: number, B: number) => {
    const C = NH * hs;
    return { C, inner: NH, count: B * NH, q: { off: 0, outer: T * 3 * C, innerStride: hs }, k: { off: C, outer: T * 3 * C, innerStride: hs }, tt: { off: 0, outer: NH * T * T, innerStride: T * T } };
  };
  const h = head(19, 6, 3, 2);
  const strided = [
    // preatt = alpha · Q·Kᵀ, upper tiles skipped
    { name: 'Q·Kᵀ skipUpper', c: { M: 19, K: 6, N: 19, transB: true, lda: 3 * h.C, ldb: 3 * h.C, ldo: 19, alpha: 0.4, causal: 'skipUpper', batch: { count: h.count, inner: h.inner, a: h.q, b: h.k, out: h.tt } } },
    // out += att·V with att zero above the diagonal
    { name: 'att·V kToRow', c: { M: 19, K: 19, N: 6, lda: 19, ldb: 3 * h.C, ldo: h.C, accumulate: true, causal: 'kToRow', batch: { count: h.count, inner: h.inner, a: h.tt, b: h.k, out: { off: 0, outer: 19 * h.C, innerStride: 6 } } } },
    // dK += alpha · dpreattᵀ·Q with dpreatt zero above the diagonal
    { name: 'dpreattᵀ·Q kFromRow', c: { M: 19, K: 19, N: 6, transA: true, lda: 19, ldb: 3 * h.C, ldo: 3 * h.C, alpha: 0.7, accumulate: true, causal: 'kFromRow', batch: { count: h.count, inner: h.inner, a: h.tt, b: h.q, out: h.k } } },
    // a plain strided product with bias and offsets everywhere, one product
    { name: 'strided bias', c: { M: 23, K: 13, N: 11, lda: 17, ldb: 14, ldo: 15, bias: true, batch: { count: 1, inner: 1, a: { off: 3, outer: 0, innerStride: 0 }, b: { off: 1, outer: 0, innerStride: 0 }, out: { off: 2, outer: 0, innerStride: 0 } } } },
  ] as const;
  for (const variant of ['lanes16x16w16g1s', 'lanes8x4w16g1', 'any64'] as const) {
    for (const { name, c } of strided) {
      it(`batched/strided ${name} ${variant}`, async (tc) => {
        await skipWithoutSubgroups4(tc, variant);
        const seed = freshSeed();
        const r = await t.page.evaluate(([s, cc]) => window.swarmgradMatmul.strided(s, cc as never), [seed, { ...c, variant }] as const);
        expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
      });
    }
  }

  it('auto takes the lanes kernel exactly on a SwiftShader adapter', async () => {
    const info = await t.page.evaluate(() => window.swarmgradTest.adapterInfo());
    const got = await t.page.evaluate(() => window.swarmgradMatmul.choice({ M: 256, K: 256, N: 256 }));
    const swiftshader = /swiftshader/i.test(`${info.architecture} ${info.description}`);
    expect(got.family).toBe(swiftshader ? 'cpu' : 'gpu');
    expect(got.variant.startsWith('lanes')).toBe(swiftshader);
    if (swiftshader) expect(got.variant).toBe(got.subgroups4 ? 'lanes16x16w16g1s' : 'lanes16x16w16g1');
  });

  it('any-shape kernel binds the aligned operands of an LM-head-shaped product as vec4', () => {
    const buf = (floats: number) => ({ buffer: {} as GPUBuffer, size: floats * 4 });
    const [M, K, N] = [70, 36, 131];
    const fwd = { M, K, N, transB: true, a: buf(M * K), b: buf(N * K), out: buf(M * N) };
    expect(chooseMatmulVariant(fwd)).toMatch(/^any/);
    expect(anyBindings(fwd)).toEqual({ a: 'v4', b: 'v4', bias: 's', out: 's' });
    expect(anyBindings({ ...fwd, scalarBindings: ['b'] })).toEqual({ a: 'v4', b: 's', bias: 's', out: 's' });
    // dA = dout · B and dB = doutᵀ · A gather the N-strided dout as scalars: then all are scalar
    const all = { a: 's', b: 's', bias: 's', out: 's' };
    expect(anyBindings({ M, K: N, N: K, a: buf(M * N), b: buf(N * K), out: buf(M * K) })).toEqual(all);
    expect(anyBindings({ M: N, K: M, N: K, transA: true, a: buf(M * N), b: buf(M * K), out: buf(N * K) })).toEqual(all);
    // vec4 A and B with an aligned out and bias: all vec4 (the forward test at 37x44x68 runs it)
    expect(anyBindings({ M: 37, K: 44, N: 68, a: buf(37 * 44), b: buf(44 * 68), bias: buf(68), out: buf(37 * 68) })).toEqual({ a: 'v4', b: 'v4', bias: 'v4', out: 'v4' });
    // a binding that ends inside a vec4 stays scalar
    expect(anyBindings({ M: 3, K: 4, N: 5, a: buf(14), b: buf(20), out: buf(15) }).a).toBe('s');
  });

  for (const [M, K, N, opts] of [
    [37, 36, 131, { transB: true }], // any-shape kernel (LM-head shape)
    [37, 36, 68, { bias: true }], // vec4 kernel
  ] as const) {
    it(`forward ${M}x${K}x${N} ${JSON.stringify(opts)} with A and out two views of one buffer`, async () => {
      const seed = freshSeed();
      const r = await t.page.evaluate(([s, m, k, n, o]) => window.swarmgradTest.matmulAliased(s, m, k, n, o as never), [seed, M, K, N, opts] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  it('rejects a too-small buffer with a named error before any GPU work', async () => {
    const msg = await t.page.evaluate(() => window.swarmgradTest.matmulBadShape());
    expect(msg).toMatch(/^KernelInputError: matmul: buffer a holds 2 floats, needs 16/);
  });

  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
