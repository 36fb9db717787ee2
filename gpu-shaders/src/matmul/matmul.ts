/**
 * Thin wrapper for the matmul kernels: validates shapes and buffer sizes, picks the kernel
 * variant, owns the bind-group layout (uniform dims, a, b, bias, out), the dispatch size and
 * the pipeline cache key.
 *
 * Variants:
 *  - `tiled16`   matmul.wgsl, plain 16×16 tiles, scalar loads: any shape (v1, the fallback);
 *  - `blocked64` / `blocked128` / `blocked128k16` / `blocked64k16`: matmul_blocked.wgsl,
 *    register-blocked 8×8 outputs per thread with vec4 loads, for shapes whose contiguous
 *    dimensions are multiples of 4 (see `blockedEligible`);
 *  - `any64` / `any128`: matmul_blocked_any.wgsl, the same kernel for any shape: each
 *    operand is bound as a vec4 array where its offsets and row stride allow it and as a
 *    scalar array otherwise (`anyBindings`), so e.g. the LM head forward loads vec4s and
 *    stores scalars only into the vocabulary-strided logits;
 *  - `lanes<RM>x<CN>w<WG>g<GX>[s]`: matmul_lanes.wgsl, for CPU WebGPU (SwiftShader): no
 *    workgroup memory or barriers, an RM×CN register tile per invocation generated here
 *    (`lanesKernelCode`), any shape; suffix s shares A through subgroups of 4.
 * `auto` (default) picks by the adapter's kernel family (`matmulFamily`): on GPUs the vec4
 * blocked kernel when eligible and the `any` one otherwise, with 128×128 tiles when there are
 * enough of them to fill a large GPU and 64×64 otherwise; on SwiftShader a lanes variant.
 * An A or B that is a view of out's buffer is first copied into pooled scratch so that it can
 * be bound read-only (`matmulTuning.copyAliasedInputs`); see docs/BENCHMARKS.md for timings.
 *
 * Backward (`encodeMatmulBackward`) is three forward matmuls with transposed operands plus a
 * column sum for the bias, all accumulating, as `matmulBackward` in
 * @swarmgrad/peer-core/reference (the specification) does.
 *
 * The pure shape planning (validation, layouts, family, variant choice, padded-K and split-K
 * rules, `matmulTuning`) is in plan.ts; its public names are re-exported from here, so this
 * file stays the matmul's one public entry point.
 */
import { type BufferArg, bindingBytes, type GpuContext, isGpuBuffer } from '../context.ts';
import { KernelInputError } from '../errors.ts';
import { checkBuffers, checkDims, encodeDispatches, packParams } from '../kernel.ts';
import { encodeColsum } from '../reduce/colsum.ts';
import { encodePad } from '../pad/pad.ts';
import blockedCode from './matmul_blocked.wgsl';
import blockedAnyCode from './matmul_blocked_any.wgsl';
import lanesCode from './matmul_lanes.wgsl';
import sumSlicesCode from '../reduce/sum_slices.wgsl';
import { grid } from '../kernel.ts';
import code from './matmul.wgsl';
import {
  blockedEligible,
  chooseMatmulVariant,
  familyRule,
  lanesConfig,
  lanesSubgroups,
  layoutOf,
  type MatmulArgs,
  type MatmulFamily,
  type MatmulVariant,
  matmulTuning,
  type OperandPlacement,
  type PaddedKPlan,
  paddedKPlan,
  plain,
  splitKFactor,
  validateMatmul,
} from './plan.ts';

export {
  blockedEligible,
  chooseMatmulVariant,
  type LanesVariant,
  lanesConfig,
  lanesSubgroups,
  type MatmulArgs,
  type MatmulBatch,
  type MatmulFamily,
  type MatmulVariant,
  matmulFamily,
  matmulTuning,
  type OperandPlacement,
  PAD_K_MIN_FLOPS,
  paddedKPlan,
  splitKFactor,
  validateMatmul,
} from './plan.ts';

const TILE = 16;

const lanesCodeCache = new Map<string, string>();

