/**
 * The search: DT-FM's decomposition, extended with compute and memory.
 *
 * A genome assigns every peer to one of P stage groups of exactly D peers (the peers that
 * hold the same layers and all-reduce their gradients: a data-parallel group) or to the spare
 * set. Decoding a genome:
 *   1. pipeline edge cost between two groups = bottleneck perfect matching of their peers;
 *   2. pipeline order = open-loop TSP over the groups on those costs;
 *   3. replicas = chains through the matchings along that order;
 *   4. (ours) layer ranges by dynamic programming, balanced for each group's slowest peer and
 *      within its smallest memory; (DT-FM) uniform ranges;
 *   5. score: (ours) the full cost model, plus a large penalty per memory violation;
 *      (DT-FM) DP_cost + 2·PP_cost over the network only, as in their solver.
 * A steady-state genetic algorithm (crossover of group labels, repair to balanced sizes)
 * with swap local search on every offspring (GCMA-like) explores genomes.
 * Not the cost model (costmodel.ts) and not the baselines' definitions (baselines.ts).
 */
import { mulberry32 } from '../util/random.ts';
import { MAX_GENERATIONS, MEMORY_PENALTY_SECONDS, MIN_GENERATIONS, SEARCH_WORK_UNITS } from './constants.ts';
import { balancedRanges, evaluateLayout, type Evaluation, type Layout, uniformRanges } from './costmodel.ts';
import { bottleneckMatching } from './matching.ts';
import type { Instance } from './problem.ts';
import { openLoopTsp, type TspPath } from './tsp.ts';

export type Objective = 'full' | 'network';

export interface Decoded {
  score: number;
  layout: Layout;
  evaluation?: Evaluation;
  /** Layers peers must fetch relative to a previous plan (re-planning only). */
  layersMoved?: number;
}

/** Re-planning: where each peer's layers were, and what moving a layer costs. */
export interface MoveCost {
  /** Per peer index: previous [start, end) or [-1, -1] for a peer that held nothing. */
  previous: Int32Array;
  secondsPerLayer: number;
  /** Previous layer ranges per stage, tried besides the re-balanced ones. */
  previousRanges: Array<[number, number]>;
}

/** Layers in [a, b) that peer p did not hold before. */
function movedFor(prev: Int32Array, p: number, a: number, b: number): number {
  const pa = prev[2 * p]!;
  const pb = prev[2 * p + 1]!;
  if (pa < 0) return b - a;
  const overlap = Math.max(0, Math.min(b, pb) - Math.max(a, pa));
  return b - a - overlap;
}

export function layersMoved(prev: Int32Array, layout: Layout): number {
  let moved = 0;
  layout.assignment.forEach((row, s) => {
    const [a, b] = layout.ranges[s]!;
    for (const p of row) moved += movedFor(prev, p, a, b);
  });
  return moved;
}

/** Decodes genomes, caching pairwise matchings of unchanged groups between calls. */
export class Decoder {
  readonly inst: Instance;
  readonly objective: Objective;
  private readonly edge: Float64Array;
  private readonly pairCost: Float64Array;
  private readonly pairMatch: (Int32Array | null)[];
  private members: Int32Array[] = [];
  private readonly dirty: Uint8Array;
  evaluations = 0;
  /** Caches: the TSP path of the last pair-cost matrix, the layer split of the last stage speeds. */
  private lastPath: TspPath | undefined;
  private readonly lastPairCost: Float64Array;
  private lastRangesKey = '';
  private lastRanges: Array<[number, number]> | null = null;

  /** Re-planning: group g is stage g (no TSP re-ordering), and moved layers are charged. */
  private readonly fixedOrder: boolean;
  private readonly move: MoveCost | undefined;

