/**
 * Two neighbours one round apart (what a topology change leaves behind: the new neighbour's
 * message of this round went to its old neighbours): the peer behind does not wait the round
 * timeout for a message that was never sent to it. Its round ends as soon as the neighbour's
 * NEWER message is there, without mixing it; that message stays queued and is mixed in the round
 * it belongs to. Virtual time (SimClock). Also: the message of the awaited round still wins when
 * both are queued (a neighbour one round ahead in normal operation).
 */
import { describe, expect, it } from 'vitest';
import { freshSeed } from '../../src/util/random.ts';
import { averagers, makeSwarm, randomVectors } from './helpers.ts';

const TIMEOUT = 10_000;

describe('a neighbour one round ahead', () => {
  it('dpsgd: the peer behind ends its round at once, then mixes the newer message in the next round', async () => {
    const s = makeSwarm(2, {});
    const avgs = averagers('dpsgd', s, { topology: 'ring', timeoutMs: TIMEOUT });
    const xs = randomVectors(2, 16, freshSeed());
    for (const [i, a] of avgs.entries()) a.init(xs[i]);
    const [a, b] = avgs;
    // A is at round 1 (its round-0 message went elsewhere); B is at round 0.
    const aRound1 = a.mix(xs[0], 1);
    const t0 = s.clock.now();
    const r0 = await s.clock.run(b.mix(xs[1], 0));
    expect(s.clock.now() - t0).toBeLessThan(TIMEOUT / 10);
    expect(r0.mixed).toEqual([]);
    expect(r0.missing).toEqual([s.ids[0]]);
    // Round 1 of B (the runtime's jump): A's queued round-1 message is mixed, A gets B's.
    const xa = Float32Array.from(xs[0]);
    const xb = Float32Array.from(xs[1]);
    const [ra, rb] = await s.clock.run(Promise.all([aRound1, b.mix(xs[1], 1)]));
    expect(ra.mixed).toEqual([s.ids[1]]);
    expect(rb.mixed).toEqual([s.ids[0]]);
    // Two peers, Metropolis-Hastings weights 1/2: both end at the mean of what they held.
    for (let i = 0; i < xa.length; i++) {
      const mean = 0.5 * (xa[i]! + xb[i]!);
      expect(Math.abs(xs[1][i]! - mean)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(mean));
    }
    for (const x of avgs) x.stop();
  });

  it('dpsgd: with both rounds queued, the awaited round is mixed (no skip)', async () => {
    const s = makeSwarm(2, {});
    const avgs = averagers('dpsgd', s, { topology: 'ring', timeoutMs: TIMEOUT });
    const xs = randomVectors(2, 16, freshSeed());
    for (const [i, a] of avgs.entries()) a.init(xs[i]);
    const [a, b] = avgs;
    const a0 = a.mix(Float32Array.from(xs[0]), 0);
    const a1 = a.mix(Float32Array.from(xs[0]), 1);
    const r0 = await s.clock.run(b.mix(xs[1], 0));
    expect(r0.mixed).toEqual([s.ids[0]]);
    const r1 = await s.clock.run(b.mix(xs[1], 1));
    expect(r1.mixed).toEqual([s.ids[0]]);
    await s.clock.run(Promise.all([a0, a1]));
    for (const x of avgs) x.stop();
  });
});
