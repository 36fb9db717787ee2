/** Reference residual add (llm.c `residual_forward/backward`). */
import type { FloatArray } from './types.ts';

// out (N) = a + b
export function residualForward(out: FloatArray, a: FloatArray, b: FloatArray, N: number): void {
  for (let i = 0; i < N; i++) out[i] = a[i] + b[i];
}

// Accumulates (+=) dout into da and db.
export function residualBackward(da: FloatArray, db: FloatArray, dout: FloatArray, N: number): void {
  for (let i = 0; i < N; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}
