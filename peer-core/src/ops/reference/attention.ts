/**
 * Reference causal multi-head self-attention (llm.c `attention_forward/backward`), unfused:
 * scores, softmax and the weighted sum of values are separate loops. The specification for
 * the WGSL (unfused and flash-style) and WASM kernels; not fast.
 *
 * qkv (B,T,3C) holds [q | k | v] along the last axis; head h uses channels h*hs..(h+1)*hs-1
 * of each, hs = C/NH; scale = 1/sqrt(hs). preatt and att are (B,NH,T,T): preatt the scaled
 * scores, att the softmax probabilities; entries above the diagonal (t2 > t) are written as 0
 * in both. A fused backend may leave preatt untouched (it is scratch), but att must hold the
 * probabilities if its own backward reads them.
 */
import type { FloatArray } from './types.ts';

export function attentionForward(
  out: FloatArray,
  preatt: FloatArray,
  att: FloatArray,
  qkv: FloatArray,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const C3 = 3 * C;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const q = b * T * C3 + t * C3 + h * hs;
        const row = ((b * NH + h) * T + t) * T;
        // pass 1: scores q·k and the max for a stable softmax
        let maxv = Number.NEGATIVE_INFINITY;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = b * T * C3 + t2 * C3 + h * hs + C;
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * qkv[k + i];
          s *= scale;
          if (s > maxv) maxv = s;
          preatt[row + t2] = s;
        }
        // pass 2: exp and sum
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const e = Math.exp(preatt[row + t2] - maxv);
          sum += e;
          att[row + t2] = e;
        }
        const inv = sum === 0 ? 0 : 1 / sum;
        // pass 3: normalize; masked positions are 0
        for (let t2 = 0; t2 < T; t2++) {
          if (t2 <= t) att[row + t2] *= inv;
          else {
            att[row + t2] = 0;
            preatt[row + t2] = 0;
          }
        }
        // pass 4: out = att · v
        const o = b * T * C + t * C + h * hs;
        for (let i = 0; i < hs; i++) out[o + i] = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = b * T * C3 + t2 * C3 + h * hs + 2 * C;
          const a = att[row + t2];
          for (let i = 0; i < hs; i++) out[o + i] += a * qkv[v + i];
        }
      }
    }
  }
}

// Accumulates (+=) into dqkv (B,T,3C). dpreatt and datt (B,NH,T,T) are scratch that also
// accumulate (+=): zero them before the call. dout (B,T,C); att from the forward pass.
export function attentionBackward(
  dqkv: FloatArray,
  dpreatt: FloatArray,
  datt: FloatArray,
  dout: FloatArray,
  qkv: FloatArray,
  att: FloatArray,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const C3 = 3 * C;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const row = ((b * NH + h) * T + t) * T;
        const q = b * T * C3 + t * C3 + h * hs;
        const o = b * T * C + t * C + h * hs;
        // through out = att · v
        for (let t2 = 0; t2 <= t; t2++) {
          const v = b * T * C3 + t2 * C3 + h * hs + 2 * C;
          let d = 0;
          for (let i = 0; i < hs; i++) {
            d += qkv[v + i] * dout[o + i];
            dqkv[v + i] += att[row + t2] * dout[o + i];
          }
          datt[row + t2] += d;
        }
        // through the softmax: dpreatt = att * (datt - sum(att * datt))
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) dot += att[row + t2] * datt[row + t2];
        for (let t2 = 0; t2 <= t; t2++) dpreatt[row + t2] += att[row + t2] * (datt[row + t2] - dot);
        // through the scores q·k * scale
        for (let t2 = 0; t2 <= t; t2++) {
          const k = b * T * C3 + t2 * C3 + h * hs + C;
          const d = dpreatt[row + t2] * scale;
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += qkv[k + i] * d;
            dqkv[k + i] += qkv[q + i] * d;
          }
        }
      }
    }
  }
}
