/**
 * padMatrix: the plain reference of gpu-shaders' pad kernel (data movement, no arithmetic).
 * out (Rp, Cp) packed = inp (R, C) at element offset `off` with row stride `ld`; zeros
 * elsewhere. Not here: anything the matmul does with the padded copy.
 */
export function padMatrix(inp: Float32Array, R: number, C: number, Rp: number, Cp: number, ld: number, off = 0): Float32Array {
  const out = new Float32Array(Rp * Cp);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) out[r * Cp + c] = inp[off + r * ld + c]!;
  }
  return out;
}