  constructor(inst: Instance, objective: Objective, move?: MoveCost) {
    this.inst = inst;
    this.objective = objective;
    this.move = move;
    this.fixedOrder = move !== undefined;
    const { P } = inst;
    this.pairCost = new Float64Array(P * P);
    this.lastPairCost = new Float64Array(P * P);
    this.pairMatch = new Array(P * P).fill(null);
    this.dirty = new Uint8Array(P).fill(1);
    if (objective === 'full') this.edge = inst.edge;
    else {
      // DT-FM's pipeline edge: the whole per-replica batch's activations over the link.
      const { n } = inst;
      const bytes = inst.m * inst.microbatchSize * meanBoundaryActivation(inst) * inst.activationRatio;
      this.edge = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++) {
          const w = Math.max(inst.lat[i * n + j]! + bytes * inst.secPerByte[i * n + j]!, inst.lat[j * n + i]! + bytes * inst.secPerByte[j * n + i]!);
          this.edge[i * n + j] = w;
          this.edge[j * n + i] = w;
        }
    }
  }

  /** Members of each group from a genome; marks groups whose members changed. */
  private load(genome: Int32Array): void {
    const { P, D, n } = this.inst;
    const next: Int32Array[] = [];
    const fill = new Int32Array(P);
    for (let g = 0; g < P; g++) next.push(new Int32Array(D));
    for (let i = 0; i < n; i++) {
      const g = genome[i]!;
      if (g < P) next[g]![fill[g]!++] = i;
    }
    for (let g = 0; g < P; g++) {
      const old = this.members[g];
      if (!old || old.some((x, k) => x !== next[g]![k])) this.dirty[g] = 1;
    }
    this.members = next;
  }

  private refreshPairs(): void {
    const { P, n } = this.inst;
    for (let g = 0; g < P; g++)
      for (let h = g + 1; h < P; h++) {
        if (!this.dirty[g] && !this.dirty[h]) continue;
        const bm = bottleneckMatching(this.edge, n, this.members[g]!, this.members[h]!);
        this.pairCost[g * P + h] = bm.cost;
        this.pairCost[h * P + g] = bm.cost;
        this.pairMatch[g * P + h] = bm.match;
        const inv = new Int32Array(bm.match.length);
        bm.match.forEach((j, i) => {
          inv[j] = i;
        });
        this.pairMatch[h * P + g] = inv;
      }
    this.dirty.fill(0);
  }

  decode(genome: Int32Array, withEvaluation = false): Decoded {
    this.evaluations++;
    const inst = this.inst;
    const { P, D } = inst;
    this.load(genome);
    this.refreshPairs();
    let path: TspPath;
    if (this.fixedOrder) path = { cost: 0, order: Array.from({ length: P }, (_, s) => s) };
    else if (this.lastPath && this.lastPairCost.every((x, k) => x === this.pairCost[k])) path = this.lastPath;
    else {
      path = openLoopTsp(this.pairCost, P);
      this.lastPath = path;
      this.lastPairCost.set(this.pairCost);
    }
    const order = path.order;
    // Chains: replica r starts at member r of the first group.
    const assignment: number[][] = [];
    let idx = Array.from({ length: D }, (_, r) => r);
    assignment.push(idx.map((k) => this.members[order[0]!]![k]!));
    for (let s = 1; s < P; s++) {
      const match = this.pairMatch[order[s - 1]! * P + order[s]!]!;
      idx = idx.map((k) => match[k]!);
      assignment.push(idx.map((k) => this.members[order[s]!]![k]!));
    }
    if (this.objective === 'network') {
      const ranges = uniformRanges(inst.L, P);
      const layout = { ranges, assignment };
      return { score: networkScore(inst, this.members, path.cost), layout, evaluation: withEvaluation ? evaluateLayout(inst, layout) : undefined };
    }
    const speed = new Float64Array(P);
    const cap = new Float64Array(P);
    for (let s = 0; s < P; s++) {
      let v = Number.POSITIVE_INFINITY;
      let c = Number.POSITIVE_INFINITY;
      for (const p of assignment[s]!) {
        v = Math.min(v, inst.speed[p]!);
        c = Math.min(c, inst.memory[p]!);
      }
      speed[s] = v;
      cap[s] = c;
    }
    const key = `${speed.join(',')}|${cap.join(',')}`;
    if (key !== this.lastRangesKey) {
      this.lastRangesKey = key;
      this.lastRanges = balancedRanges(inst, speed, cap);
    }
    // The balanced split, DT-FM's uniform split (better when a balanced split would load a
    // group with a slow all-reduce), and when re-planning the previous split.
    const candidates = [this.lastRanges ?? uniformRanges(inst.L, P), uniformRanges(inst.L, P)];
    if (this.move) candidates.push(this.move.previousRanges);
    let best: Decoded | undefined;
    for (const ranges of candidates) {
      const layout = { ranges, assignment };
      const evaluation = evaluateLayout(inst, layout);
      let score = evaluation.total + MEMORY_PENALTY_SECONDS * evaluation.memoryViolations;
      let moved: number | undefined;
      if (this.move) {
        moved = layersMoved(this.move.previous, layout);
        score += this.move.secondsPerLayer * moved;
      }
      if (!best || score < best.score) best = { score, layout, evaluation, layersMoved: moved };
    }
    return best!;
  }
}

