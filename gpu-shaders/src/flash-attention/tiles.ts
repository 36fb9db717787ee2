/**
 * Shared plumbing of the fused (flash) attention kernels: input validation, tile sizes, and
 * the specialisation of the WGSL source to them. The kernels keep per-invocation register
 * arrays (q / o, the gradient accumulators) whose sizes WGSL requires to be constant, so the
 * head size in vec4s (HS4) and the tile sizes are substituted into the source as `const`
 * declarations, and the loops over those arrays (marked `// @unroll`) are written out so the
 * arrays are indexed by constants; the pipeline cache key names the constants.
 *
 * Two kernel families: register-tiled (forward-tiled.wgsl, backward-tiled.wgsl; `flashTiledTiles`,
 * the default where they fit) and one-row (forward.wgsl, backward.wgsl; `flashTiles`, the
 * fallback and `flashTuning.tiled = false`).
 *
 * NOT here: the kernels (*.wgsl) or their dispatch (forward.ts, backward.ts).
 */
import { KernelInputError } from '../errors.ts';
import { unrollLoops } from '../matmul-tc/matmul-tc.ts';

/** Largest head size the fused kernels take (the unfused attention takes the same). */
export const FLASH_MAX_HS = 256;

/**
 * Tile-size knobs (benchmarks may change them before the first dispatch; pipelines are cached
 * per tile shape). `rows`, `maxKeyTile`, `maxQueryTile` shape the one-row kernels (`flashTiles`),
 * the `tiled*` knobs the register-tiled ones (`flashTiledTiles`); `unroll` both. Workgroup memory
 * and invocation limits always bound the tiles.
 */
export const flashTuning = {
  /** Invocations per workgroup (even): forward runs one query row each, dq and dkv two per row. */
  rows: 64,
  /** Most keys per K/V tile (forward, dq); a multiple of 4. */
  maxKeyTile: 32,
  /** Most queries per q/dout tile (dkv); a multiple of 4. */
  maxQueryTile: 16,
  /**
   * Write out the `// @unroll` loops (default). Off, the loops stay loops: the same results,
   * much less code to compile (SwiftShader compiles the written-out kernels slowly), but on
   * NVIDIA the register arrays would live in memory.
   */
  unroll: true,
  /**
   * Use the register-tiled kernels (forward-tiled.wgsl, backward-tiled.wgsl) where their tiles
   * fit the device (default); off, or where they do not fit, the one-row kernels above run.
   * Defaults: the fastest measured on the H200 at hs 64 (docs/BENCHMARKS.md, "Fused attention
   * on the H200").
   */
  tiled: true,
  /** Tiled forward / dq / dkv: most rows per workgroup (powers of two, at least 8; 0: that kernel not tiled). */
  tiledRows: 64,
  tiledRowsDq: 64,
  tiledRowsDkv: 64,
  /**
   * Tiled forward / dq / dkv: tile rows (keys or queries) per invocation in the score products
   * (1, 2 or 4); a tile has that many times CG rows.
   */
  tiledKeys: 2,
  tiledKeysDq: 1,
  tiledKeysDkv: 1,
  /** Tiled kernels: most invocations per row group CG (4, 8 or 16; at most the head size in vec4s, rounded up to a power of two). */
  tiledCols: 16,
};

export interface FlashTiles {
  /** Head size in vec4s, even (hs rounded up to 8; channels past hs are zero). */
  HS4: number;
  /** Invocations per workgroup. */
  BR: number;
  /** Keys per K/V tile in forward. */
  BC: number;
  /** Keys per K/V tile in dq. */
  BCB: number;
  /** Queries per q/dout tile in dkv. */
  BQ: number;
}

/**
 * Tile sizes for head size `hs` under `workgroupBytes` of workgroup memory (the device's
 * maxComputeWorkgroupStorageSize; WebGPU guarantees 16384). Forward holds a K and a V tile
 * (2·BC·HS4 vec4s); dq the same plus the pair-swap buffers (4·BR vec4s); dkv a q and a dout
 * tile, their lse and D, and the swap buffers (2·BQ·HS4 + 4·BR vec4s + 2·BQ floats). Powers of
 * two from 4 to the tuning caps.
 */
export function flashTiles(hs: number, workgroupBytes: number, tuning: Pick<typeof flashTuning, 'rows' | 'maxKeyTile' | 'maxQueryTile'> = flashTuning): FlashTiles {
  const { rows: BR } = tuning;
  if (!Number.isInteger(BR) || BR < 2 || BR % 2 !== 0 || BR > 256) throw new KernelInputError('flashAttention', `flashTuning.rows must be an even number in [2, 256], got ${BR}`);
  const HS4 = 2 * Math.ceil(hs / 8);
  const fit = (cap: number, bytes: (n: number) => number) => {
    let n = 4;
    while (n * 2 <= cap && bytes(n * 2) <= workgroupBytes) n *= 2;
    return n;
  };
  const swap = 4 * BR * 16;
  return {
    HS4,
    BR,
    BC: fit(tuning.maxKeyTile, (n) => 2 * n * HS4 * 16),
    BCB: fit(tuning.maxKeyTile, (n) => 2 * n * HS4 * 16 + swap),
    BQ: fit(tuning.maxQueryTile, (n) => 2 * n * HS4 * 16 + 8 * n + swap),
  };
}

/** Tile shape of one register-tiled kernel (forward-tiled.wgsl, backward-tiled.wgsl). */
export interface FlashTiledTiles {
  /** Head size in vec4s, a multiple of CG (channels past hs are zero). */
  HS4: number;
  /** Rows per workgroup (query rows in forward and dq, key rows in dkv), 4 per row group. */
  BR: number;
  /** Invocations per row group; a key/query tile has KJ·CG rows. */
  CG: number;
  /** Tile rows per invocation in the score products. */
  KJ: number;
  /** Vec4 columns of the accumulators per invocation (HS4 / CG). */
  NJ: number;
}