/**
 * matmul_lanes.wgsl with its register tile for RM rows × CN columns generated in place of the
 * `//@tile` line (WGSL has no unrolling: every register is a named variable, so nothing is
 * indexed dynamically). The pattern is spelled out in the .wgsl above that line.
 */
export function lanesKernelCode(RM: number, CN: number, SG = false): string {
  const key = `${RM}x${CN}${SG ? 's' : ''}`;
  let code = lanesCodeCache.get(key);
  if (code !== undefined) return code;
  const G = CN / 4;
  const rows = [...Array(RM).keys()];
  const groups = [...Array(G).keys()];
  const L: string[] = [];
  for (const j of groups) {
    const cols = [0, 4, 8, 12].map((c) => `min(n + ${16 * j + c}u, lastN)`).join(', ');
    L.push(`  let oB${j} = vec4<u32>(${cols}) * sBn + vec4<u32>(bBase);`);
  }
  for (const i of rows) L.push(`  let r${i} = aBase + min(m + ${i}u, lastM) * sAm;`);
  if (SG) L.push('  let laneA = lane * sAk;');
  for (const i of rows) for (const j of groups) L.push(`  var c${i}_${j} = vec4<f32>(0.0);`);
  L.push('  for (; k + 4u <= kEnd; k += 4u) {');
  if (SG) L.push('    let pl = pa + laneA;');
  for (const i of rows) L.push(SG ? `    let a${i} = colsAsg(r${i} + pl);` : `    let a${i} = colsA(r${i} + pa, sA);`);
  for (const j of groups) {
    L.push('    {');
    L.push(`      let b0 = rowB(pb, oB${j});`, `      let b1 = rowB(pb + sBk, oB${j});`, `      let b2 = rowB(pb + 2u * sBk, oB${j});`, `      let b3 = rowB(pb + 3u * sBk, oB${j});`);
    for (const i of rows) L.push(`      c${i}_${j} = step4(c${i}_${j}, a${i}, b0, b1, b2, b3);`);
    L.push('    }');
  }
  L.push('    pa += stepA;', '    pb += stepB;', '  }');
  L.push('  for (; k < kEnd; k++) { // K % 4 tail');
  for (const i of rows) L.push(`    let a${i} = vec4<f32>(a[r${i} + pa]);`);
  for (const j of groups) {
    L.push('    {', `      let b0 = rowB(pb, oB${j});`);
    for (const i of rows) L.push(`      c${i}_${j} = fma(a${i}, b0, c${i}_${j});`);
    L.push('    }');
  }
  L.push('    pa += sAk;', '    pb += sBk;', '  }');
  for (const i of rows) for (const j of groups) L.push(`  store(oBase, m + ${i}u, n + ${16 * j}u, c${i}_${j});`);
  code = lanesCode.replace(/^\/\/@tile$/m, () => L.join('\n'));
  if (SG) {
    // Lane l loads A[m][k+l] (4 lanes: one vector load) and the subgroup shares the 4 values.
    code = `enable subgroups;\n${code}\nfn colsAsg(p: u32) -> vec4<f32> {\n  let x = a[p];\n  return vec4<f32>(subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u));\n}\n`;
  }
  lanesCodeCache.set(key, code);
  return code;
}

interface BlockedConfig {
  BM: number;
  BN: number;
  BK: number;
}

const BLOCKED: Record<string, BlockedConfig> = {
  blocked64: { BM: 64, BN: 64, BK: 8 },
  blocked64k16: { BM: 64, BN: 64, BK: 16 },
  blocked128: { BM: 128, BN: 128, BK: 8 },
  blocked128k16: { BM: 128, BN: 128, BK: 16 },
  blocked128x64: { BM: 128, BN: 64, BK: 8 },
  blocked128x64k16: { BM: 128, BN: 64, BK: 16 },
  blocked64x128: { BM: 64, BN: 128, BK: 8 },
  any64: { BM: 64, BN: 64, BK: 8 },
  any128: { BM: 128, BN: 128, BK: 8 },
};

const CAUSAL_CODE = { none: 0, skipUpper: 1, kToRow: 2, kFromRow: 3 } as const;

