/**
 * Shared plumbing of the fused (flash) attention kernels: input validation, tile sizes, and
 * the specialisation of the WGSL source to them. The kernels keep per-invocation arrays
 * (scores of a tile, the output / gradient accumulators) whose sizes WGSL requires to be
 * constant, so the head size in vec4s (HS4) and the tile sizes are substituted into the source
 * as `const` declarations; the pipeline cache key names them.
 *
 * NOT here: the kernels (forward.wgsl, backward.wgsl) or their dispatch (forward.ts, backward.ts).
 */
import { KernelInputError } from '../errors.ts';

/** Largest head size the fused kernels take (the unfused attention takes the same). */
export const FLASH_MAX_HS = 256;

/**
 * Tile-size knobs (benchmarks may change them before the first dispatch; pipelines are cached
 * per tile shape). Workgroup memory always bounds the tiles: see `flashTiles`.
 */
export const flashTuning = {
  /** Query rows per workgroup in forward and dq, key rows per workgroup in dkv (= invocations). */
  rows: 64,
  /** Most keys per K/V tile (forward, dq): BC floats of scores per invocation live in registers. */
  maxKeyTile: 32,
  /** Most queries per q/dout tile (dkv): 2·BQ floats per invocation in registers. */
  maxQueryTile: 16,
};

export interface FlashTiles {
  /** Head size in vec4s (hs rounded up to 4, channels past hs are zero). */
  HS4: number;
  /** Rows (invocations) per workgroup. */
  BR: number;
  /** Keys per K/V tile in forward and dq. */
  BC: number;
  /** Queries per q/dout tile in dkv (<= BC). */
  BQ: number;
}

/**
 * Tile sizes for head size `hs` under `workgroupBytes` of workgroup memory (the device's
 * maxComputeWorkgroupStorageSize; WebGPU guarantees 16384). Forward and dq hold a K and a V
 * tile (2·BC·HS4 vec4s), dkv a q and a dout tile plus lse and D (2·BQ·HS4 vec4s + 2·BQ floats).
 * Powers of two, at most the tuning caps.
 */
export function flashTiles(hs: number, workgroupBytes: number, tuning = flashTuning): FlashTiles {
  const HS4 = Math.ceil(hs / 4);
  const fit = (cap: number, bytes: (n: number) => number) => {
    let n = 1;
    while (n * 2 <= cap && bytes(n * 2) <= workgroupBytes) n *= 2;
    return n;
  };
  const BC = fit(tuning.maxKeyTile, (n) => 2 * n * HS4 * 16);
  const BQ = Math.min(BC, fit(tuning.maxQueryTile, (n) => 2 * n * HS4 * 16 + 8 * n));
  return { HS4, BR: tuning.rows, BC, BQ };
}

/** `code` with its `const NAME: u32 = <n>u;` tile constants replaced by `tiles` (cached). */
const specialised = new Map<string, string>();
export function specialise(code: string, tiles: FlashTiles): string {
  const key = `${tiles.HS4},${tiles.BR},${tiles.BC},${tiles.BQ}\n${code}`;
  let s = specialised.get(key);
  if (s === undefined) {
    s = code.replace(/const (HS4|BR|BC|BQ): u32 = \d+u;/g, (_m, name: keyof FlashTiles) => `const ${name}: u32 = ${tiles[name]}u;`);
    specialised.set(key, s);
  }
  return s;
}

/** Pipeline cache name of a specialisation. */
export function tilesKey(kernel: string, t: FlashTiles): string {
  return `${kernel}[hs4=${t.HS4},br=${t.BR},bc=${t.BC},bq=${t.BQ}]`;
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
