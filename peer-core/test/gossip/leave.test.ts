/**
 * A neighbour that leaves the membership in the middle of a round is not waited for until the
 * round timeout: the synchronous rounds (dpsgd here; allreduce and choco share `gather`) and
 * AD-PSGD's wait for its partner's reply end a grace period (DEFAULT_LEAVE_GRACE_MS, for messages
 * still in flight) after the leave is seen. Virtual time (SimClock).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEAVE_GRACE_MS } from '../../src/gossip/index.ts';
import { freshSeed } from '../../src/util/random.ts';
import { averagers, makeSwarm, randomVectors } from './helpers.ts';

const TIMEOUT = 10_000;
const DETECT = 200;

describe('a neighbour that leaves mid-round', () => {
  it('dpsgd: the round ends when the leave is seen, not at the timeout; the survivors mix each other', async () => {
    for (const detect of [DETECT, 3 * TIMEOUT]) {
      const s = makeSwarm(3, { failureDetectMs: detect });
      const avgs = averagers('dpsgd', s, { topology: 'ring', timeoutMs: TIMEOUT });
      const xs = randomVectors(3, 16, freshSeed());
      for (const [i, a] of avgs.entries()) a.init(xs[i]);
      s.net.kill(s.ids[2]);
      const t0 = s.clock.now();
      const reports = await s.clock.run(Promise.all([avgs[0].mix(xs[0], 0), avgs[1].mix(xs[1], 0)]));
      const elapsed = s.clock.now() - t0;
      for (const r of reports) {
        expect(r.missing).toEqual([s.ids[2]]);
        expect(r.mixed).toHaveLength(1);
      }
      // Detected before the timeout: the round ends a grace period after the leave. After: at the timeout.
      if (detect < TIMEOUT) expect(elapsed).toBeLessThan(DETECT + DEFAULT_LEAVE_GRACE_MS + 100);
      else expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT);
      for (const a of avgs) a.stop();
    }
  });

  it('adpsgd: the active peer stops waiting for a partner that left', async () => {
    const s = makeSwarm(2, { failureDetectMs: DETECT });
    const avgs = averagers('adpsgd', s, { topology: 'ring', timeoutMs: TIMEOUT });
    const xs = randomVectors(2, 16, freshSeed());
    const before = Float32Array.from(xs[0]);
    for (const [i, a] of avgs.entries()) a.init(xs[i]);
    s.net.kill(s.ids[1]);
    const t0 = s.clock.now();
    const r = await s.clock.run(avgs[0].mix(xs[0], 0));
    expect(s.clock.now() - t0).toBeLessThan(DETECT + DEFAULT_LEAVE_GRACE_MS + 100);
    expect(r.missing).toEqual([s.ids[1]]);
    expect(r.mixed).toEqual([]);
    expect(Array.from(xs[0])).toEqual(Array.from(before));
    for (const a of avgs) a.stop();
  });
});
