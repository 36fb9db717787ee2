/** Topologies and Metropolis–Hastings weights: structure, symmetry, stochasticity, re-forming. */
import { describe, expect, it } from 'vitest';
import { buildTopology, Dpsgd, metropolisHastings, mixingMatrix, secondEigenvalue, TOPOLOGY_KINDS, TopologyError } from '../../src/gossip/index.ts';
import { makeSwarm } from './helpers.ts';

const members = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`).reverse();

function connected(topo: ReturnType<typeof buildTopology>): boolean {
  const seen = new Set([topo.members[0]]);
  const stack = [topo.members[0]];
  while (stack.length) for (const q of topo.neighbours.get(stack.pop()!)!) if (!seen.has(q)) seen.add(q) && stack.push(q);
  return seen.size === topo.members.length;
}

describe('topologies', () => {
  for (const kind of TOPOLOGY_KINDS) {
    for (const n of [1, 2, 3, 8, 13]) {
      it(`${kind} n=${n}: symmetric, no self loops, connected, MH rows sum to 1`, () => {
        const t = buildTopology(kind, members(n), { seed: 5 });
        expect(t.members).toEqual([...members(n)].sort());
        for (const [p, nb] of t.neighbours) {
          expect(nb).not.toContain(p);
          for (const q of nb) expect(t.neighbours.get(q)).toContain(p);
        }
        expect(connected(t)).toBe(true);
        const W = mixingMatrix(t);
        for (let i = 0; i < n; i++) {
          expect(W[i].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
          for (let j = 0; j < n; j++) {
            expect(W[i][j]).toBeGreaterThanOrEqual(0);
            expect(W[i][j]).toBeCloseTo(W[j][i], 15);
          }
        }
        if (n > 1) expect(secondEigenvalue(W)).toBeLessThan(1);
      });
    }
  }

  it('degrees: ring 2, exponential ⌈log2⌉ links each way, random-regular d, full n-1', () => {
    const n = 16;
    const deg = (k: Parameters<typeof buildTopology>[0], opts = {}) => [...new Set([...buildTopology(k, members(n), opts).neighbours.values()].map((v) => v.length))];
    expect(deg('ring')).toEqual([2]);
    expect(deg('exponential')).toEqual([7]); // ±1, ±2, ±4 and 8 (self-inverse)
    expect(deg('random-regular', { degree: 4, seed: 3 })).toEqual([4]);
    expect(deg('full')).toEqual([n - 1]);
  });

  it('MH weights follow the closed form 1/(1+max(d_i,d_j))', () => {
    const t = buildTopology('random-regular', members(10), { degree: 4, seed: 1 });
    const extra = buildTopology('ring', members(10));
    for (const topo of [t, extra]) {
      const w = metropolisHastings(topo, 'm3');
      for (const j of topo.neighbours.get('m3')!) expect(w.get(j)).toBeCloseTo(1 / (1 + Math.max(topo.neighbours.get('m3')!.length, topo.neighbours.get(j)!.length)), 15);
    }
  });

  it('everyone builds the same graph from the same members (order-independent)', () => {
    const a = buildTopology('random-regular', ['c', 'a', 'e', 'b', 'd', 'f', 'g'], { seed: 9 });
    const b = buildTopology('random-regular', ['g', 'f', 'e', 'd', 'c', 'b', 'a'], { seed: 9 });
    expect([...a.neighbours]).toEqual([...b.neighbours]);
  });

  it('bad requests are named errors', () => {
    expect(() => buildTopology('random-regular', members(8), { degree: 3 })).toThrow(TopologyError);
    expect(() => buildTopology('star' as 'ring', members(8))).toThrow(TopologyError);
    expect(() => metropolisHastings(buildTopology('ring', members(4)), 'nobody')).toThrow(TopologyError);
  });

  it('is re-formed when a peer leaves or joins', () => {
    const s = makeSwarm(6);
    const d = new Dpsgd({ transport: s.transports[0], topology: 'ring' });
    expect(d.neighbours()).toEqual(['p01', 'p05']);
    s.net.leave('p01');
    expect(d.neighbours()).toEqual(['p02', 'p05']);
    s.net.join('p06');
    expect(d.neighbours()).toEqual(['p02', 'p06']);
  });
});
