/**
 * Thin wrapper for the tensor-core matmul (matmul_tc.wgsl): out(M,N) = A·B (or out += A·B)
 * with A and B f32 in memory, rounded to f16 when staged, multiplied on 16×16×16 subgroup
 * matrices with f32 accumulation. This is MIXED PRECISION: results match
 * `matmulF16AccForward` in @swarmgrad/peer-core/reference (inputs rounded to f16, f32
 * accumulate), not the fp32 `matmulForward` (the difference is about 2^-11 relative per input).
 *
 * It needs what Dawn exposes as the `chromium-experimental-subgroup-matrix` and `shader-f16`
 * features with an f16→f32 16×16×16 config in `adapterInfo.subgroupMatrixConfigs` (Dawn on an
 * NVIDIA H100/H200 with the toggles `allow_unsafe_apis,vulkan_enable_f16_on_nvidia`), and a
 * fixed subgroup size; `tensorCoreSupport(ctx)` says whether and why not, and `encodeMatmulTc`
 * throws `TensorCoreUnavailableError` where it is missing.
 *
 * Shapes (`matmulTcEligible`): any M, N, K whose contiguous dimensions of A and B (K or M, N or
 * K) are multiples of 4; transA / transB as in `encodeMatmul`. Off the variant's tile grid the
 * kernel is compiled with edge checks (zero-filled loads, result matrices of edge tiles written
 * element-wise through workgroup memory); on it, without. Split-K (`kSlice`) writes one output
 * slice per K range for the caller to sum. NOT here: bias, alpha, strides, batches (use
 * `encodeMatmul` from ../matmul for those, and for fp32 results; ./mixed.ts adds bias).
 */
import type { BufferArg, GpuContext } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims, encodeDispatches, packParams } from '../kernel.ts';
import code from './matmul_tc.wgsl';

/** The device lacks the features or the subgroup-matrix shape the tensor-core path needs. */
export class TensorCoreUnavailableError extends Error {
  override name = 'TensorCoreUnavailableError';
}

/** WebGPU feature names (Dawn) the tensor-core path needs. */
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';
export const SHADER_F16_FEATURE = 'shader-f16';

/** One entry of Dawn's `adapterInfo.subgroupMatrixConfigs`. */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

interface TcConfig {
  BM: number;
  BN: number;
  BK: number;
  SG_M: number;
  SG_N: number;
}

/**
 * Workgroup tile BM×BN×BK; each subgroup owns SG_M×SG_N of it ((SG_M/16)·(SG_N/16) result
 * matrices). H200 timings of each at 1024/2048/4096 are in docs/BENCHMARKS.md.
 */
const TC_VARIANTS = {
  tc64: { BM: 64, BN: 64, BK: 32, SG_M: 32, SG_N: 32 },
  tc128x64: { BM: 128, BN: 64, BK: 32, SG_M: 32, SG_N: 32 },
  tc128: { BM: 128, BN: 128, BK: 32, SG_M: 32, SG_N: 64 },
  tc128w: { BM: 128, BN: 128, BK: 32, SG_M: 64, SG_N: 32 },
  tc128s64: { BM: 128, BN: 128, BK: 32, SG_M: 64, SG_N: 64 },
  tc256k16: { BM: 256, BN: 128, BK: 16, SG_M: 64, SG_N: 64 },
  tc128x256k16: { BM: 128, BN: 256, BK: 16, SG_M: 64, SG_N: 64 },
} as const satisfies Record<string, TcConfig>;

export type MatmulTcVariant = keyof typeof TC_VARIANTS | 'auto';
export const MATMUL_TC_VARIANTS = Object.keys(TC_VARIANTS) as Array<Exclude<MatmulTcVariant, 'auto'>>;

export interface MatmulTcArgs {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** out += A·B instead of out = A·B. */
  accumulate?: boolean;
  a: BufferArg;
  b: BufferArg;
  out: BufferArg;
  variant?: MatmulTcVariant;
  /**
   * Workgroup order: 'mFast' walks down M first (consecutive workgroups share B tiles), 'nFast'
   * across N first. Default: 'mFast' when B is larger than ~32 MiB and wider than A is tall.
   */
  order?: 'mFast' | 'nFast';
  /**
   * Split-K: K is cut into ranges of `kSlice` (a multiple of the variant's BK) and range z is
   * multiplied into slice z of out (out then holds ceil(K / kSlice) · M·N floats, slice z at
   * z·M·N); the caller sums the slices. Default: no split.
   */
  kSlice?: number;
}