interface Target {
  family: MatmulFamily;
  subgroups4: boolean;
}
const targetCache = new WeakMap<GpuContext, Target>();
function targetOf(ctx: GpuContext): Target {
  let t = targetCache.get(ctx);
  if (!t) {
    t = { family: familyRule(ctx.adapterInfo), subgroups4: lanesSubgroups(ctx.adapterInfo, ctx.features) };
    targetCache.set(ctx, t);
  }
  return matmulTuning.family ? { ...t, family: matmulTuning.family } : t;
}

/**
 * The padded-K path: for each K-slice [k0, k0 + kr), copy A's and B's slices into packed
 * scratch with the slice's K padded to kp = ceil4(kr) (zeros beyond kr: they add nothing),
 * then one blocked product per slice, accumulating into out (the bias goes in with slice 0).
 */
function encodePaddedK(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulArgs, plan: PaddedKPlan): void {
  const { M, K, N } = args;
  const L = layoutOf(args);
  const kcp = Math.ceil(plan.kc / 4) * 4;
  const aScratch = ctx.pool.acquire(M * kcp * 4, 'matmul.padA');
  const bScratch = ctx.pool.acquire(kcp * N * 4, 'matmul.padB');
  for (let s = 0; s < plan.slices; s++) {
    const k0 = s * plan.kc;
    const kr = Math.min(plan.kc, K - k0);
    const kp = Math.ceil(kr / 4) * 4;
    // A: (M, K) rows of lda, or stored (K, M) rows of lda when transA.
    if (args.transA) encodePad(ctx, encoder, { R: kr, C: M, Rp: kp, Cp: M, ld: L.lda, off: k0 * L.lda, inp: args.a, out: aScratch });
    else encodePad(ctx, encoder, { R: M, C: kr, Rp: M, Cp: kp, ld: L.lda, off: k0, inp: args.a, out: aScratch });
    // B: (K, N) rows of ldb, or stored (N, K) rows of ldb when transB.
    if (args.transB) encodePad(ctx, encoder, { R: N, C: kr, Rp: N, Cp: kp, ld: L.ldb, off: k0, inp: args.b, out: bScratch });
    else encodePad(ctx, encoder, { R: kr, C: N, Rp: kp, Cp: N, ld: L.ldb, off: k0 * L.ldb, inp: args.b, out: bScratch });
    encodeMatmul(ctx, encoder, {
      M,
      K: kp,
      N,
      transA: args.transA,
      transB: args.transB,
      a: { buffer: aScratch, offset: 0, size: M * kp * 4 },
      b: { buffer: bScratch, offset: 0, size: kp * N * 4 },
      bias: s === 0 ? args.bias : null,
      out: args.out,
      ldo: L.ldo,
      alpha: args.alpha,
      accumulate: s > 0 || !!args.accumulate,
      padK: false,
    });
  }
  ctx.pool.release(aScratch);
  ctx.pool.release(bScratch);
}

/** A pass label's shape part: `MxKxN`, `tA`/`tB`, the batch count and the causal mode. */
function shapeLabel(a: MatmulArgs): string {
  return `${a.M}x${a.K}x${a.N}${a.transA ? ' tA' : ''}${a.transB ? ' tB' : ''}${a.batch ? ` x${a.batch.count}` : ''}${a.causal && a.causal !== 'none' ? ` ${a.causal}` : ''}`;
}

