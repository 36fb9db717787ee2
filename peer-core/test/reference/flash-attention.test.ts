/**
 * The flash-formulation attention reference (online softmax + logsumexp, probabilities
 * recomputed in backward) equals the unfused reference (attention.ts) on fresh random inputs:
 * forward output, lse = log(sum(exp(preatt))) per row, and the accumulated dqkv, at awkward
 * T and several heads.
 */
import { describe, expect, it } from 'vitest';
import {
  allclose,
  attentionBackward,
  attentionForward,
  flashAttentionBackward,
  flashAttentionForward,
  freshSeed,
  randomUniform,
} from '../../src/ops/reference/index.ts';

const TOL = { atol: 1e-5, rtol: 1e-4 };

describe('flash attention reference vs the unfused reference', () => {
  for (const [B, T, C, NH] of [
    [1, 1, 4, 1],
    [2, 7, 12, 3],
    [3, 13, 40, 5],
    [1, 33, 32, 2],
  ] as const) {
    it(`B=${B} T=${T} C=${C} NH=${NH}: out, lse and dqkv`, () => {
      const seed = freshSeed();
      const TT = B * NH * T * T;
      // scores of a few units so the softmax is far from uniform and the running max moves
      const qkv = randomUniform(B * T * 3 * C, seed, -2, 2);
      const dout = randomUniform(B * T * C, seed + 1);
      const dqkv0 = randomUniform(B * T * 3 * C, seed + 2);

      const out = new Float32Array(B * T * C);
      const preatt = new Float32Array(TT);
      const att = new Float32Array(TT);
      attentionForward(out, preatt, att, qkv, B, T, C, NH);
      const dqkv = dqkv0.slice();
      attentionBackward(dqkv, new Float32Array(TT), new Float32Array(TT), dout, qkv, att, B, T, C, NH);
      // lse of each row from the stored scores
      const lse = new Float32Array(B * NH * T);
      for (let r = 0; r < B * NH * T; r++) {
        const t = r % T;
        let m = Number.NEGATIVE_INFINITY;
        for (let t2 = 0; t2 <= t; t2++) m = Math.max(m, preatt[r * T + t2]);
        let s = 0;
        for (let t2 = 0; t2 <= t; t2++) s += Math.exp(preatt[r * T + t2] - m);
        lse[r] = m + Math.log(s);
      }

      const fOut = new Float32Array(B * T * C).fill(Number.NaN); // overwritten, never read
      const fLse = new Float32Array(B * NH * T).fill(Number.NaN);
      flashAttentionForward(fOut, fLse, qkv, B, T, C, NH);
      const fDqkv = dqkv0.slice();
      flashAttentionBackward(fDqkv, dout, qkv, fOut, fLse, B, T, C, NH);

      for (const [name, got, want] of [
        ['out', fOut, out],
        ['lse', fLse, lse],
        ['dqkv', fDqkv, dqkv],
      ] as const) {
        const r = allclose(got, want, TOL);
        expect(r.ok, `${name} (seed ${seed}): ${r.message}`).toBe(true);
      }
    });
  }
});