function meanBoundaryActivation(inst: Instance): number {
  if (inst.L === 1) return inst.actOut[0]!;
  let s = 0;
  for (let l = 0; l < inst.L - 1; l++) s += inst.actOut[l]!;
  return s / (inst.L - 1);
}

/**
 * DT-FM's network-only objective: DP_cost + 2·PP_cost. DP_cost: for every peer of a group,
 * Σ_j 2(latency + gradient/(D·bandwidth)), worst peer of the worst group, with the gradient
 * of a uniform stage. PP_cost: the TSP path length over bottleneck-matching edge costs.
 */
export function networkScore(inst: Instance, members: ArrayLike<ArrayLike<number>>, ppCost: number): number {
  const { n, P, D } = inst;
  const grad = ((inst.cumParams[inst.L]! / P) * inst.gradientRatio) / D;
  let dp = 0;
  for (let g = 0; g < P; g++) {
    const mem = members[g]!;
    for (let i = 0; i < D; i++) {
      let c = 0;
      for (let j = 0; j < D; j++) {
        if (i === j) continue;
        const k = mem[i]! * n + mem[j]!;
        c += 2 * (inst.lat[k]! + grad * inst.secPerByte[k]!);
      }
      dp = Math.max(dp, c);
    }
  }
  return dp + 2 * ppCost;
}

// ---------------------------------------------------------------------------------------
// Genomes.

/** Genome from an ordering of peers: first D go to group 0, next D to group 1, ..., rest spare. */
export function genomeFromOrder(inst: Instance, order: ArrayLike<number>): Int32Array {
  const g = new Int32Array(inst.n);
  for (let k = 0; k < inst.n; k++) g[order[k]!] = Math.min(Math.floor(k / inst.D), inst.P);
  return g;
}

export function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Fastest (then largest-memory) peers first: groups of similar speed. */
export function speedSortedGenome(inst: Instance): Int32Array {
  const order = Array.from({ length: inst.n }, (_, i) => i).sort((a, b) => inst.speed[b]! - inst.speed[a]! || inst.memory[b]! - inst.memory[a]! || a - b);
  return genomeFromOrder(inst, order);
}

/**
 * Network clusters: each group grows from the lowest-numbered free peer by adding the free
 * peer with the cheapest gradient links to the group so far. Groups that all-reduce inside a
 * data centre or a city.
 */
