/**
 * SwarmNode's dial scheduling (nextDialTarget, ringBefore, dialBackoff, dialAttemptTimeout),
 * in memory. The bug these guard against (issue #4, the 8-peer mesh): every dialer took its
 * queued targets largest id first, so all of them dialled the same peer at once; on a starved
 * machine those handshakes timed out together, were retried together, and a target that kept
 * failing kept a node's single dial worker busy while its other targets waited.
 *
 * The simulation below runs the scheduler of N nodes in lockstep turns (one attempt per node
 * per turn, "smaller id dials") and checks how many dialers hit one target in the same turn
 * and that a target that always fails does not starve the others. A second simulation lets the
 * nodes join over several turns, each knowing only the members that joined before (the relay's
 * roster lags a turn): there the first members were dialled by several newcomers at once until
 * new nodes held their first dials until what they knew stopped growing (dialHoldMs).
 */
import { describe, expect, it } from 'vitest';
import { dialHoldMs } from '../../src/net/dial.ts';
import { type DialFailure, dialAttemptTimeout, dialBackoff, nextDialTarget, ringBefore } from '../../src/net/swarm-node.ts';
import { mulberry32 } from '../../src/util/random.ts';

function randomIds(n: number, seed: number): string[] {
  const r = mulberry32(seed);
  const abc = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  return Array.from({ length: n }, () => `12D3KooW${Array.from({ length: 44 }, () => abc[Math.floor(r() * abc.length)]).join('')}`);
}

describe('nextDialTarget', () => {
  it('walks the ring upwards from self, wrapping around', () => {
    expect(nextDialTarget('m', ['z', 'n', 'a', 'q'], new Map(), 0)).toBe('n');
    expect(nextDialTarget('m', ['z', 'a', 'q'], new Map(), 0)).toBe('q');
    expect(nextDialTarget('m', ['b', 'a'], new Map(), 0)).toBe('a');
    // the full order
    const queued = ['z', 'n', 'a', 'q', 'c'];
    const order: string[] = [];
    const left = [...queued];
    while (left.length) {
      const t = nextDialTarget('m', left, new Map(), 0)!;
      order.push(t);
      left.splice(left.indexOf(t), 1);
    }
    expect(order).toEqual(['n', 'q', 'z', 'a', 'c']);
  });

  it('skips targets backing off, and prefers fewer failed attempts over ring order', () => {
    const f = new Map<string, DialFailure>([
      ['n', { rounds: 1, notBefore: 100, firstAt: 0, errors: [] }],
      ['q', { rounds: 2, notBefore: 50, firstAt: 0, errors: [] }],
    ]);
    // at t=60: n (1 failure) is backing off, q (2 failures) is ready, z (0 failures) is ready -> z
    expect(nextDialTarget('m', ['n', 'q', 'z'], f, 60)).toBe('z');
    expect(nextDialTarget('m', ['n', 'q'], f, 60)).toBe('q');
    // at t=200: n (1 failure) beats q (2 failures) although q is not nearer
    expect(nextDialTarget('m', ['n', 'q'], f, 200)).toBe('n');
    // all backing off
    expect(nextDialTarget('m', ['n'], f, 10)).toBeUndefined();
    expect(nextDialTarget('m', [], f, 10)).toBeUndefined();
  });

  it('retries a target whose first attempt failed at once (after its back-off), later failures go behind', () => {
    const f = new Map<string, DialFailure>([
      ['z', { rounds: 1, notBefore: 100, firstAt: 0, errors: [] }],
      ['q', { rounds: 2, notBefore: 0, firstAt: 0, errors: [] }],
    ]);
    // n and p are untried and nearer in the ring; z failed once: after its back-off it goes first
    expect(nextDialTarget('m', ['n', 'p', 'z'], f, 50)).toBe('n');
    expect(nextDialTarget('m', ['n', 'p', 'z'], f, 100)).toBe('z');
    // q failed twice: behind the untried ones
    expect(nextDialTarget('m', ['q', 'p'], f, 100)).toBe('p');
  });

  it('ringBefore is a strict order consistent with the walk', () => {
    const ids = randomIds(12, 3);
    const self = ids[0]!;
    const rest = ids.slice(1);
    const sorted = [...rest].sort((a, b) => (ringBefore(self, a, b) ? -1 : ringBefore(self, b, a) ? 1 : 0));
    const above = rest.filter((x) => x > self).sort();
    const below = rest.filter((x) => x < self).sort();
    expect(sorted).toEqual([...above, ...below]);
    for (const a of rest) expect(ringBefore(self, a, a)).toBe(false);
  });
});

