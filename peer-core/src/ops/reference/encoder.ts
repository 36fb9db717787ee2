/**
 * Reference token + position embedding (llm.c `encoder_forward/backward`). Plain loops, the
 * specification for the WGSL and WASM kernels; not fast.
 */
import type { FloatArray } from './types.ts';

// out (B,T,C) = wte[inp[b,t]] + wpe[t];  inp (B,T) token ids;  wte (V,C);  wpe (maxT,C), T <= maxT.
export function encoderForward(
  out: FloatArray,
  inp: Int32Array,
  wte: FloatArray,
  wpe: FloatArray,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const ix = inp[b * T + t] * C;
      const p = t * C;
      for (let i = 0; i < C; i++) out[o + i] = wte[ix + i] + wpe[p + i];
    }
  }
}

// Accumulates (+=) into dwte (V,C) and dwpe (maxT,C) from dout (B,T,C).
export function encoderBackward(
  dwte: FloatArray,
  dwpe: FloatArray,
  dout: FloatArray,
  inp: Int32Array,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const ix = inp[b * T + t] * C;
      const p = t * C;
      for (let i = 0; i < C; i++) {
        const d = dout[o + i];
        dwte[ix + i] += d;
        dwpe[p + i] += d;
      }
    }
  }
}
