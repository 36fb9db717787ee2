/**
 * Reference layernorm over the last dimension (llm.c `layernorm_forward/backward`), eps 1e-5,
 * biased variance (as PyTorch). Plain loops; the specification, not the fast path.
 */
import type { FloatArray } from './types.ts';

export const LAYERNORM_EPS = 1e-5;

// out (N,C) = (inp - mean) * rstd * weight + bias; saves mean (N) and rstd (N) for backward.
export function layernormForward(
  out: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  inp: FloatArray,
  weight: FloatArray,
  bias: FloatArray,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[x + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) {
      const d = inp[x + i] - m;
      v += d * d;
    }
    v /= C;
    const s = 1 / Math.sqrt(v + LAYERNORM_EPS);
    for (let i = 0; i < C; i++) out[x + i] = (inp[x + i] - m) * s * weight[i] + bias[i];
    mean[n] = m;
    rstd[n] = s;
  }
}

// Accumulates (+=) into dinp (N,C), dweight (C), dbias (C) from dout (N,C).
export function layernormBackward(
  dinp: FloatArray,
  dweight: FloatArray,
  dbias: FloatArray,
  dout: FloatArray,
  inp: FloatArray,
  weight: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const m = mean[n];
    const s = rstd[n];
    // two reductions: mean of dnorm and mean of dnorm * norm
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = weight[i] * dout[x + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = weight[i] * dout[x + i];
      dbias[i] += dout[x + i];
      dweight[i] += norm * dout[x + i];
      dinp[x + i] += (dnorm - dnormMean - norm * dnormNormMean) * s;
    }
  }
}
