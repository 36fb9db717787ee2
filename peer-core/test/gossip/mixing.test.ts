/**
 * Gossip averaging against closed forms: one round equals W·X; allreduce equals the exact mean;
 * repeated rounds contract the consensus distance at least as fast as λ2(W)^2 per round while
 * preserving the average; CHOCO gossip with int8 / top-k / sign reaches consensus on the mean.
 */
import { describe, expect, it } from 'vitest';
import { buildTopology, type Choco, mixingMatrix, secondEigenvalue } from '../../src/gossip/index.ts';
import { freshSeed } from '../../src/util/random.ts';
import { averagers, consensusDistance, makeSwarm, mean, randomVectors, round } from './helpers.ts';

describe('one round', () => {
  for (const kind of ['ring', 'exponential', 'random-regular'] as const) {
    it(`dpsgd on ${kind}: each peer's new vector is its row of W times X`, async () => {
      const seed = freshSeed();
      const n = 7;
      const s = makeSwarm(n, { latencyMs: 3 });
      const avgs = averagers('dpsgd', s, { topology: kind, topologyOptions: { degree: 4, seed: 2 } });
      const xs = randomVectors(n, 33, seed);
      const before = xs.map((x) => Float64Array.from(x));
      avgs.forEach((a, i) => {
      a.init(xs[i]);
    });
      const reports = await round(s.clock, avgs, xs, 0);
      const W = mixingMatrix(buildTopology(kind, s.ids, { degree: 4, seed: 2 }));
      for (let i = 0; i < n; i++) {
        expect(reports[i].missing).toEqual([]);
        for (let k = 0; k < 33; k++) {
          let ref = 0;
          for (let j = 0; j < n; j++) ref += W[i][j] * before[j][k];
          expect(Math.abs(xs[i][k] - ref), `seed ${seed}`).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(ref));
        }
      }
    });
  }

  it('allreduce with no codec gives every peer the exact mean', async () => {
    const seed = freshSeed();
    const n = 5;
    const s = makeSwarm(n);
    const avgs = averagers('allreduce', s);
    const x0 = randomVectors(1, 40, seed)[0];
    const xs = Array.from({ length: n }, () => x0.slice());
    avgs.forEach((a, i) => {
      a.init(xs[i]);
    });
    const local = randomVectors(n, 40, seed + 100);
    for (let i = 0; i < n; i++) for (let k = 0; k < 40; k++) xs[i][k] += local[i][k];
    const target = mean(xs);
    await round(s.clock, avgs, xs, 0);
    for (const x of xs) for (let k = 0; k < 40; k++) expect(Math.abs(x[k] - target[k]), `seed ${seed}`).toBeLessThan(1e-5);
    expect(consensusDistance(xs)).toBe(0);
  });
});

describe('repeated gossip', () => {
  it('dpsgd on a ring converges to the exact average, geometrically (rate <= λ2^2 per round)', async () => {
    const seed = freshSeed();
    const n = 8;
    const s = makeSwarm(n);
    const avgs = averagers('dpsgd', s, { topology: 'ring' });
    const xs = randomVectors(n, 16, seed);
    const m0 = mean(xs);
    const lambda = secondEigenvalue(mixingMatrix(buildTopology('ring', s.ids)));
    const d0 = consensusDistance(xs);
    avgs.forEach((a, i) => {
      a.init(xs[i]);
    });
    for (let t = 0; t < 60; t++) {
      await round(s.clock, avgs, xs, t);
      const dt = consensusDistance(xs);
      expect(dt, `seed ${seed} round ${t}`).toBeLessThanOrEqual(d0 * lambda ** (2 * (t + 1)) * (1 + 1e-6) + 1e-9);
    }
    expect(consensusDistance(xs)).toBeLessThan(1e-4 * d0);
    const m = mean(xs);
    for (let k = 0; k < 16; k++) expect(Math.abs(m[k] - m0[k])).toBeLessThan(1e-5);
  });

  for (const [codec, rounds, gamma] of [
    ['int8', 80, 0.9],
    ['topk', 200, 0.2],
    ['sign', 150, 0.3],
  ] as const) {
    it(`choco gossip with ${codec} reaches consensus on the average`, async () => {
      const seed = freshSeed();
      const n = 8;
      const s = makeSwarm(n);
      const avgs = averagers('choco', s, { topology: 'ring', codec: codec === 'topk' ? { name: 'topk', fraction: 0.1 } : codec, gamma });
      const xs = randomVectors(n, 40, seed);
      const m0 = mean(xs);
      const d0 = consensusDistance(xs);
      avgs.forEach((a, i) => {
      a.init(xs[i]);
    });
      for (let t = 0; t < rounds; t++) await round(s.clock, avgs, xs, t);
      expect(consensusDistance(xs), `seed ${seed}`).toBeLessThan(1e-3 * d0);
      const m = mean(xs);
      for (let k = 0; k < 40; k++) expect(Math.abs(m[k] - m0[k]), `seed ${seed}`).toBeLessThan(1e-4);
      // public copies track the private vectors
      const c = (avgs[0] as Choco).publicCopy()!;
      let gap = 0;
      for (let k = 0; k < 40; k++) gap += (c[k] - xs[0][k]) ** 2;
      expect(gap).toBeLessThan(1e-2 * (d0 / n));
    });
  }
});
