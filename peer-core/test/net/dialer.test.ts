/**
 * The Dialer (dial.ts) over a fake libp2p dial: one attempt at a time, ring order from this
 * node's id, the one immediate retry, the attempt timeout through the abort signal, a target
 * that never answers rejected after its rounds without holding up the others, every series
 * recorded, a hold (holdMs) that delays the first attempt as queue time, and queued dials
 * rejected when the node stops.
 */
import { describe, expect, it } from 'vitest';
import { type DialProgress, Dialer, type DialerInit, type DialRecord } from '../../src/net/dial.ts';
import { DirectDialError, SwarmNodeStateError } from '../../src/net/errors.ts';

interface FakeConn {
  peer: string;
  direct: boolean;
}

function make({ behave = async (peer) => ({ peer, direct: true }), ...over }: Partial<DialerInit<FakeConn>> & { behave?: (peer: string, n: number, signal: AbortSignal, progress: (ev: DialProgress) => void) => Promise<FakeConn> } = {}) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let running = true;
  const records: DialRecord[] = [];
  const perPeer = new Map<string, number>();
  const dialer = new Dialer<FakeConn>({
    self: () => 'm',
    running: () => running,
    dial: async (peer, { signal, onProgress }) => {
      calls.push(peer);
      const n = (perPeer.get(peer) ?? 0) + 1;
      perPeer.set(peer, n);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        return await behave(peer, n, signal, onProgress);
      } finally {
        inFlight--;
      }
    },
    existing: () => undefined,
    isDirect: (c) => c.direct,
    describe: (c) => `fake:${c.peer}`,
    lagMs: () => 3,
    records,
    attempts: 3,
    timeoutMs: 200,
    retryBaseMs: 10,
    stallMs: 0,
    iceStallMs: 0,
    ...over,
  });
  return { dialer, calls, records, stop: () => (running = false), maxInFlight: () => maxInFlight };
}

describe('Dialer', () => {
  it('dials one target at a time, in ring order from its own id, and records every series', async () => {
    const { dialer, calls, records, maxInFlight } = make();
    const targets = ['c', 'x', 'n', 'z', 'a'];
    const conns = await Promise.all(targets.map((t) => dialer.dial(t)));
    expect(conns.map((c) => c.peer)).toEqual(targets);
    expect(maxInFlight()).toBe(1);
    // The first call starts at once (only 'c' queued then); the rest go in ring order above 'm'.
    expect(calls).toEqual(['c', 'n', 'x', 'z', 'a']);
    expect(records.map((r) => [r.peerId, r.ok, r.attempts])).toEqual(calls.map((p) => [p, true, 1]));
    for (const r of records) expect(r.phases?.[0]).toBe('lag=3ms');
    // A second dial to a queued target joins it.
    const p1 = dialer.dial('q');
    expect(dialer.has('q')).toBe(true);
    expect(dialer.dial('q')).toBe(p1);
    await p1;
    expect(dialer.has('q')).toBe(false);
    expect(dialer.idle()).toBe(true);
  });

  it('retries a target whose first attempt failed as soon as its back-off ends, before the other queued targets', async () => {
    const { dialer, calls, records } = make({
      retryBaseMs: 1,
      behave: async (peer, n) => {
        if (peer === 'n' && n === 1) throw new Error('ICE hung');
        return { peer, direct: true };
      },
    });
    await Promise.all(['n', 'o', 'p'].map((t) => dialer.dial(t)));
    // 'n' backs off (~1 ms) while 'o' is dialled, then goes before 'p' (ring order would put it last).
    expect(calls).toEqual(['n', 'o', 'n', 'p']);
    const r = records.find((x) => x.peerId === 'n')!;
    expect(r.attempts).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/ICE hung/);
  });

  it('a target that never answers is given up after its rounds (timeouts through the abort signal); the others connect', async () => {
    const { dialer, records } = make({
      timeoutMs: 60,
      behave: (peer, _n, signal, progress) => {
        if (peer !== 'dead') return Promise.resolve({ peer, direct: true });
        progress({ type: 'webrtc:read-sdp-answer' });
        return new Promise((_, fail) => signal.addEventListener('abort', () => fail(signal.reason)));
      },
    });
    const dead = dialer.dial('dead');
    const alive = ['n', 'o'].map((t) => dialer.dial(t));
    await expect(dead).rejects.toThrow(DirectDialError);
    await expect(dead).rejects.toThrow(/after 3 attempts/);
    expect((await Promise.all(alive)).map((c) => c.peer)).toEqual(['n', 'o']);
    const failed = records.find((r) => r.peerId === 'dead' && !r.ok)!;
    expect(failed.attempts).toBe(3);
    expect(failed.errors).toHaveLength(3);
    expect(failed.errors[0]).toMatch(/timed out after 60 ms.*last stage webrtc:read-sdp-answer/);
    expect(failed.errors[1]).toMatch(/timed out after 90 ms/); // retries get 1.5x the first timeout
  });

  it('a relayed (non-direct) result is a failed attempt', async () => {
    const { dialer } = make({ attempts: 1, behave: async (peer) => ({ peer, direct: false }) });
    await expect(dialer.dial('r')).rejects.toThrow(/non-direct connection fake:r/);
  });

  it('holds every attempt while holdMs() > 0; the hold is queue time (waitMs), not dial time', async () => {
    const holdUntil = performance.now() + 120;
    let asked = 0;
    const { dialer, calls, records } = make({
      holdMs: () => {
        asked++;
        return Math.max(0, holdUntil - performance.now());
      },
    });
    const p = dialer.dial('n');
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toEqual([]);
    expect(dialer.idle()).toBe(false); // a held target is due work: warm-ups must not start
    await p;
    expect(calls).toEqual(['n']);
    expect(asked).toBeGreaterThan(1);
    expect(records[0]!.waitMs).toBeGreaterThanOrEqual(100);
    expect(records[0]!.ms).toBeLessThan(100);
  });

  it('stopping the node rejects the queued dials with SwarmNodeStateError', async () => {
    const { dialer, stop } = make({
      behave: async (peer) => {
        stop();
        return { peer, direct: true };
      },
    });
    const first = dialer.dial('n');
    const queued = dialer.dial('o');
    await expect(first).resolves.toEqual({ peer: 'n', direct: true });
    await expect(queued).rejects.toThrow(SwarmNodeStateError);
    expect(dialer.has('o')).toBe(false);
  });
});
