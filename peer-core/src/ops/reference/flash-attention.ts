/**
 * Reference causal multi-head self-attention in the flash formulation (FlashAttention-2,
 * Dao 2023): the same function as `attentionForward/Backward` (attention.ts), but nothing of
 * size (B,NH,T,T) is stored. The forward pass walks the keys with an online softmax (running
 * max m and running sum l, rescaling the partial output when the max grows) and keeps only
 * the per-row logsumexp lse = m + log(l) of the scaled scores, shape (B,NH,T). The backward
 * pass recomputes each probability as p = exp(scale·q·k - lse).
 *
 * This is the specification of the fused WGSL kernels (gpu-shaders/src/flash-attention/) and
 * what the `cpu` backend runs when the model asks for fused attention. It is NOT fast and it
 * does not tile: it walks one query row at a time.
 *
 * Layouts as in attention.ts: qkv (B,T,3C) = [q | k | v], head h at channels h*hs..(h+1)*hs-1,
 * hs = C/NH, scale = 1/sqrt(hs); out, dout (B,T,C); lse (B,NH,T) at ((b*NH + h)*T + t).
 */
import type { FloatArray } from './types.ts';

/** out (B,T,C) and lse (B,NH,T) from qkv (B,T,3C); overwrites both. */
export function flashAttentionForward(out: FloatArray, lse: FloatArray, qkv: FloatArray, B: number, T: number, C: number, NH: number): void {
  const C3 = 3 * C;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const acc = new Float64Array(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs;
        let m = Number.NEGATIVE_INFINITY; // running max of the scaled scores
        let l = 0; // running sum of exp(score - m)
        acc.fill(0); // running sum of exp(score - m) * v
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + h * hs + C;
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * qkv[k + i];
          s *= scale;
          if (s > m) {
            // a new max: rescale what was summed against the old one
            const alpha = Math.exp(m - s);
            l *= alpha;
            for (let i = 0; i < hs; i++) acc[i] *= alpha;
            m = s;
          }
          const p = Math.exp(s - m);
          l += p;
          const v = k + C;
          for (let i = 0; i < hs; i++) acc[i] += p * qkv[v + i];
        }
        const o = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) out[o + i] = acc[i] / l;
        lse[(b * NH + h) * T + t] = m + Math.log(l);
      }
    }
  }
}

/**
 * Accumulates (+=) into dqkv (B,T,3C), as attentionBackward does. out and lse are the forward
 * pass's outputs; dout (B,T,C). With P the probabilities and dP = dout·vᵀ:
 *   D[t]     = sum_i dout[t,i] out[t,i]          (= sum_t2 P[t,t2] dP[t,t2])
 *   dS       = P ∘ (dP - D)                      (softmax backward, row-wise)
 *   dq += scale dS·k;  dk += scale dSᵀ·q;  dv += Pᵀ·dout
 */
export function flashAttentionBackward(
  dqkv: FloatArray,
  dout: FloatArray,
  qkv: FloatArray,
  out: FloatArray,
  lse: FloatArray,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const C3 = 3 * C;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs;
        const o = (b * T + t) * C + h * hs;
        const L = lse[(b * NH + h) * T + t];
        let D = 0;
        for (let i = 0; i < hs; i++) D += dout[o + i] * out[o + i];
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + h * hs + C;
          const v = k + C;
          // recompute the probability from the stored logsumexp
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * qkv[k + i];
          const p = Math.exp(s * scale - L);
          let dp = 0;
          for (let i = 0; i < hs; i++) {
            dp += dout[o + i] * qkv[v + i];
            dqkv[v + i] += p * dout[o + i];
          }
          const ds = p * (dp - D) * scale;
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += ds * qkv[k + i];
            dqkv[k + i] += ds * qkv[q + i];
          }
        }
      }
    }
  }
}
