/**
 * Shape planning for the matmul: the pure decisions `encodeMatmul` (matmul.ts) takes before it
 * records anything. Given a product's shape, layout and the adapter's kernel family, these
 * say whether the arguments are valid (`validateMatmul`: dims, strides, buffer sizes), how
 * operands are laid out (`layoutOf`, `plain`, `blockedEligible`), which kernel family an
 * adapter gets (`matmulFamily`, `lanesSubgroups`), which variant `auto` resolves to
 * (`chooseMatmulVariant`, `lanesConfig` for the `lanes…` names), and whether the product takes
 * the padded-K path (`paddedKPlan`) or is split along K (`splitKFactor`). `matmulTuning`, the
 * knobs benchmarks set, lives here because these rules read it; matmul.ts reads the rest.
 *
 * This file is NOT the encoder: it makes no GPU calls, creates no buffers, pipelines or bind
 * groups, and imports no WGSL. It reads buffers only for their sizes (`checkBuffers`). Kernel
 * code generation, bindings, access modes, pipeline keys, the per-context adapter cache
 * (`targetOf`) and the dispatches are in matmul.ts; the public names here are re-exported
 * from there. Tested in Node without a GPU: gpu-shaders/test/matmul-plan.test.ts and
 * matmul-family.test.ts.
 */
import type { BufferArg } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims } from '../kernel.ts';

export type MatmulVariant =
  | 'auto'
  | 'tiled16'
  | 'blocked64'
  | 'blocked128'
  | 'blocked128k16'
  | 'blocked64k16'
  | 'blocked128x64'
  | 'blocked128x64k16'
  | 'blocked64x128'
  | 'any64'
  | 'any128'
  | LanesVariant;

/**
 * CPU-shaped variants (matmul_lanes.wgsl), named `lanes<RM>x<CN>w<WG>g<GX>`: RM rows and CN
 * columns per invocation, WG invocations per workgroup, GX groups of 4 lanes across columns.
 */
export type LanesVariant = `lanes${number}x${number}w${number}g${number}` | `lanes${number}x${number}w${number}g${number}s`;

interface LanesConfig {
  RM: number;
  CN: number;
  WG: number;
  GX: number;
  /** Suffix `s`: A is read with one load per 4 lanes and subgroupBroadcast (needs 'subgroups' of size 4). */
  SG: boolean;
}

/**
 * The tile of a `lanes…` variant name, or undefined for any other name or an unsupported tile:
 * RM 1..16 rows, CN 4, 8, 12 or 16 columns, WG 16..256 (a power of two), GX a power of two
 * with at least one lane group per column group (4·GX <= WG).
 */
export function lanesConfig(v: string): LanesConfig | undefined {
  const m = /^lanes(\d+)x(\d+)w(\d+)g(\d+)(s?)$/.exec(v);
  if (!m) return undefined;
  const [RM, CN, WG, GX] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const pow2 = (x: number) => x > 0 && (x & (x - 1)) === 0;
  if (RM < 1 || RM > 16 || CN % 4 !== 0 || CN < 4 || CN > 16 || !pow2(WG) || WG < 16 || WG > 256 || !pow2(GX) || 4 * GX > WG) return undefined;
  return { RM, CN, WG, GX, SG: m[5] === 's' };
}

export interface MatmulArgs {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** out += A·B (+ bias) instead of out = A·B (+ bias). */
  accumulate?: boolean;
  a: BufferArg;
  b: BufferArg;
  bias?: BufferArg | null;
  out: BufferArg;
  variant?: MatmulVariant;
  /** out = alpha·A·B (+ bias); default 1. Blocked variants only. */
  alpha?: number;
  /** Row strides in elements; default the packed layout (K or M, N or K, N). Blocked variants only. */
  lda?: number;
  ldb?: number;
  ldo?: number;
  /** A batch of products (one per workgroup z), e.g. over attention heads. Blocked variants only. */
  batch?: MatmulBatch;
  /**
   * Causal shortcuts for attention products (blocked variants only): 'skipUpper' leaves output
   * tiles above the diagonal unwritten; 'kToRow' / 'kFromRow' skip the K steps where A is zero
   * (k > m / k < m). Exact when A really is zero there.
   */
  causal?: 'none' | 'skipUpper' | 'kToRow' | 'kFromRow';
  /** Any-shape variants: bind these operands as scalar arrays even where vec4 would do (benchmarks). */
  scalarBindings?: Array<'a' | 'b' | 'bias' | 'out'>;
  /**
   * Split K into this many slices (run as a batch into scratch, then summed) instead of the
   * `splitKFactor` rule; 1 = no split. Plain blocked products only; K/splitK must be a
   * multiple of 16.
   */
  splitK?: number;
  /**
   * Padded-K path: where the product is not blocked-eligible only because of A's or B's
   * K-side layout (e.g. the LM head's dA, whose dout rows are 50257 long), copy K-slices of A
   * and B into zero-padded packed scratch and run the blocked kernel on them. Default: taken
   * by `auto` on GPU adapters for products of at least PAD_K_MIN_FLOPS; true = wherever it
   * makes the product blocked-eligible (tests); false = never.
   */
  padK?: boolean;
}