/** The knobs of the tiled kernels. */
export type FlashTiledTuning = Pick<typeof flashTuning, 'tiledRows' | 'tiledRowsDq' | 'tiledRowsDkv' | 'tiledKeys' | 'tiledKeysDq' | 'tiledKeysDkv' | 'tiledCols'>;

/** Workgroup bytes of a tiled kernel's shape (as the WGSL declares them, per entry point). */
export function flashTiledBytes(kernel: 'forward' | 'dq' | 'dkv', t: FlashTiledTiles): number {
  const { HS4, BR, CG } = t;
  const [RG, BT] = [BR / 4, t.KJ * CG];
  if (kernel === 'forward') return 16 * (BR * HS4 + BT * (HS4 + 1) + BT * HS4 + BT * RG) + 4 * BR * CG;
  if (kernel === 'dq') return 16 * (2 * BR * HS4 + 2 * BT * HS4 + BT * RG) + 4 * BR;
  return 16 * (2 * BR * HS4 + 2 * BT * HS4 + 2 * BT * RG);
}

/**
 * The largest tiled shape of `kernel` for head size `hs` that fits `workgroupBytes` of
 * workgroup memory and `maxInvocations` per workgroup: CG from the tuning's cap (lowered to the
 * head size in vec4s rounded up to a power of two) down to 4 by halves, for each the rows from
 * the tuning's cap down to 8 by halves; KJ the tuning's for that kernel. null when none fits (the one-row
 * kernel runs then; also when the cap is 0).
 */
export function flashTiledTiles(
  kernel: 'forward' | 'dq' | 'dkv',
  hs: number,
  workgroupBytes: number,
  maxInvocations: number,
  tuning: FlashTiledTuning = flashTuning,
): FlashTiledTiles | null {
  const [cap, KJ] = kernel === 'forward' ? [tuning.tiledRows, tuning.tiledKeys] : kernel === 'dq' ? [tuning.tiledRowsDq, tuning.tiledKeysDq] : [tuning.tiledRowsDkv, tuning.tiledKeysDkv];
  if (cap === 0) return null;
  if (!Number.isInteger(Math.log2(cap)) || cap < 8 || cap > 256) throw new KernelInputError('flashAttention', `flashTuning tiled rows must be a power of two in [8, 256], got ${cap}`);
  if (![4, 8, 16].includes(tuning.tiledCols)) throw new KernelInputError('flashAttention', `flashTuning.tiledCols must be 4, 8 or 16, got ${tuning.tiledCols}`);
  if (![1, 2, 4].includes(KJ)) throw new KernelInputError('flashAttention', `flashTuning tiled keys per invocation must be 1, 2 or 4, got ${KJ}`);
  let CG = Math.max(4, Math.min(tuning.tiledCols, 2 ** Math.ceil(Math.log2(Math.ceil(hs / 4)))));
  for (; CG >= 4; CG /= 2) {
    const HS4 = CG * Math.ceil(hs / (4 * CG));
    for (let BR = cap; BR >= 8; BR /= 2) {
      const t = { HS4, BR, CG, KJ, NJ: HS4 / CG };
      if ((BR / 4) * CG <= maxInvocations && flashTiledBytes(kernel, t) <= workgroupBytes) return t;
    }
  }
  return null;
}

/**
 * The WGSL constants of a tiled shape: the shape and the vec4s each invocation loads per block
 * (LDB) and per tile (LDT), the trip counts of the written-out load loops.
 */
export function flashTiledConsts(t: FlashTiledTiles): Record<string, number> {
  const NT = (t.BR / 4) * t.CG;
  return { ...t, LDB: Math.ceil((t.BR * t.HS4) / NT), LDT: Math.ceil((t.KJ * t.CG * t.HS4) / NT) };
}

/**
 * `code` with its `const NAME: u32 = <n>u;` constants replaced by `consts` and its `// @unroll`
 * loops written out (cached).
 */
const specialised = new Map<string, string>();
export function specialise(code: string, consts: Record<string, number>, unroll = true): string {
  const key = `${JSON.stringify(consts)}${unroll}\n${code}`;
  let s = specialised.get(key);
  if (s === undefined) {
    s = code.replace(/const (\w+): u32 = \d+u;/g, (m, name: string) => (name in consts ? `const ${name}: u32 = ${consts[name]}u;` : m));
    if (unroll) s = unrollLoops(s, { ...consts, HH4: (consts.HS4 ?? 0) / 2 });
    specialised.set(key, s);
  }
  return s;
}

/** Pipeline cache name of a specialisation. */
export function tilesKey(kernel: string, consts: Record<string, number>): string {
  return `${kernel}[${Object.entries(consts)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}]`;
}

/** Shape checks shared by forward and backward; returns hs. */
export function checkFlashShape(kernel: string, B: number, T: number, C: number, NH: number): number {
  for (const [k, v] of Object.entries({ B, T, C, NH })) {
    if (!Number.isInteger(v) || v <= 0) throw new KernelInputError(kernel, `${k} must be a positive integer, got ${v}`);
  }
  if (C % NH !== 0) throw new KernelInputError(kernel, `C=${C} is not a multiple of NH=${NH}`);
  const hs = C / NH;
  if (hs > FLASH_MAX_HS) throw new KernelInputError(kernel, `head size ${hs} exceeds ${FLASH_MAX_HS}`);
  return hs;
}