const ANY_ACCESS = {
  // 4 consecutive elements starting at an element index that is a multiple of 4.
  v4: (name: string, fn: string, access: string) => `@group(0) @binding(${BINDING[name]}) var<storage, ${access}> ${name}: array<vec4<f32>>;
fn ld${fn}4(i: u32) -> vec4<f32> { return ${name}[i / 4u]; }
fn ld${fn}1(i: u32) -> f32 { return ${name}[i / 4u][i % 4u]; }
`,
  s: (name: string, fn: string, access: string) => `@group(0) @binding(${BINDING[name]}) var<storage, ${access}> ${name}: array<f32>;
fn ld${fn}4(i: u32) -> vec4<f32> { return vec4<f32>(${name}[i], ${name}[i + 1u], ${name}[i + 2u], ${name}[i + 3u]); }
fn ld${fn}1(i: u32) -> f32 { return ${name}[i]; }
`,
};
const BINDING: Record<string, number> = { a: 1, b: 2, bias: 3, out: 4 };
const STORE = {
  v4: 'fn stO4(i: u32, v: vec4<f32>) { out[i / 4u] = v; }\nfn stO1(i: u32, x: f32) { out[i / 4u][i % 4u] = x; }\n',
  s: 'fn stO4(i: u32, v: vec4<f32>) { out[i] = v.x; out[i + 1u] = v.y; out[i + 2u] = v.z; out[i + 3u] = v.w; }\nfn stO1(i: u32, x: f32) { out[i] = x; }\n',
};
const anyCodeCache = new Map<string, string>();

/** Largest A or B operand (bytes) that `copyAliasedInputs` copies to scratch. */
const COPY_ALIASED_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Per operand of the any-shape kernel, 'v4' (bound as a vec4 array) or 's' (scalar array):
 * vec4 needs the operand's offset, batch strides and row stride to be multiples of 4 (so every
 * group of 4 the kernel reads or writes is one aligned vec4) and its binding to be a multiple
 * of 16 bytes (so no element falls in a partial last vec4). By default (`matmulTuning`) vec4
 * bindings are used only where both A and B qualify (e.g. the LM head forward, whose only
 * unaligned operand is the 50257-strided out); otherwise every operand is scalar. Test-only
 * `scalarBindings` forces operands to scalar.
 */
export function anyBindings(args: MatmulArgs): { a: 'v4' | 's'; b: 'v4' | 's'; bias: 'v4' | 's'; out: 'v4' | 's' } {
  const L = layoutOf(args);
  const ok = (p: Required<OperandPlacement>, ld: number, buf: BufferArg | null | undefined) =>
    [p.off, p.outer, p.innerStride, ld].every((w) => w % 4 === 0) && !!buf && bindingBytes(buf) % 16 === 0;
  const forced = new Set(args.scalarBindings ?? []);
  const ideal = {
    a: ok(L.a, L.lda, args.a) ? 'v4' : 's',
    b: ok(L.b, L.ldb, args.b) ? 'v4' : 's',
    bias: args.bias && args.N % 4 === 0 && bindingBytes(args.bias) % 16 === 0 ? 'v4' : 's',
    out: ok(L.out, L.ldo, args.out) ? 'v4' : 's',
  } as const;
  const kind =
    matmulTuning.anyBindings === 'perOperand' || (ideal.a === 'v4' && ideal.b === 'v4') ? ideal : ({ a: 's', b: 's', bias: 's', out: 's' } as const);
  return {
    a: forced.has('a') ? 's' : kind.a,
    b: forced.has('b') ? 's' : kind.b,
    bias: forced.has('bias') ? 's' : kind.bias,
    out: forced.has('out') ? 's' : kind.out,
  };
}

function anyCode(kind: ReturnType<typeof anyBindings>): { key: string; code: string } {
  const key = `a${kind.a}-b${kind.b}-bias${kind.bias}-o${kind.out}`;
  let code = anyCodeCache.get(key);
  if (code === undefined) {
    code =
      ANY_ACCESS[kind.a]('a', 'A', 'read') +
      ANY_ACCESS[kind.b]('b', 'B', 'read') +
      ANY_ACCESS[kind.bias]('bias', 'Bias', 'read') +
      ANY_ACCESS[kind.out]('out', 'O', 'read_write') +
      STORE[kind.out] +
      blockedAnyCode;
    anyCodeCache.set(key, code);
  }
  return { key, code };
}

const bufferOf = (b: BufferArg): GPUBuffer => ('mapState' in b ? b : b.buffer);

/**
 * Per input (a, b, bias): bound read_write where it shares its GPUBuffer with `out` (WebGPU
 * forbids one buffer as read-only and writable storage in one dispatch, e.g. two views of an
 * activation arena), read-only otherwise (kernel.ts promotes only the bindings of a buffer
 * bound at several ranges, so the other inputs keep the read-only load path). Measured on an H200 at
 * GPT-2 124M (`matmulTuning.readOnlyInputs`, default on): 269.4 / 272.8 ms per training step
 * against 275.9 / 274.7 with every input read_write.
 */
