/**
 * Browser side of test/browser/matmul.test.ts beyond what kernels.page.ts offers (whose
 * `window.swarmgradTest` this page also loads): batched, strided, scaled (alpha) and causal
 * products, as attention issues them, for any matmul variant, against plain loops over the
 * same placement rules on fresh random inputs. Also the adapter's variant choice.
 */
import './kernels.page.ts';
import * as gpu from '@swarmgrad/gpu-shaders';
import { GpuContext, type MatmulBatch, type MatmulVariant } from '@swarmgrad/gpu-shaders';
import { allclose, randomUniform } from '@swarmgrad/peer-core/reference';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

const MM_TOL = { atol: 2e-4, rtol: 1e-3 };

export interface StridedCase {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  lda: number;
  ldb: number;
  ldo: number;
  alpha?: number;
  accumulate?: boolean;
  bias?: boolean;
  causal?: 'none' | 'skipUpper' | 'kToRow' | 'kFromRow';
  batch: Required<Pick<MatmulBatch, 'count' | 'inner'>> & { a: Required<gpu.OperandPlacement>; b: Required<gpu.OperandPlacement>; out: Required<gpu.OperandPlacement> };
  variant?: MatmulVariant;
}

const base = (p: Required<gpu.OperandPlacement>, z: number, inner: number) => p.off + Math.floor(z / inner) * p.outer + (z % inner) * p.innerStride;

const api = {
  /** The variant `auto` takes on this adapter for a shape, and the adapter's kernel family. */
  async choice(shape: { M: number; K: number; N: number; transA?: boolean; transB?: boolean }) {
    const ctx = await context();
    const family = gpu.matmulFamily(ctx.adapterInfo);
    const subgroups4 = gpu.lanesSubgroups(ctx.adapterInfo, ctx.features);
    return { family, subgroups4, variant: gpu.chooseMatmulVariant(shape, family, subgroups4) };
  },

  /**
   * out_z = alpha·A_z·B_z (+ bias) (+ out_z) for every product z of the batch, operands placed
   * by `batch` with row strides lda/ldb/ldo inside buffers padded past the last product.
   * Causal: kToRow / kFromRow zero A where k > m / k < m (the kernel may skip those terms);
   * skipUpper compares only n <= m (tiles above the diagonal may be left unwritten).
   */
  async strided(seed: number, c: StridedCase) {
    const ctx = await context();
    const { M, K, N, batch } = c;
    const [aRows, aCols] = c.transA ? [K, M] : [M, K];
    const [bRows, bCols] = c.transB ? [N, K] : [K, N];
    const span = (p: Required<gpu.OperandPlacement>, rows: number, ld: number, cols: number) => {
      let s = 0;
      for (let z = 0; z < batch.count; z++) s = Math.max(s, base(p, z, batch.inner) + (rows - 1) * ld + cols);
      return s + 5; // a little past the end: the kernel must not touch it
    };
    const A = randomUniform(span(batch.a, aRows, c.lda, aCols), seed);
    const B = randomUniform(span(batch.b, bRows, c.ldb, bCols), seed + 1);
    const bias = c.bias ? randomUniform(N, seed + 2) : null;
    const out0 = randomUniform(span(batch.out, M, c.ldo, N), seed + 3);
    const at = (z: number, m: number, k: number) => base(batch.a, z, batch.inner) + (c.transA ? k * c.lda + m : m * c.lda + k);
    const bt = (z: number, k: number, n: number) => base(batch.b, z, batch.inner) + (c.transB ? n * c.ldb + k : k * c.ldb + n);
    const ot = (z: number, m: number, n: number) => base(batch.out, z, batch.inner) + m * c.ldo + n;
    if (c.causal === 'kToRow' || c.causal === 'kFromRow') {
      for (let z = 0; z < batch.count; z++)
        for (let m = 0; m < M; m++)
          for (let k = 0; k < K; k++) if (c.causal === 'kToRow' ? k > m : k < m) A[at(z, m, k)] = 0;
    }
    const want = out0.slice();
    const check: number[] = [];
    for (let z = 0; z < batch.count; z++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += A[at(z, m, k)]! * B[bt(z, k, n)]!;
          let v = (c.alpha ?? 1) * acc + (bias ? bias[n]! : 0);
          if (c.accumulate) v += out0[ot(z, m, n)]!;
          want[ot(z, m, n)] = v;
          if (c.causal !== 'skipUpper' || n <= m) check.push(ot(z, m, n));
        }
    // Elements of out outside every product must be untouched.
    const inside = new Set<number>();
    for (let z = 0; z < batch.count; z++) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) inside.add(ot(z, m, n));
    for (let i = 0; i < out0.length; i++) if (!inside.has(i)) check.push(i);
    const out = ctx.buffer(out0);
    await gpu.matmul(ctx, {
      M,
      K,
      N,
      transA: c.transA,
      transB: c.transB,
      lda: c.lda,
      ldb: c.ldb,
      ldo: c.ldo,
      alpha: c.alpha,
      accumulate: c.accumulate,
      causal: c.causal,
      batch,
      a: ctx.buffer(A),
      b: ctx.buffer(B),
      bias: bias ? ctx.buffer(bias) : null,
      out,
      variant: c.variant,
    });
    const got = await ctx.readFloat32(out, out0.length);
    return allclose(
      check.map((i) => got[i]!),
      check.map((i) => want[i]!),
      MM_TOL,
    );
  },
};

declare global {
  interface Window {
    swarmgradMatmul: typeof api;
  }
}
window.swarmgradMatmul = api;