export function clusteredGenome(inst: Instance, bySpeed: boolean): Int32Array {
  const { n, D, P } = inst;
  const free = new Uint8Array(n).fill(1);
  const order: number[] = [];
  const seeds = Array.from({ length: n }, (_, i) => i);
  if (bySpeed) seeds.sort((a, b) => inst.speed[b]! - inst.speed[a]! || a - b);
  const link = (a: number, b: number) => inst.secPerByte[a * n + b]! + inst.secPerByte[b * n + a]!;
  for (let g = 0; g < P; g++) {
    const first = seeds.find((i) => free[i])!;
    const group = [first];
    free[first] = 0;
    const dist = new Float64Array(n);
    for (let i = 0; i < n; i++) dist[i] = link(first, i);
    while (group.length < D) {
      let best = -1;
      for (let i = 0; i < n; i++) {
        if (!free[i]) continue;
        if (best === -1) best = i;
        else {
          const d = dist[i]! - dist[best]!;
          const tie = Math.abs(d) <= 1e-12 * dist[best]!;
          if (d < 0 && !tie) best = i;
          else if (tie && bySpeed && Math.abs(inst.speed[i]! - inst.speed[first]!) < Math.abs(inst.speed[best]! - inst.speed[first]!)) best = i;
        }
      }
      group.push(best);
      free[best] = 0;
      for (let i = 0; i < n; i++) dist[i] = Math.max(dist[i]!, link(best, i));
    }
    order.push(...group);
  }
  for (let i = 0; i < n; i++) if (free[i]) order.push(i);
  return genomeFromOrder(inst, order);
}

/**
 * Carry a genome over to another replica count: keep each group's fastest members (up to the
 * new D), the rest become spares, and under-full groups take the fastest spares.
 */
export function reshapeGenome(inst: Instance, genome: Int32Array): Int32Array {
  const { n, P, D } = inst;
  const out = new Int32Array(n).fill(P);
  const size = new Int32Array(P);
  const bySpeed = Array.from({ length: n }, (_, i) => i).sort((a, b) => inst.speed[b]! - inst.speed[a]! || a - b);
  for (const i of bySpeed) {
    const g = genome[i]!;
    if (g < P && size[g]! < D) {
      out[i] = g;
      size[g]!++;
    }
  }
  for (const i of bySpeed) {
    if (out[i] !== P) continue;
    let g = 0;
    while (g < P && size[g]! >= D) g++;
    if (g === P) break;
    out[i] = g;
    size[g]!++;
  }
  return out;
}

/** Crossover: parent B with k random positions taken from parent A, repaired to exact group sizes. */
function crossover(inst: Instance, a: Int32Array, b: Int32Array, rand: () => number): Int32Array {
  const { n, P, D } = inst;
  const child = Int32Array.from(b);
  const k = Math.max(5, Math.floor(n / 8));
  for (let t = 0; t < k; t++) {
    const i = Math.floor(rand() * n);
    child[i] = a[i]!;
  }
  repair(child, n, P, D, rand);
  return child;
}

function repair(g: Int32Array, n: number, P: number, D: number, rand: () => number): void {
  const capacity = (x: number) => (x < P ? D : n - P * D);
  const size = new Int32Array(P + 1);
  for (let i = 0; i < n; i++) size[g[i]!]!++;
  const order = shuffled(n, rand);
  for (const i of order) {
    const x = g[i]!;
    if (size[x]! <= capacity(x)) continue;
    let y = 0;
    while (size[y]! >= capacity(y)) y++;
    size[x]!--;
    size[y]!++;
    g[i] = y;
  }
}

export interface SearchInit {
  seed: number;
  population?: number;
  generations?: number;
  localSearchTrials?: number;
  /** Genomes to start from, besides the built-in seeds and random ones. */
  seeds?: Int32Array[];
  /** How many distinct best genomes to return (default 1). */
  finalists?: number;
  /** Scale of the default effort (default 1). */
  effortScale?: number;
}

export interface SearchResult {
  best: Decoded;
  genome: Int32Array;
  /** The best distinct members of the final population, best first (up to `finalists`). */
  finalists: Decoded[];
  finalistGenomes: Int32Array[];
  evaluations: number;
}

