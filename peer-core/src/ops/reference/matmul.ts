/**
 * Reference matmul (plain TypeScript, llm.c style). This is the specification the WGSL and
 * WASM kernels are tested against; it is written for clarity, not speed.
 *
 * Layouts are row-major. `transA`/`transB` say how A and B are stored:
 *   A is (M,K), or (K,M) when transA;  B is (K,N), or (N,K) when transB.
 */

export interface MatmulShape {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
}

// out is (M,N) = A·B (+ bias (N)); when `accumulate`, out += A·B instead of out = A·B.
export function matmulForward(
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | null,
  { M, K, N, transA = false, transB = false }: MatmulShape,
  accumulate = false,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[k * M + m] : a[m * K + k];
        const bv = transB ? b[n * K + k] : b[k * N + n];
        acc += av * bv;
      }
      out[m * N + n] = accumulate ? out[m * N + n] + acc : acc;
    }
  }
}

// Gradients of out = A·B + bias, accumulated (+=) into da (shape of A), db (shape of B), dbias (N).
// dout is (M,N). Any gradient may be null to skip it.
export function matmulBackward(
  da: Float32Array | null,
  db: Float32Array | null,
  dbias: Float32Array | null,
  dout: Float32Array,
  a: Float32Array,
  b: Float32Array,
  { M, K, N, transA = false, transB = false }: MatmulShape,
): void {
  if (da) {
    // dA[m,k] = sum_n dout[m,n] * B[k,n]
    for (let m = 0; m < M; m++)
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc += dout[m * N + n] * (transB ? b[n * K + k] : b[k * N + n]);
        if (transA) da[k * M + m] += acc;
        else da[m * K + k] += acc;
      }
  }
  if (db) {
    // dB[k,n] = sum_m A[m,k] * dout[m,n]
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let m = 0; m < M; m++) acc += (transA ? a[k * M + m] : a[m * K + k]) * dout[m * N + n];
        if (transB) db[n * K + k] += acc;
        else db[k * N + n] += acc;
      }
  }
  if (dbias) {
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) dbias[n] += dout[m * N + n];
  }
}