const KERNEL = 'matmul_tc';

type TcAdapterInfo = Partial<{ subgroupMinSize: number; subgroupMaxSize: number; subgroupMatrixConfigs: Iterable<SubgroupMatrixConfig> }>;

/** The adapter info of the context, or of its device when the context was given a device. */
function adapterInfoOf(ctx: Pick<GpuContext, 'adapterInfo' | 'device'>): TcAdapterInfo {
  const info = ctx.adapterInfo ?? (ctx.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return (info ?? {}) as TcAdapterInfo;
}

/** Dawn's subgroup-matrix configs of this context's adapter (empty where none are reported). */
export function subgroupMatrixConfigs(ctx: Pick<GpuContext, 'adapterInfo' | 'device'>): SubgroupMatrixConfig[] {
  const list = adapterInfoOf(ctx).subgroupMatrixConfigs;
  if (!list) return [];
  return [...list].map((c) => ({ componentType: String(c.componentType), resultComponentType: String(c.resultComponentType), M: c.M, N: c.N, K: c.K }));
}

export interface TensorCoreSupport {
  ok: boolean;
  /** Why not, when !ok. */
  reason?: string;
  /** The subgroup size the kernel is specialised for (when ok). */
  subgroupSize?: number;
  configs: SubgroupMatrixConfig[];
}

/** Whether `ctx` can run `encodeMatmulTc`, and why not. Needs no GPU work. */
export function tensorCoreSupport(ctx: Pick<GpuContext, 'adapterInfo' | 'device' | 'features'>): TensorCoreSupport {
  const configs = subgroupMatrixConfigs(ctx);
  const missing = [SUBGROUP_MATRIX_FEATURE, SHADER_F16_FEATURE].filter((f) => !ctx.features.has(f));
  if (missing.length) {
    return {
      ok: false,
      configs,
      reason: `device lacks feature(s) ${missing.join(', ')} (Dawn offers them with the toggles allow_unsafe_apis,vulkan_enable_f16_on_nvidia on GPUs with cooperative matrices)`,
    };
  }
  if (!configs.some((c) => c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === 16 && c.N === 16 && c.K === 16)) {
    const have = configs.map((c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`).join(', ') || 'none';
    return { ok: false, configs, reason: `adapter has no f16->f32 16x16x16 subgroup-matrix config (has: ${have})` };
  }
  const info = adapterInfoOf(ctx);
  const min = info.subgroupMinSize;
  const max = info.subgroupMaxSize;
  if (!min || min !== max) {
    return { ok: false, configs, reason: `subgroup size is not fixed (min ${min}, max ${max}); the kernel maps subgroups to tiles by invocation index` };
  }
  return { ok: true, configs, subgroupSize: min };
}

function variantConfig(v: Exclude<MatmulTcVariant, 'auto'>): TcConfig {
  const c = (TC_VARIANTS as Record<string, TcConfig>)[v];
  if (!c) throw new KernelInputError(KERNEL, `unknown variant '${v}' (have ${MATMUL_TC_VARIANTS.join(', ')})`);
  return c;
}

type Shape = { M: number; K: number; N: number; transA?: boolean; transB?: boolean };

/**
 * Whether the kernel can take this shape: the contiguous dimension of A (K, or M when transA)
 * and of B (N, or K when transB) must be a multiple of 4 (vec4 loads). Any M, N, K otherwise.
 */
export function matmulTcEligible(shape: Shape): boolean {
  const aCols = shape.transA ? shape.M : shape.K;
  const bCols = shape.transB ? shape.K : shape.N;
  return aCols % 4 === 0 && bCols % 4 === 0;
}

/** Whether M, N, K sit on the variant's tile grid (then no edge checks are compiled in). */
export function matmulTcOnGrid(shape: Shape, variant: Exclude<MatmulTcVariant, 'auto'>): boolean {
  const c = variantConfig(variant);
  return shape.M % c.BM === 0 && shape.N % c.BN === 0 && shape.K % c.BK === 0;
}

/**
 * Variant for `auto`: 128×128 tiles where there are at least ~one workgroup per SM of a large
 * GPU (132 on an H100/H200), else 64×64 tiles.
 */
export function chooseMatmulTcVariant(shape: Shape): Exclude<MatmulTcVariant, 'auto'> {
  const tiles128 = Math.ceil(shape.M / 128) * Math.ceil(shape.N / 128);
  return tiles128 >= 128 ? 'tc128' : 'tc64';
}

/** Shape and buffer checks; throws KernelInputError before any GPU work. */
export function validateMatmulTc(args: MatmulTcArgs): Exclude<MatmulTcVariant, 'auto'> {
  const { M, K, N } = args;
  checkDims(KERNEL, { M, K, N });
  const variant = !args.variant || args.variant === 'auto' ? chooseMatmulTcVariant(args) : args.variant;
  variantConfig(variant);
  if (!matmulTcEligible(args)) {
    const what = `${args.transA ? 'M' : 'K'} (A's row length) and ${args.transB ? 'K' : 'N'} (B's row length)`;
    throw new KernelInputError(KERNEL, `${what} must be multiples of 4 (M=${M}, K=${K}, N=${N}); use encodeMatmul for this shape`);
  }
  if (args.kSlice !== undefined) {
    const bk = variantConfig(variant).BK;
    if (!Number.isInteger(args.kSlice) || args.kSlice <= 0 || args.kSlice % bk !== 0) {
      throw new KernelInputError(KERNEL, `kSlice must be a positive multiple of ${bk} (BK of ${variant}), got ${args.kSlice}`);
    }
  }
  checkBuffers(KERNEL, [
    ['a', args.a, M * K],
    ['b', args.b, K * N],
    ['out', args.out, matmulTcSlices(args) * M * N],
  ]);
  return variant;
}

/** Output slices of a (split-K) product: ceil(K / kSlice), or 1. */
export function matmulTcSlices(args: { K: number; kSlice?: number }): number {
  return args.kSlice && args.kSlice < args.K ? Math.ceil(args.K / args.kSlice) : 1;
}

const specialised = new Map<string, string>();

/** The .wgsl with its `const` lines set for this configuration (cached). */
export function matmulTcCode(c: TcConfig, sgSize: number, transA: boolean, transB: boolean, accumulate: boolean, edges = false, mFast = false): string {
  const key = `${c.BM},${c.BN},${c.BK},${c.SG_M},${c.SG_N},${sgSize},${+transA}${+transB}${+accumulate}${+edges}${+mFast}`;
  let src = specialised.get(key);
  if (src === undefined) {
    const set: Record<string, string> = {
      BM: `${c.BM}u`,
      BN: `${c.BN}u`,
      BK: `${c.BK}u`,
      SG_M: `${c.SG_M}u`,
      SG_N: `${c.SG_N}u`,
      SG_SIZE: `${sgSize}u`,
      TRANS_A: `${transA}`,
      TRANS_B: `${transB}`,
      ACCUMULATE: `${accumulate}`,
      EDGES: `${edges}`,
      M_FAST: `${mFast}`,
    };
    src = code;
    for (const [name, value] of Object.entries(set)) {
      const re = new RegExp(`^const ${name}: (u32|bool) = [^;]+;`, 'm');
      if (!re.test(src)) throw new Error(`matmul_tc.wgsl: no 'const ${name}' line to specialise`);
      src = src.replace(re, (_m, ty: string) => `const ${name}: ${ty} = ${value};`);
    }
    const wg = (c.BM / c.SG_M) * (c.BN / c.SG_N) * sgSize;
    const trips: Record<string, number> = {
      TM: c.SG_M / 16,
      TN: c.SG_N / 16,
      BK: c.BK,
      A_VEC: (c.BM * c.BK) / 4 / wg,
      B_VEC: (c.BK * c.BN) / 4 / wg,
      SCR_Q: 128 / sgSize,
    };
    src = unrollLoops(src, trips);
    specialised.set(key, src);
  }
  return src;
}

/**
 * Unrolls every loop written as `// @unroll` on its own line followed by
 * `for (var X = 0u; X < BOUND; X++) {` or `... X += STEP) {` (BOUND a name in `bounds` or a
 * u32 literal): the body is repeated in braces with X replaced by each value. WGSL has no
 * unroll attribute, and the NVIDIA compiler keeps an array of subgroup matrices indexed by a
 * loop variable in memory rather than registers.
 */
export function unrollLoops(src: string, bounds: Record<string, number>): string {
  const head = /^([ \t]*)\/\/ @unroll\n[ \t]*for \(var (\w+) = 0u; \2 < (\w+); \2(?:\+\+|\s*\+=\s*(\d+)u)\) \{\n/m;
  for (;;) {
    const m = head.exec(src);
    if (!m) break;
    const [whole, indent, name, boundName, stepText] = m as unknown as [string, string, string, string, string | undefined];
    const bound = /^\d+u?$/.test(boundName) ? Number.parseInt(boundName, 10) : bounds[boundName];
    if (bound === undefined || !Number.isInteger(bound) || bound < 0) throw new Error(`unrollLoops: unknown or bad bound '${boundName}'`);
    const step = stepText ? Number(stepText) : 1;
    // Find the matching closing brace of the loop body.
    const bodyStart = m.index + whole.length;
    let depth = 1;
    let i = bodyStart;
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}') depth--;
    }
    if (depth !== 0) throw new Error(`unrollLoops: unbalanced braces after loop over ${name}`);
    const body = src.slice(bodyStart, src.lastIndexOf('\n', i - 1) + 1);
    const ident = new RegExp(`\\b${name}\\b`, 'g');
    let copies = '';
    for (let v = 0; v < bound; v += step) copies += `${indent}{\n${body.replace(ident, `${v}u`)}${indent}}\n`;
    // Drop the loop's closing brace line (the rest of its line is whitespace).
    let end = i;
    while (end < src.length && src[end] !== '\n') end++;
    src = src.slice(0, m.index) + copies + src.slice(end + 1);
  }
  return src;
}

/** Default workgroup order: M first when B is big (> 32 MiB) and wider than A is tall. */
export function defaultOrder(shape: Shape): 'mFast' | 'nFast' {
  return shape.K * shape.N * 4 > 32 * 2 ** 20 && shape.N > shape.M ? 'mFast' : 'nFast';
}

/**
 * Invocations and workgroup memory of a variant (as matmul_tc.wgsl computes them), and whether
 * its tiles split into whole vec4 loads per invocation and whole scratch rows per lane.
 */
export function workgroupNeeds(c: TcConfig, sgSize: number, transA: boolean, transB: boolean): { invocations: number; bytes: number; fits: boolean } {
  const pad = 8;
  const invocations = (c.BM / c.SG_M) * (c.BN / c.SG_N) * sgSize;
  const aSize = transA ? c.BK * (c.BM + pad) : c.BM * (c.BK + pad);
  const bSize = transB ? c.BN * (c.BK + pad) : c.BK * (c.BN + pad);
  const bytes = 2 * (aSize + bSize) * 2; // two buffers of f16
  const whole = (x: number) => Number.isInteger(x) && x >= 1;
  const fits = whole((c.BM * c.BK) / 4 / invocations) && whole((c.BK * c.BN) / 4 / invocations) && whole(128 / sgSize);
  return { invocations, bytes, fits };
}

/** Record out = A·B (or out += A·B) on the tensor-core path. */
export function encodeMatmulTc(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulTcArgs): void {
  const variant = validateMatmulTc(args);
  const support = tensorCoreSupport(ctx);
  if (!support.ok || !support.subgroupSize) throw new TensorCoreUnavailableError(`${KERNEL}: ${support.reason}`);
  const c = variantConfig(variant);
  const transA = !!args.transA;
  const transB = !!args.transB;
  const need = workgroupNeeds(c, support.subgroupSize, transA, transB);
  const { maxComputeInvocationsPerWorkgroup: maxInv, maxComputeWorkgroupStorageSize: maxBytes } = ctx.device.limits;
  if (!need.fits || need.invocations > maxInv || need.bytes > maxBytes) {
    throw new TensorCoreUnavailableError(
      `${KERNEL}: variant ${variant} at subgroup size ${support.subgroupSize} needs ${need.invocations} invocations and ${need.bytes} bytes of workgroup memory per workgroup (device: ${maxInv}, ${maxBytes})${need.fits ? '' : ', and its tiles do not split evenly over the invocations'}`,
    );
  }
  const accumulate = !!args.accumulate;
  const edges = !matmulTcOnGrid(args, variant);
  const mTiles = Math.ceil(args.M / c.BM);
  const nTiles = Math.ceil(args.N / c.BN);
  const mFast = (args.order ?? defaultOrder(args)) === 'mFast';
  const slices = matmulTcSlices(args);
  const src = matmulTcCode(c, support.subgroupSize, transA, transB, accumulate, edges, mFast);
  encodeDispatches(ctx, encoder, KERNEL, [
    {
      kernel: `${KERNEL}:${variant}:sg${support.subgroupSize}:${+transA}${+transB}${+accumulate}${+edges}${+mFast}`,
      code: src,
      params: packParams([args.M, args.K, args.N, slices > 1 ? args.kSlice! : 0]),
      buffers: [args.a, args.b, args.out],
      workgroups: mFast ? [mTiles, nTiles, slices] : [nTiles, mTiles, slices],
    },
  ]);
}
