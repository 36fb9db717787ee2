/**
 * CHOCO-SGD with `sharedInit`: every peer starts from the same x0 (a shared initialisation), so
 * the public copies start at x0 and only what training changes has to travel. Checked here:
 * identical replicas send nothing but zeros and stay put; the mean is preserved exactly as in
 * the zero-initialised algorithm; with top-k 1% the replicas reach consensus much faster than
 * when the copies start at 0 and must first receive x0 itself at 1% per round.
 */
import { describe, expect, it } from 'vitest';
import { Choco } from '../../src/gossip/index.ts';
import { randomNormal } from '../../src/util/random.ts';
import { consensusDistance, makeSwarm, mean, round } from './helpers.ts';

const DIM = 2000;

function replicas(n: number, spread: number, seed: number): { x0: Float32Array; xs: Float32Array[] } {
  const x0 = randomNormal(DIM, seed);
  const xs = Array.from({ length: n }, (_, i) => {
    const e = randomNormal(DIM, seed + 100 + i);
    return x0.map((v, k) => v + spread * e[k]);
  });
  return { x0, xs };
}

async function gossip(sharedInit: boolean, rounds: number, spread: number) {
  const s = makeSwarm(6);
  const avgs = s.transports.map((transport) => new Choco({ transport, codec: { name: 'topk', fraction: 0.01 }, topology: 'ring', gamma: 0.2, timeoutMs: 500, sharedInit }));
  const { x0, xs } = replicas(6, spread, 7);
  // Every peer initialises from the shared x0 (what the runtime does at a fresh start) ...
  for (const a of avgs) a.init(x0);
  const m0 = mean(xs);
  const d0 = consensusDistance(xs);
  // ... then trains away from it (here: the spread added to each replica) and gossips.
  for (let step = 0; step < rounds; step++) await round(s.clock, avgs, xs, step);
  const m1 = mean(xs);
  let meanShift = 0;
  for (let k = 0; k < DIM; k++) meanShift = Math.max(meanShift, Math.abs(m1[k] - m0[k]));
  return { ratio: consensusDistance(xs) / d0, meanShift, xs, x0, s };
}

describe('choco: sharedInit', () => {
  it('identical replicas at x0 send only zeros and do not move', async () => {
    const s = makeSwarm(4);
    const avgs = s.transports.map((transport) => new Choco({ transport, codec: { name: 'int8' }, topology: 'ring', gamma: 1, timeoutMs: 500, sharedInit: true }));
    const x0 = randomNormal(DIM, 3);
    const xs = avgs.map(() => x0.slice());
    for (const a of avgs) a.init(x0);
    for (let step = 0; step < 3; step++) await round(s.clock, avgs, xs, step);
    for (const x of xs) for (let k = 0; k < DIM; k++) expect(x[k]).toBe(x0[k]);
    for (const a of avgs) for (const [k, v] of a.publicCopy()!.entries()) expect(v, `x̂[${k}]`).toBe(x0[k]);
  });

  it('top-k 1%: consensus much faster than with copies at 0, and the mean is preserved', async () => {
    const shared = await gossip(true, 60, 0.01);
    const zero = await gossip(false, 60, 0.01);
    // The mean of x is invariant under CHOCO's symmetric consensus step, either way.
    expect(shared.meanShift).toBeLessThan(1e-4);
    expect(zero.meanShift).toBeLessThan(1e-4);
    // Copies at 0 spend the rounds delivering x0 (norm ~45) 1% at a time; with x0 shared only
    // the 0.01-sized differences travel.
    expect(shared.ratio).toBeLessThan(0.5);
    expect(shared.ratio).toBeLessThan(zero.ratio / 2);
  });
});