describe('dialBackoff / dialAttemptTimeout', () => {
  it('backs off exponentially with jitter, capped at 30 s', () => {
    for (const rounds of [1, 2, 3, 4, 10, 20]) {
      const lo = dialBackoff(rounds, 300, () => 0);
      const hi = dialBackoff(rounds, 300, () => 1);
      const nominal = 300 * 2 ** (rounds - 1);
      expect(lo).toBeCloseTo(Math.min(30_000, nominal * 0.75), 6);
      expect(hi).toBeCloseTo(Math.min(30_000, nominal * 1.25), 6);
    }
    expect(dialBackoff(2, 300, () => 0.5)).toBeCloseTo(600, 6);
  });

  it('gives retries 1.5x the timeout of the first attempt, and no more', () => {
    expect([0, 1, 2, 3, 4, 9].map((r) => dialAttemptTimeout(r, 6000))).toEqual([6000, 9000, 9000, 9000, 9000, 9000]);
  });
});

/**
 * Lockstep simulation: every turn each node with queued targets makes one attempt to the
 * target its scheduler picks. `fails(target, turn)` says whether an attempt fails. Returns the
 * most dialers that hit one target in the same turn, and the turn at which each link formed.
 */
function simulate(ids: string[], fails: (target: string, turn: number) => boolean, pick: (self: string, queued: string[], f: Map<string, DialFailure>, now: number) => string | undefined, turns = 200) {
  const queues = new Map(ids.map((id) => [id, ids.filter((o) => id < o)]));
  const failures = new Map(ids.map((id) => [id, new Map<string, DialFailure>()]));
  const linkedAt = new Map<string, number>();
  let maxHerd = 0;
  for (let turn = 0; turn < turns; turn++) {
    const hits = new Map<string, number>();
    const picks: [string, string][] = [];
    for (const id of ids) {
      const q = queues.get(id)!;
      if (!q.length) continue;
      const t = pick(id, q, failures.get(id)!, turn * 1000);
      if (t === undefined) continue;
      picks.push([id, t]);
      hits.set(t, (hits.get(t) ?? 0) + 1);
    }
    for (const n of hits.values()) maxHerd = Math.max(maxHerd, n);
    for (const [id, t] of picks) {
      const f = failures.get(id)!;
      if (fails(t, turn)) {
        const rounds = (f.get(t)?.rounds ?? 0) + 1;
        f.set(t, { rounds, notBefore: turn * 1000 + dialBackoff(rounds, 300, () => 0.5), firstAt: 0, errors: [] });
      } else {
        f.delete(t);
        queues.get(id)!.splice(queues.get(id)!.indexOf(t), 1);
        linkedAt.set(`${id}>${t}`, turn);
      }
    }
  }
  return { maxHerd, linkedAt, pending: [...queues.values()].reduce((a, q) => a + q.length, 0) };
}

/** The old rule: the largest queued id first, failures or not. */
const largestFirst = (_self: string, queued: string[]) => [...queued].sort().pop();

describe('dial schedule simulation (8 and 16 peers)', () => {
  it('no target is dialled by two peers in one turn (the old rule: all N-1 at once)', () => {
    for (const n of [8, 16]) {
      const ids = randomIds(n, 100 + n);
      const ours = simulate(ids, () => false, nextDialTarget);
      const old = simulate(ids, () => false, largestFirst);
      expect(ours.pending).toBe(0);
      expect(ours.linkedAt.size).toBe((n * (n - 1)) / 2);
      expect(old.maxHerd).toBe(n - 1);
      expect(ours.maxHerd).toBe(1);
      // and the full mesh takes no more turns than the busiest dialer has targets
      expect(Math.max(...ours.linkedAt.values()) + 1).toBeLessThanOrEqual(n - 1);
    }
  });

  it('a target that never answers does not starve the others', () => {
    const ids = randomIds(8, 7);
    const dead = [...ids].sort().at(-1)!; // the largest id: every other peer dials it
    const ours = simulate(ids, (t) => t === dead, nextDialTarget, 60);
    const old = simulate(ids, (t) => t === dead, largestFirst, 60);
    const live = ids.filter((x) => x !== dead);
    const livePairs = (live.length * (live.length - 1)) / 2;
    // ours: every link among the live peers forms, within a few turns of the no-failure schedule
    const liveLinks = [...ours.linkedAt.keys()].filter((k) => !k.includes(dead));
    expect(liveLinks.length).toBe(livePairs);
    expect(Math.max(...[...ours.linkedAt.values()])).toBeLessThanOrEqual(live.length + 2);
    // the old rule, in this model where a failing target stays queued, never got past it (in
    // SwarmNode the next heartbeat re-queued it, so every other link waited a whole 4-attempt
    // round of ~20 s behind it)
    expect(old.linkedAt.size).toBe(0);
  });

  it('a target that fails for a while is retried with back-off and then linked', () => {
    const ids = randomIds(8, 9);
    const flaky = [...ids].sort()[4]!;
    const r = simulate(ids, (t, turn) => t === flaky && turn < 5, nextDialTarget, 100);
    expect(r.pending).toBe(0);
    expect(r.linkedAt.size).toBe(28);
  });
});

