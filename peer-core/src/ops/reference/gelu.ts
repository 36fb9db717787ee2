/**
 * Reference GELU, tanh approximation (GPT-2's `gelu_new`, llm.c `gelu_forward/backward`).
 */
import type { FloatArray } from './types.ts';

const GELU_SCALE = Math.sqrt(2 / Math.PI);

// out (N) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
export function geluForward(out: FloatArray, inp: FloatArray, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    const cube = 0.044715 * x * x * x;
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + cube)));
  }
}

// Accumulates (+=) into dinp (N) from dout (N); inp is the forward input.
export function geluBackward(dinp: FloatArray, inp: FloatArray, dout: FloatArray, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    const cube = 0.044715 * x * x * x;
    const tanhArg = GELU_SCALE * (x + cube);
    const tanhOut = Math.tanh(tanhArg);
    const sech2 = 1 - tanhOut * tanhOut;
    const local = 0.5 * (1 + tanhOut) + x * 0.5 * sech2 * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    dinp[i] += local * dout[i];
  }
}