/** Default effort for an instance: evaluations scale as 1/(cost of one evaluation). */
export function defaultEffort(inst: Instance, scale = 1): { population: number; generations: number; localSearchTrials: number } {
  const { P, D } = inst;
  const perEval = (P * P * D * D) / 2 + P * D * P + 2000;
  const evals = (scale * SEARCH_WORK_UNITS) / perEval;
  const population = Math.max(4, Math.min(24, Math.round(evals / 400)));
  const localSearchTrials = Math.max(4, Math.min(60, Math.round(Math.sqrt(evals) / 2)));
  const generations = Math.max(MIN_GENERATIONS, Math.min(MAX_GENERATIONS, Math.round((evals - population) / (localSearchTrials + 1))));
  return { population, generations, localSearchTrials };
}

/** Swap local search: random swaps between two groups (or a group and the spares), kept when they lower the score. */
function localSearch(dec: Decoder, genome: Int32Array, current: Decoded, trials: number, rand: () => number): Decoded {
  const { n } = dec.inst;
  for (let t = 0; t < trials; t++) {
    const i = Math.floor(rand() * n);
    let j = Math.floor(rand() * n);
    let guard = 0;
    while (genome[j] === genome[i] && guard++ < 8) j = Math.floor(rand() * n);
    if (genome[j] === genome[i]) continue;
    const gi = genome[i]!;
    genome[i] = genome[j]!;
    genome[j] = gi;
    const cand = dec.decode(genome);
    if (cand.score < current.score - 1e-12) current = cand;
    else {
      genome[j] = genome[i]!;
      genome[i] = gi;
    }
  }
  return current;
}

/** GA + local search over genomes under the decoder's objective. Deterministic under init.seed. */
export function geneticSearch(dec: Decoder, init: SearchInit): SearchResult {
  const inst = dec.inst;
  const rand = mulberry32(init.seed);
  const effort = defaultEffort(inst, init.effortScale);
  const population = init.population ?? effort.population;
  const generations = init.generations ?? effort.generations;
  const trials = init.localSearchTrials ?? effort.localSearchTrials;
  const pool: Int32Array[] = (init.seeds ?? []).map((g) => Int32Array.from(g));
  pool.push(clusteredGenome(inst, false));
  if (dec.objective === 'full') pool.push(speedSortedGenome(inst), clusteredGenome(inst, true));
  while (pool.length < population) pool.push(genomeFromOrder(inst, shuffled(inst.n, rand)));
  const genomes: Int32Array[] = pool.map((g) => Int32Array.from(g));
  const scores = genomes.map((g) => dec.decode(g));
  // Polish the seeds first: they are usually the best starting points.
  for (let k = 0; k < genomes.length; k++) scores[k] = localSearch(dec, genomes[k]!, scores[k]!, trials, rand);
  for (let gen = 0; gen < generations; gen++) {
    const a = Math.floor(rand() * genomes.length);
    let b = Math.floor(rand() * genomes.length);
    if (b === a) b = (a + 1) % genomes.length;
    const child = genomes.length > 1 ? crossover(inst, genomes[a]!, genomes[b]!, rand) : Int32Array.from(genomes[0]!);
    let res = dec.decode(child);
    res = localSearch(dec, child, res, trials, rand);
    let worst = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k]!.score > scores[worst]!.score) worst = k;
    if (res.score < scores[worst]!.score) {
      genomes[worst] = child;
      scores[worst] = res;
    }
  }
  const ranked = scores.map((_, k) => k).sort((x, y) => scores[x]!.score - scores[y]!.score);
  const keep: number[] = [];
  for (const k of ranked) {
    if (keep.length >= (init.finalists ?? 1)) break;
    if (keep.some((j) => Math.abs(scores[j]!.score - scores[k]!.score) <= 1e-9 * scores[k]!.score)) continue;
    keep.push(k);
  }
  const finalists = keep.map((k) => dec.decode(genomes[k]!, true));
  return { best: finalists[0]!, genome: genomes[keep[0]!]!, finalists, finalistGenomes: keep.map((k) => genomes[k]!), evaluations: dec.evaluations };
}