describe('dialHoldMs', () => {
  it('holds until the known members stopped growing for settleMs, never past maxMs after the start', () => {
    // started at 100, last growth at 100: hold until 100 + 1200
    expect(dialHoldMs(100, 100, 100, 1200, 4000)).toBe(1200);
    expect(dialHoldMs(700, 100, 100, 1200, 4000)).toBe(600);
    expect(dialHoldMs(1300, 100, 100, 1200, 4000)).toBe(0);
    // growth at 1000 moves the end to 2200
    expect(dialHoldMs(1300, 100, 1000, 1200, 4000)).toBe(900);
    // growth late in the window: the hold ends at start + maxMs
    expect(dialHoldMs(3500, 100, 3400, 1200, 4000)).toBe(600);
    // past start + maxMs nothing is held, whatever grew
    expect(dialHoldMs(4100, 100, 4050, 1200, 4000)).toBe(0);
    expect(dialHoldMs(9000, 100, 8999, 1200, 4000)).toBe(0);
    // settleMs 0 turns the hold off
    expect(dialHoldMs(100, 100, 100, 0, 4000)).toBe(0);
  });
});

/**
 * Joins over turns: node i joins at turn joinAt[i] and at turn t knows the members that joined
 * before t (one turn behind: the relay's roster). Every turn each node that is not holding makes
 * one attempt (none fail) to the target nextDialTarget picks among the members it knows.
 * `hold` (in turns) applies dialHoldMs from the node's join and the turn its knowledge last grew.
 */
function simulateJoins(ids: string[], joinAt: number[], hold?: { settle: number; max: number }) {
  const linked = new Set<string>();
  let maxHerd = 0;
  for (let turn = 0; turn < 100; turn++) {
    const hits = new Map<string, number>();
    const picks: [string, string][] = [];
    for (const [i, id] of ids.entries()) {
      if (joinAt[i]! > turn) continue;
      const known = ids.filter((o, k) => o !== id && joinAt[k]! < turn);
      if (hold) {
        const grewAt = Math.max(joinAt[i]!, ...ids.map((o, k) => (o !== id && joinAt[k]! < turn ? joinAt[k]! + 1 : 0)));
        if (dialHoldMs(turn, joinAt[i]!, grewAt, hold.settle, hold.max) > 0) continue;
      }
      const queued = known.filter((o) => id < o && !linked.has(`${id}>${o}`));
      if (!queued.length) continue;
      const t = nextDialTarget(id, queued, new Map(), turn)!;
      picks.push([id, t]);
      hits.set(t, (hits.get(t) ?? 0) + 1);
    }
    for (const n of hits.values()) maxHerd = Math.max(maxHerd, n);
    for (const [a, b] of picks) linked.add(`${a}>${b}`);
  }
  return { maxHerd, links: linked.size };
}

describe('dial schedule simulation, nodes joining over several turns', () => {
  it('without a hold newcomers dial the first members together; holding until the roster settles leaves one dialer per target', () => {
    const join = [0, 0, 0, 0, 1, 1, 2, 2]; // like the 8-page mesh: 4 start, then the rest
    let herds = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const ids = randomIds(8, seed);
      const free = simulateJoins(ids, join);
      const held = simulateJoins(ids, join, { settle: 2, max: 6 });
      expect(free.links).toBe(28);
      expect(held.links).toBe(28);
      expect(held.maxHerd).toBe(1);
      if (free.maxHerd > 1) herds++;
    }
    expect(herds).toBeGreaterThanOrEqual(5);
  });
});
