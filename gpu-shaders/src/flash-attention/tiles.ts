/**
 * Shared plumbing of the fused (flash) attention kernels: input validation, tile sizes, and
 * the specialisation of the WGSL source to them. The kernels keep per-invocation register
 * arrays (q / o, the gradient accumulators) whose sizes WGSL requires to be constant, so the
 * head size in vec4s (HS4) and the tile sizes are substituted into the source as `const`
 * declarations, and the loops over those arrays (marked `// @unroll`) are written out so the
 * arrays are indexed by constants; the pipeline cache key names the constants.
 *
 * NOT here: the kernels (forward.wgsl, backward.wgsl) or their dispatch (forward.ts, backward.ts).
 */
import { KernelInputError } from '../errors.ts';
import { unrollLoops } from '../matmul-tc/matmul-tc.ts';

/** Largest head size the fused kernels take (the unfused attention takes the same). */
export const FLASH_MAX_HS = 256;

/**
 * Tile-size knobs (benchmarks may change them before the first dispatch; pipelines are cached
 * per tile shape). Workgroup memory always bounds the tiles: see `flashTiles`.
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
export function flashTiles(hs: number, workgroupBytes: number, tuning: Omit<typeof flashTuning, 'unroll'> = flashTuning): FlashTiles {
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
