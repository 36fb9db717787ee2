/**
 * CHOCO-SGD and late joiners: public copies x̂ start at 0 only at a fresh start. A peer that joins
 * a swarm that has been mixing must not assume its neighbours' x̂ are 0 (init with
 * `joining: true`): it asks them for their full x̂ and the replicas reach consensus. Initialising
 * a joiner as if the start were fresh leaves a permanent offset, which the test shows too, so the
 * option is what makes the difference.
 */
import { describe, expect, it } from 'vitest';
import { createAverager } from '../../src/gossip/index.ts';
import { consensusDistance, makeSwarm, randomVectors, round } from './helpers.ts';

async function lateJoin(joining: boolean) {
  const s = makeSwarm(2);
  const mk = (t: (typeof s.transports)[number]) => createAverager('choco', { transport: t, codec: { name: 'int8' }, topology: 'full', timeoutMs: 500 });
  const avgs = s.transports.map(mk);
  let xs = randomVectors(2, 500, 11);
  for (const [i, a] of avgs.entries()) a.init(xs[i]!);
  for (let step = 0; step < 6; step++) await round(s.clock, avgs, xs, step);
  const late = s.net.join('late');
  const c = mk(late);
  const xc = randomVectors(1, 500, 99)[0]!;
  c.init(xc, { joining });
  const all = [...avgs, c];
  xs = [...xs, xc];
  const d0 = consensusDistance(xs);
  for (let step = 6; step < 26; step++) await round(s.clock, all, xs, step);
  return consensusDistance(xs) / d0;
}

describe('choco: a late joiner', () => {
  it('with joining: true re-syncs public copies and the three replicas reach consensus', async () => {
    expect(await lateJoin(true)).toBeLessThan(1e-4);
  });

  it('initialised as a fresh start it keeps a permanent offset (why the option exists)', async () => {
    expect(await lateJoin(false)).toBeGreaterThan(1e-2);
  });
});