function accessCode(code: string, args: MatmulArgs): { key: string; code: string } {
  const out = bufferOf(args.out);
  let key = '';
  let c = code;
  for (const name of ['a', 'b', 'bias'] as const) {
    const arg = args[name];
    const rw = !!arg && (bufferOf(arg) === out || !matmulTuning.readOnlyInputs);
    key += rw ? 'w' : 'r';
    c = c.replace(`var<storage, read> ${name}:`, rw ? `var<storage, read_write> ${name}:` : `var<storage, read> ${name}:`);
  }
  return { key, code: c };
}
const accessCache = new Map<string, { key: string; code: string }>();
function withAccess(kernel: string, code: string, args: MatmulArgs): { kernel: string; code: string } {
  if (!matmulTuning.readOnlyInputs) return { kernel, code };
  const probe = accessCode('', args).key; // cheap: only the key
  const cacheKey = `${kernel}|${probe}`;
  let hit = accessCache.get(cacheKey);
  if (!hit) {
    hit = accessCode(code, args);
    accessCache.set(cacheKey, hit);
  }
  return { kernel: `${kernel}:${hit.key}`, code: hit.code };
}

/** Record one matmul into `encoder` (its own compute pass). */
export function encodeMatmul(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulArgs): void {
  validateMatmul(args);
  if (matmulTuning.copyAliasedInputs) {
    // An A or B that is a view of out's buffer (e.g. two views of an activation arena) would
    // have to be bound read_write, losing the read-only load path; a copy of its range into
    // pooled scratch (bytes ≪ FLOPs) keeps it read-only. Indices are relative to the binding,
    // so the copy is bound whole at offset 0.
    const out = bufferOf(args.out);
    const copies: GPUBuffer[] = [];
    const detach = (x: BufferArg): BufferArg => {
      if (isGpuBuffer(x) || x.buffer !== out) return x;
      const bytes = bindingBytes(x);
      if (bytes > COPY_ALIASED_MAX_BYTES || bytes % 4 !== 0 || !(x.buffer.usage & GPUBufferUsage.COPY_SRC)) return x;
      const scratch = ctx.pool.acquire(bytes, 'matmul.aliasedInput');
      encoder.copyBufferToBuffer(x.buffer, x.offset ?? 0, scratch, 0, bytes);
      copies.push(scratch);
      return { buffer: scratch, offset: 0, size: bytes };
    };
    const a = detach(args.a);
    const b = detach(args.b);
    if (copies.length) {
      encodeMatmul(ctx, encoder, { ...args, a, b });
      for (const c of copies) ctx.pool.release(c);
      return;
    }
  }
  const target = targetOf(ctx);
  const padded = paddedKPlan(args, target.family);
  if (padded) {
    encodePaddedK(ctx, encoder, args, padded);
    return;
  }
  const S = splitKFactor(args, target.family);
  if (S > 1) {
    // Slice s multiplies A[:, s*Kc..] by B[s*Kc.., :] into scratch slice s; then sum the slices.
    const { M, K, N } = args;
    const Kc = K / S;
    const scratch = ctx.pool.acquire(S * M * N * 4, 'matmul.splitK');
    const aStep = args.transA ? Kc * M : Kc;
    const bStep = args.transB ? Kc : Kc * N;
    encodeMatmul(ctx, encoder, {
      M,
      K: Kc,
      N,
      transA: args.transA,
      transB: args.transB,
      variant: args.variant,
      a: args.a,
      b: args.b,
      out: scratch,
      lda: args.transA ? M : K,
      ldb: args.transB ? K : N,
      ldo: N,
      batch: { count: S, inner: S, a: { innerStride: aStep }, b: { innerStride: bStep }, out: { innerStride: M * N } },
    });
    encodeDispatches(ctx, encoder, `matmul:splitK-sum ${shapeLabel(args)}`, [
      {
        kernel: 'sum_slices',
        code: sumSlicesCode,
        constants: { ACCUMULATE: !!args.accumulate, HAS_BIAS: !!args.bias },
        params: packParams([M * N, S, N]),
        buffers: [scratch, args.bias ?? ctx.emptyBuffer, args.out],
        workgroups: grid(Math.ceil((M * N) / 256)),
      },
    ]);
    ctx.pool.release(scratch);
    return;
  }
  const variant = !args.variant || args.variant === 'auto' ? chooseMatmulVariant(args, target.family, target.subgroups4) : args.variant;
  const flags = { TRANS_A: !!args.transA, TRANS_B: !!args.transB, HAS_BIAS: !!args.bias, ACCUMULATE: !!args.accumulate };
  const buffers = [args.a, args.b, args.bias ?? ctx.emptyBuffer, args.out];
  if (variant === 'tiled16') {
    if (!plain(args) || (args.causal ?? 'none') !== 'none') throw new KernelInputError('matmul', 'variant tiled16 has no batch, strides, alpha or causal mode; use a blocked variant');
    const params = packParams([args.M, args.K, args.N]);
    encodeDispatches(ctx, encoder, 'matmul:tiled16', [
      { kernel: 'matmul_tiled16', code, constants: { TILE, ...flags }, params, buffers, workgroups: [Math.ceil(args.N / TILE), Math.ceil(args.M / TILE)] },
    ]);
    return;
  }
  const lanes = lanesConfig(variant);
  if (lanes) {
    const L = layoutOf(args);
    const params = packParams(
      [args.M, args.K, args.N, L.inner, L.lda, L.ldb, L.ldo, 0, L.a.outer, L.a.innerStride, L.b.outer, L.b.innerStride, L.out.outer, L.out.innerStride, L.a.off, L.b.off, L.out.off, 0, 0, 0],
    );
    new Float32Array(params.buffer)[7] = args.alpha ?? 1;
    const TM = lanes.RM * (lanes.WG / 4 / lanes.GX);
    const TN = 4 * lanes.CN * lanes.GX;
    const k = withAccess(`matmul_lanes${lanes.RM}x${lanes.CN}${lanes.SG ? 's' : ''}`, lanesKernelCode(lanes.RM, lanes.CN, lanes.SG), args);
    encodeDispatches(ctx, encoder, `matmul:${variant} ${shapeLabel(args)}`, [
      {
        kernel: k.kernel,
        code: k.code,
        constants: { RM: lanes.RM, CN: lanes.CN, WG: lanes.WG, GX: lanes.GX, ...flags, CAUSAL: CAUSAL_CODE[args.causal ?? 'none'] },
        params,
        buffers,
        workgroups: [Math.ceil(args.N / TN), Math.ceil(args.M / TM), L.count],
      },
    ]);
    return;
  }
  const cfg = BLOCKED[variant];
  if (!cfg) throw new KernelInputError('matmul', `unknown variant '${variant}'`);
  const any = variant.startsWith('any');
  if (!any && !blockedEligible(args)) {
    throw new KernelInputError('matmul', `variant ${variant} needs the contiguous dimensions (A: ${args.transA ? 'M' : 'K'}, B: ${args.transB ? 'K' : 'N'}, out: N) to be multiples of 4`);
  }
  const L = layoutOf(args);
  const params = packParams(
    [args.M, args.K, args.N, L.inner, L.lda, L.ldb, L.ldo, 0, L.a.outer, L.a.innerStride, L.b.outer, L.b.innerStride, L.out.outer, L.out.innerStride, L.a.off, L.b.off, L.out.off, 0, 0, 0],
  );
  new Float32Array(params.buffer)[7] = args.alpha ?? 1;
  const WG = (cfg.BM / 8) * (cfg.BN / 8);
  const constants = { ...cfg, WG, LOADS_A: (cfg.BM * cfg.BK) / 4 / WG, LOADS_B: (cfg.BN * cfg.BK) / 4 / WG, ...flags, CAUSAL: CAUSAL_CODE[args.causal ?? 'none'] };
  const kinds = any ? anyBindings(args) : null;
  const anyK = kinds ? anyCode(kinds) : null;
  if (kinds) {
    // A_WHOLE / B_WHOLE: vec4-bound with a contiguous dimension that is a multiple of 4.
    const aCont = args.transA ? args.M : args.K;
    const bCont = args.transB ? args.K : args.N;
    Object.assign(constants, { OUT_VEC4: kinds.out === 'v4', A_WHOLE: kinds.a === 'v4' && aCont % 4 === 0, B_WHOLE: kinds.b === 'v4' && bCont % 4 === 0 });
  }
  const k = withAccess(anyK ? `matmul_blocked_any:${anyK.key}` : 'matmul_blocked', anyK ? anyK.code : blockedCode, args);
  encodeDispatches(ctx, encoder, `matmul:${variant} ${shapeLabel(args)}`, [
    {
      kernel: k.kernel,
      code: k.code,
      constants,
      params,
      buffers,
      workgroups: [Math.ceil(args.N / cfg.BN), Math.ceil(args.M / cfg.BM), L.count],
    },
  ]);
}