/** Operand placement of product z: off + floor(z / inner) * outer + (z % inner) * innerStride. */
export interface OperandPlacement {
  off?: number;
  outer?: number;
  innerStride?: number;
}

export interface MatmulBatch {
  count: number;
  /** Products per outer group (e.g. NH heads per sequence); default count. */
  inner?: number;
  a?: OperandPlacement;
  b?: OperandPlacement;
  out?: OperandPlacement;
}

interface Layout {
  lda: number;
  ldb: number;
  ldo: number;
  count: number;
  inner: number;
  a: Required<OperandPlacement>;
  b: Required<OperandPlacement>;
  out: Required<OperandPlacement>;
}

export function layoutOf(args: MatmulArgs): Layout {
  const place = (p?: OperandPlacement): Required<OperandPlacement> => ({ off: p?.off ?? 0, outer: p?.outer ?? 0, innerStride: p?.innerStride ?? 0 });
  const count = args.batch?.count ?? 1;
  return {
    lda: args.lda ?? (args.transA ? args.M : args.K),
    ldb: args.ldb ?? (args.transB ? args.K : args.N),
    ldo: args.ldo ?? args.N,
    count,
    inner: args.batch?.inner ?? count,
    a: place(args.batch?.a),
    b: place(args.batch?.b),
    out: place(args.batch?.out),
  };
}

/** Elements an operand spans: the last product's base + (rows-1)*ld + cols. */
function span(p: Required<OperandPlacement>, L: Layout, rows: number, cols: number, ld: number): number {
  const last = L.count - 1;
  const base = p.off + Math.floor(last / L.inner) * p.outer + (last % L.inner) * p.innerStride;
  return base + (rows - 1) * ld + cols;
}

export function validateMatmul(args: MatmulArgs): void {
  const { M, K, N } = args;
  checkDims('matmul', { M, K, N });
  const L = layoutOf(args);
  checkDims('matmul', { count: L.count, inner: L.inner, lda: L.lda, ldb: L.ldb, ldo: L.ldo });
  const [aRows, aCols] = args.transA ? [K, M] : [M, K];
  const [bRows, bCols] = args.transB ? [N, K] : [K, N];
  if (L.lda < aCols || L.ldb < bCols || L.ldo < N) throw new KernelInputError('matmul', `row strides (${L.lda}, ${L.ldb}, ${L.ldo}) are shorter than the rows`);
  checkBuffers('matmul', [
    ['a', args.a, span(L.a, L, aRows, aCols, L.lda)],
    ['b', args.b, span(L.b, L, bRows, bCols, L.ldb)],
    ['bias', args.bias, N],
    ['out', args.out, span(L.out, L, M, N, L.ldo)],
  ]);
}

export function plain(args: MatmulArgs): boolean {
  const L = layoutOf(args);
  return L.count === 1 && (args.alpha ?? 1) === 1 && L.lda === (args.transA ? args.M : args.K) && L.ldb === (args.transB ? args.K : args.N) && L.ldo === args.N && !L.a.off && !L.b.off && !L.out.off;
}

/**
 * The blocked kernel binds vec4 arrays: every contiguous dimension, row stride and operand
 * offset/stride must be a multiple of 4.
 */
export function blockedEligible(args: Pick<MatmulArgs, 'M' | 'K' | 'N' | 'transA' | 'transB' | 'lda' | 'ldb' | 'ldo' | 'batch'>): boolean {
  const { M, K, N, transA, transB } = args;
  const L = layoutOf(args as MatmulArgs);
  const words = [transA ? M : K, transB ? K : N, N, L.lda, L.ldb, L.ldo];
  for (const p of [L.a, L.b, L.out]) words.push(p.off, p.outer, p.innerStride);
  return words.every((w) => w % 4 === 0);
}

