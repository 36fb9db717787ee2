/**
 * Gossip topologies over a membership list, and Metropolis–Hastings mixing weights.
 *
 * Every peer builds the graph from the same sorted member list and seed, so all peers agree on
 * it without coordination; when membership changes the graph is simply rebuilt ("re-formed").
 *  - ring: i ~ i±1.
 *  - exponential: i ~ i ± 2^k (k = 0, 1, ... while 2^k < n), undirected (Assran et al. 2019 use
 *    the directed one; the undirected version keeps MH weights symmetric).
 *  - random-regular: union of degree/2 random Hamiltonian cycles from a seeded shuffle, retried
 *    until simple (falls back to the last try's simple edges: near-regular).
 *  - full: everyone.
 * Metropolis–Hastings weights (Xiao & Boyd 2004): w_ij = 1 / (1 + max(d_i, d_j)) on edges,
 * w_ii = 1 - Σ_j w_ij; symmetric and doubly stochastic, so gossip preserves the average.
 */
import { mulberry32 } from '../util/random.ts';
import { TopologyError } from './errors.ts';
import type { PeerId } from './transport.ts';

export type TopologyKind = 'ring' | 'exponential' | 'random-regular' | 'full';
export const TOPOLOGY_KINDS: readonly TopologyKind[] = ['ring', 'exponential', 'random-regular', 'full'];

export interface TopologyOptions {
  /** random-regular: even degree >= 2 (default 4). */
  degree?: number;
  /** random-regular: seed of the shuffles (default 0). */
  seed?: number;
}

export interface Topology {
  kind: TopologyKind;
  /** Sorted member list. */
  members: PeerId[];
  /** Undirected adjacency (no self loops). */
  neighbours: Map<PeerId, PeerId[]>;
}

export function buildTopology(kind: TopologyKind, members: Iterable<PeerId>, opts: TopologyOptions = {}): Topology {
  const m = [...new Set(members)].sort();
  const n = m.length;
  const adj = new Map<PeerId, Set<PeerId>>(m.map((p) => [p, new Set<PeerId>()]));
  const link = (a: number, b: number) => {
    if (a === b) return;
    adj.get(m[a])!.add(m[b]);
    adj.get(m[b])!.add(m[a]);
  };
  switch (kind) {
    case 'ring':
      for (let i = 0; i < n; i++) link(i, (i + 1) % n);
      break;
    case 'exponential':
      for (let i = 0; i < n; i++) for (let h = 1; h < n; h *= 2) link(i, (i + h) % n);
      break;
    case 'full':
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) link(i, j);
      break;
    case 'random-regular': {
      const d = opts.degree ?? 4;
      if (!Number.isInteger(d) || d < 2 || d % 2 !== 0) throw new TopologyError(`random-regular degree must be an even integer >= 2, got ${d}`);
      if (n <= d + 1) {
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) link(i, j);
        break;
      }
      const rand = mulberry32((opts.seed ?? 0) ^ 0x9e3779b9);
      let best: Array<[number, number]> = [];
      for (let attempt = 0; attempt < 50; attempt++) {
        const edges = new Set<string>();
        const list: Array<[number, number]> = [];
        let simple = true;
        for (let c = 0; c < d / 2; c++) {
          const perm = Array.from({ length: n }, (_, i) => i);
          for (let i = n - 1; i > 0; i--) {
            const j = Math.floor(rand() * (i + 1));
            [perm[i], perm[j]] = [perm[j], perm[i]];
          }
          for (let i = 0; i < n; i++) {
            const a = perm[i];
            const b = perm[(i + 1) % n];
            const key = a < b ? `${a},${b}` : `${b},${a}`;
            if (edges.has(key)) simple = false;
            else {
              edges.add(key);
              list.push([a, b]);
            }
          }
        }
        best = list;
        if (simple) break;
      }
      for (const [a, b] of best) link(a, b);
      break;
    }
    default:
      throw new TopologyError(`unknown topology '${String(kind)}'; known: ${TOPOLOGY_KINDS.join(', ')}`);
  }
  const neighbours = new Map<PeerId, PeerId[]>();
  for (const p of m) neighbours.set(p, [...adj.get(p)!].sort());
  return { kind, members: m, neighbours };
}

/** MH weights of `self`: neighbour -> weight, plus `self` -> the remaining mass. */
export function metropolisHastings(topo: Topology, self: PeerId): Map<PeerId, number> {
  const nb = topo.neighbours.get(self);
  if (!nb) throw new TopologyError(`${self} is not a member of the topology`);
  const w = new Map<PeerId, number>();
  let sum = 0;
  for (const j of nb) {
    const wij = 1 / (1 + Math.max(nb.length, topo.neighbours.get(j)!.length));
    w.set(j, wij);
    sum += wij;
  }
  w.set(self, 1 - sum);
  return w;
}

/** The full mixing matrix W (rows/cols in `topo.members` order), for tests and analysis. */
export function mixingMatrix(topo: Topology): number[][] {
  const idx = new Map(topo.members.map((p, i) => [p, i]));
  return topo.members.map((p) => {
    const row = new Array<number>(topo.members.length).fill(0);
    for (const [q, w] of metropolisHastings(topo, p)) row[idx.get(q)!] = w;
    return row;
  });
}

/**
 * Second-largest eigenvalue modulus of a symmetric doubly stochastic W (power iteration on
 * W - 11ᵀ/n): the per-round contraction factor of the consensus distance.
 */
export function secondEigenvalue(W: number[][], iters = 500): number {
  const n = W.length;
  if (n <= 1) return 0;
  let v = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  let lambda = 0;
  for (let it = 0; it < iters; it++) {
    const mean = v.reduce((s, x) => s + x, 0) / n;
    v = v.map((x) => x - mean);
    const u = W.map((row) => row.reduce((s, w, j) => s + w * v[j], 0));
    const nu = Math.sqrt(u.reduce((s, x) => s + x * x, 0));
    const nv = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (nu === 0 || nv === 0) return 0;
    lambda = nu / nv;
    v = u.map((x) => x / nu);
  }
  return lambda;
}
