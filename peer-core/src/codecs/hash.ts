/**
 * Counter-based hash RNG shared by the CPU codecs and the WGSL kernels, so stochastic rounding
 * on the GPU reproduces the CPU reference bit for bit: u(seed, i) = pcg(pcg(seed) + i) >>> 8,
 * as a 24-bit uniform in [0, 1) (exact in f32). PCG hash after Jarkko, "Hash Functions for GPU
 * Rendering" (JCGT 2020). Not cryptographic; not for anything but codec randomness.
 */

/** PCG-RXS-M-XS 32-bit hash of a u32. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The 24-bit uniform draw for element `i` under `seed`, in [0, 1). */
export function hashUniform24(seed: number, i: number): number {
  const h = pcgHash((pcgHash(seed) + i) >>> 0);
  return (h >>> 8) / 16777216;
}

/** Integer draw (u32) for element `i` under `seed`. */
export function hashU32(seed: number, i: number): number {
  return pcgHash((pcgHash(seed) + i) >>> 0);
}
