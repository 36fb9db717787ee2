/**
 * AD-PSGD's pairwise exchange: the request is a frame header and both parameter vectors then
 * cross the link at the same time, so one exchange costs about one transfer time (not two, as
 * when the reply only starts after the requester's vector has arrived); both peers end at the
 * exact pairwise mean (codec none); requests from non-members are not answered. Virtual time.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES } from '../../src/gossip/index.ts';
import { WIRE_HEADER_BYTES } from '../../src/codecs/constants.ts';
import { freshSeed } from '../../src/util/random.ts';
import { averagers, makeSwarm, randomVectors } from './helpers.ts';

describe('adpsgd exchange', () => {
  it('one transfer time per exchange; both peers end at the pairwise mean', async () => {
    const dim = 50_000;
    const bytesPerMs = 2500; // 20 Mbit/s
    const latencyMs = 50;
    const s = makeSwarm(2, { bytesPerMs, latencyMs });
    const avgs = averagers('adpsgd', s, { topology: 'ring', timeoutMs: 10_000 });
    const seed = freshSeed();
    const xs = randomVectors(2, dim, seed);
    const ref = Float64Array.from(xs[0], (v, k) => 0.5 * (v + xs[1][k]));
    for (const [i, a] of avgs.entries()) a.init(xs[i]);
    const transferMs = (FRAME_HEADER_BYTES + 'params'.length + WIRE_HEADER_BYTES + 4 * dim) / bytesPerMs;
    const t0 = s.clock.now();
    const r = await s.clock.run(avgs[0].mix(xs[0], 0));
    const elapsed = s.clock.now() - t0;
    expect(r.mixed).toEqual([s.ids[1]]);
    // Request (latency) + reply (transfer + latency); sequential transfers would take 2× transfer.
    expect(elapsed).toBeGreaterThanOrEqual(transferMs + 2 * latencyMs - 1);
    expect(elapsed).toBeLessThan(1.25 * transferMs + 2 * latencyMs);
    // The requester's vector reaches the responder by then too (it left right after the request).
    await s.clock.run(s.clock.sleep(2 * latencyMs));
    for (const x of xs) for (let k = 0; k < dim; k += 997) expect(Math.abs(x[k] - ref[k]), `seed ${seed}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(ref[k])));
    for (const a of avgs) a.stop();
  });

  it('a requester gets one reply at a time (a flood of bare requests is not amplified)', async () => {
    const s = makeSwarm(2);
    const avgs = averagers('adpsgd', s, { topology: 'ring', timeoutMs: 1000 });
    const xs = randomVectors(2, 8, freshSeed());
    avgs[0].init(xs[0]);
    // Three bare requests from p01 and no parameters after them.
    for (let seq = 0; seq < 3; seq++) s.transports[1].send(s.ids[0], { kind: 'adpsgd-req', step: seq, tensor: 'params', flags: 0, body: new Uint8Array(0) });
    await s.clock.run(s.clock.sleep(100));
    expect(s.transports[0].ledger.total({ dir: 'sent', kind: 'adpsgd-rep' }).messages).toBe(1);
    // After the first answer gives up on the missing parameters, the next request is answered.
    await s.clock.run(s.clock.sleep(1000));
    s.transports[1].send(s.ids[0], { kind: 'adpsgd-req', step: 3, tensor: 'params', flags: 0, body: new Uint8Array(0) });
    await s.clock.run(s.clock.sleep(100));
    expect(s.transports[0].ledger.total({ dir: 'sent', kind: 'adpsgd-rep' }).messages).toBeGreaterThanOrEqual(2);
    expect(Array.from(xs[0]).every(Number.isFinite)).toBe(true);
    for (const a of avgs) a.stop();
  });
});