/**
 * Which kernel family `auto` draws from on an adapter: 'gpu' (workgroup-memory tiles and
 * barriers: matmul_blocked*.wgsl) or 'cpu' (matmul_lanes.wgsl: registers only, no barriers).
 * The rule: SwiftShader, Chromium's CPU WebGPU (adapter architecture or description
 * 'swiftshader'), is 'cpu'; every other adapter, and an unknown one, is 'gpu'. Measured with
 * `npm run bench -- kernels` (docs/BENCHMARKS.md): under SwiftShader the lanes kernel is
 * several times faster than the blocked one. Other CPU implementations (lavapipe, WARP) are
 * plausibly alike but unmeasured, so they keep 'gpu'. `matmulTuning.family` overrides the rule.
 */
export type MatmulFamily = 'gpu' | 'cpu';

export function matmulFamily(info?: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'> | null): MatmulFamily {
  return matmulTuning.family ?? familyRule(info);
}

export function familyRule(info?: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'> | null): MatmulFamily {
  if (!info) return 'gpu';
  return /swiftshader/i.test(`${info.architecture ?? ''} ${info.description ?? ''}`) ? 'cpu' : 'gpu';
}

/**
 * Whether the lanes kernel may share A through subgroups (`lanes…s`): the device has the
 * 'subgroups' feature and the adapter's subgroups are exactly 4 invocations, i.e. the 4 lanes
 * the kernel assumes (SwiftShader: min = max = 4).
 */
export function lanesSubgroups(info: { subgroupMinSize?: number; subgroupMaxSize?: number } | null | undefined, features: ReadonlySet<string>): boolean {
  return features.has('subgroups') && info?.subgroupMinSize === 4 && info?.subgroupMaxSize === 4;
}

/**
 * The variant `auto` resolves to for this shape on an adapter of `family`.
 * 'gpu': the vec4 blocked kernel when eligible, the any-shape one otherwise, with 128×128
 * tiles when there are enough of them to fill a large GPU and 64×64 otherwise.
 * 'cpu': the lanes kernel with 16 rows × 16 columns per invocation in workgroups of 16
 * invocations (tiles of 64 × 64): under SwiftShader larger register tiles run faster (fewer
 * storage loads per FMA; 8×8 1.8, 16×16 2.6, 16×16 with subgroups 3.4-3.7 GFLOP per CPU
 * second) but 32×16 took ~30 s to compile per pipeline against ~2-3 s for 16×16
 * (docs/BENCHMARKS.md); 8 rows when M is below 64 and 8 or 4 columns when N is below 64 or
 * 17, so that small products waste few clamped rows and columns; A shared through subgroups
 * where `subgroups4` (lanesSubgroups).
 */
export function chooseMatmulVariant(
  args: Pick<MatmulArgs, 'M' | 'K' | 'N' | 'transA' | 'transB' | 'lda' | 'ldb' | 'ldo' | 'batch'>,
  family: MatmulFamily = 'gpu',
  subgroups4 = false,
): Exclude<MatmulVariant, 'auto'> {
  if (family === 'cpu') {
    const RM = args.M >= 64 ? 16 : 8;
    const CN = args.N >= 64 ? 16 : args.N > 16 ? 8 : 4;
    return `lanes${RM}x${CN}w16g1${subgroups4 ? 's' : ''}`;
  }
  const tiles128 = Math.ceil(args.M / 128) * Math.ceil(args.N / 128) * (args.batch?.count ?? 1);
  const big = tiles128 >= 256 && args.M > 64 && args.N > 64;
  if (!blockedEligible(args)) return big ? 'any128' : 'any64';
  return big ? 'blocked128' : 'blocked64';
}

/** Smallest product (2·M·K·N) that `auto` runs on the padded-K path (its copies must pay). */
export const PAD_K_MIN_FLOPS = 2 ** 33;
/** Most bytes of padded A scratch per K-slice of the padded-K path. */
const PAD_K_MAX_SLICE_BYTES = 512 * 1024 * 1024;

export interface PaddedKPlan {
  /** K elements per slice (a multiple of 4; the last slice may be shorter). */
  kc: number;
  slices: number;
}

/**
 * Whether (and in how many K-slices) `encodeMatmul` copies A and B into zero-padded packed
 * scratch first: a plain product (no batch, offsets or causal mode) that the blocked kernel
 * cannot take as laid out, but can once K and the K-side row strides are padded to multiples
 * of 4, i.e. M, N (and out's stride) are already aligned.
 */