/** Convenience: run one matmul and wait for it, with GPU errors thrown. */
export async function matmul(ctx: GpuContext, args: MatmulArgs): Promise<void> {
  await ctx.checked('matmul', async () => {
    const enc = ctx.device.createCommandEncoder();
    encodeMatmul(ctx, enc, args);
    ctx.device.queue.submit([enc.finish()]);
  });
  await ctx.device.queue.onSubmittedWorkDone();
}

export interface MatmulBackwardArgs {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** (M,N) gradient of out. */
  dout: BufferArg;
  a: BufferArg;
  b: BufferArg;
  /** Gradients, accumulated (+=); each may be omitted. Shapes as a, b and bias. */
  da?: BufferArg | null;
  db?: BufferArg | null;
  dbias?: BufferArg | null;
  variant?: MatmulVariant;
  /** MatmulArgs.padK for each product. */
  padK?: boolean;
}

/** Record the gradients of out = A·B + bias (accumulating) into `encoder`. */
export function encodeMatmulBackward(ctx: GpuContext, encoder: GPUCommandEncoder, args: MatmulBackwardArgs): void {
  const { M, K, N, dout, a, b } = args;
  const transA = !!args.transA;
  const transB = !!args.transB;
  checkDims('matmulBackward', { M, K, N });
  checkBuffers('matmulBackward', [
    ['dout', dout, M * N],
    ['a', a, M * K],
    ['b', b, K * N],
    ['da', args.da, M * K],
    ['db', args.db, K * N],
    ['dbias', args.dbias, N],
  ]);
  // A forced blocked variant applies where the transposed shape allows it, else auto.
  const pick = (shape: Pick<MatmulArgs, 'M' | 'K' | 'N' | 'transA' | 'transB'>): MatmulVariant | undefined =>
    args.variant?.startsWith('blocked') && !blockedEligible(shape) ? 'auto' : args.variant;
  const mm = (call: MatmulArgs) => encodeMatmul(ctx, encoder, { ...call, variant: pick(call), padK: args.padK });
  if (args.da) {
    if (!transA) {
      // dA (M,K) += dout (M,N) · B^T
      mm({ M, K: N, N: K, a: dout, b, transB: !transB, out: args.da, accumulate: true });
    } else {
      // dA stored (K,M) += B · dout^T
      mm({ M: K, K: N, N: M, a: b, transA: transB, b: dout, transB: true, out: args.da, accumulate: true });
    }
  }
  if (args.db) {
    if (!transB) {
      // dB (K,N) += A^T · dout
      mm({ M: K, K: M, N, a, transA: !transA, b: dout, out: args.db, accumulate: true });
    } else {
      // dB stored (N,K) += dout^T · A
      mm({ M: N, K: M, N: K, a: dout, transA: true, b: a, transB: transA, out: args.db, accumulate: true });
    }
  }
  if (args.dbias) encodeColsum(ctx, encoder, { R: M, C: N, inp: dout, out: args.dbias });
}