export function paddedKPlan(args: MatmulArgs, family: MatmulFamily = 'gpu'): PaddedKPlan | null {
  if (args.padK === false) return null;
  if (args.padK !== true && (!matmulTuning.padK || (args.variant && args.variant !== 'auto') || family === 'cpu' || 2 * args.M * args.K * args.N < PAD_K_MIN_FLOPS)) return null;
  if (args.batch || (args.causal ?? 'none') !== 'none' || blockedEligible(args)) return null;
  const { M, N } = args;
  const ldo = args.ldo ?? N;
  if (N % 4 !== 0 || ldo % 4 !== 0 || (args.transA && M % 4 !== 0)) return null;
  const kp = Math.ceil(args.K / 4) * 4;
  // Slices of A scratch (M·kc floats) at most PAD_K_MAX_SLICE_BYTES, kc a multiple of 16.
  const slices = Math.max(1, Math.ceil((M * kp * 4) / PAD_K_MAX_SLICE_BYTES));
  const kc = Math.ceil(args.K / slices / 16) * 16;
  return { kc, slices: Math.ceil(args.K / kc) };
}

/**
 * Split-K factor `auto` uses for a plain product with few output tiles and a long K (e.g. a
 * weight gradient, 768×3072 over K = 8192): S slices of K run as a batch into pooled scratch,
 * then one pass sums them. 1 = no split.
 */
export function splitKFactor(args: MatmulArgs, family: MatmulFamily = 'gpu'): number {
  if (args.splitK !== undefined) {
    const S = args.splitK;
    const ok = Number.isInteger(S) && S >= 1 && args.K % S === 0 && (S === 1 || ((args.K / S) % 16 === 0 && plain(args) && (args.causal ?? 'none') === 'none' && blockedEligible(args)));
    if (!ok) throw new KernelInputError('matmul', `splitK ${S} needs a plain blocked product with K (${args.K}) a multiple of 16·splitK`);
    return S;
  }
  if (args.variant && args.variant !== 'auto') return 1;
  if (family === 'cpu') return 1; // a CPU has few cores: the lanes kernel's tiles already fill them
  if (!plain(args) || (args.causal ?? 'none') !== 'none' || !blockedEligible(args)) return 1;
  const tiles128 = Math.ceil(args.M / 128) * Math.ceil(args.N / 128);
  // B-transposed products with 2-4 waves of 128x128 tiles and a long K (the dX products
  // 8192x{3072,2304}x768 of GPT-2's MLP and qkv): 2 slices. H200, `SHAPES` mode of
  // bench/gpu/matmul.ts: 29.5 -> 35.1 and 28.5 -> 36.0 TFLOP/s; no gain without transB.
  if (matmulTuning.splitTransB && args.transB && !args.transA && tiles128 >= 256 && tiles128 < 512 && args.K >= 2048 && args.K % 32 === 0) return 2;
  if (tiles128 >= 256 || args.K < 2048) return 1;
  for (const S of [8, 4, 2]) {
    if (args.K % S === 0 && (args.K / S) % 16 === 0 && args.K / S >= 1024 && tiles128 * S <= 1024) return S;
  }
  return 1;
}

/**
 * Tuning knobs read at encode time (benchmarks set them). `anyBindings`: 'pairedAB' (default)
 * binds the qualifying operands of the any-shape kernel as vec4 only where both A and B
 * qualify, else every operand as scalars; 'perOperand' binds every qualifying operand as vec4.
 * On an H200 at GPT-2 124M, 'pairedAB' measured 270-272 ms per training step against 274-277
 * for 'perOperand' (`bench/gpu/train.ts` with MATMUL_ANY_BINDINGS); alone, the LM head's
 * backward products took 31 ms all-scalar against 44 ms with vec4 B and out. `family`: null
 * (default) takes the kernel family from the adapter (`matmulFamily`); 'gpu' or 'cpu' forces it.
 * `padK` (default on) lets `auto` take the padded-K path (`paddedKPlan`); `splitTransB`
 * (default on) lets it split K in two for the B-transposed products `splitKFactor` names.
 */
export const matmulTuning: {
  anyBindings: 'perOperand' | 'pairedAB';
  readOnlyInputs: boolean;
  copyAliasedInputs: boolean;
  family: MatmulFamily | null;
  padK: boolean;
  splitTransB: boolean;
} = {
  anyBindings: 'pairedAB',
  family: null,
  readOnlyInputs: true,
  copyAliasedInputs: true,
  padK: true,
  splitTransB: true,
};
