/**
 * The search: DT-FM's decomposition, extended with compute and memory.
 *
 * A genome assigns every peer to one of P stage groups of exactly D peers (the peers that
 * hold the same layers and all-reduce their gradients: a data-parallel group) or to the spare
 * set. Decoding a genome:
 *   1. pipeline edge cost between two groups = bottleneck perfect matching of their peers;
 *   2. pipeline order = open-loop TSP over the groups on those costs;
 *   3. replicas = chains through the matchings along that order;
 *   4. (ours) the TSP order and its reverse (every order up to EXACT_ORDER_MAX_STAGES), each
 *      with layer ranges by dynamic programming (balanced for each group's slowest peer and
 *      within its smallest memory) and the uniform split; (DT-FM) uniform ranges;
 *   5. score: (ours) the full cost model, plus a large penalty per memory violation;
 *      (DT-FM) DP_cost + 2·PP_cost over the network only, as in their solver.
 * A steady-state genetic algorithm (crossover of group labels, repair to balanced sizes)
 * with swap local search on every offspring (GCMA-like) explores genomes; an archive keeps
 * the best distinct plans seen, which polishPlan then improves move by move (replica swaps,
 * stage exchanges, one layer moved between any two stages; with `uneven`, every move is also
 * scored with the batch split by replica speed).
 * Not the cost model (costmodel.ts) and not the planners' entry points (plan.ts).
 */
import { mulberry32 } from '../util/random.ts';
import { ALLREDUCE_CAP_MULTIPLES, EXACT_ORDER_MAX_STAGES, MAX_EVALUATIONS_PER_PEER, MAX_GENERATIONS, POLISH_EXACT_SPLITS, POLISH_IN_DECODE_MAX_PEERS, MEMORY_PENALTY_SECONDS, MIN_GENERATIONS, SEARCH_WORK_UNITS } from './constants.ts';
import { allreduceTime, balancedRanges, balanceMicrobatches, evaluateLayout, type Evaluation, type Layout, uniformRanges } from './costmodel.ts';
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
  /** The best distinct results seen so far (by score), best first: the search's finalists. */
  readonly archive: Decoded[] = [];
  archiveSize = 1;
  /** Caches: the TSP path of the last pair-cost matrix, layer splits by stage speeds and memories. */
  private lastPath: TspPath | undefined;
  private readonly lastPairCost: Float64Array;
  private readonly splitCache = new Map<string, Array<Array<[number, number]>>>();

  /** Re-planning: group g is stage g (no TSP re-ordering), and moved layers are charged. */
  private readonly fixedOrder: boolean;
  private readonly move: MoveCost | undefined;

  /** Also score every layout with the batch split by replica speed (balanceMicrobatches). */
  private readonly uneven: boolean;

  constructor(inst: Instance, objective: Objective, move?: MoveCost, uneven = false) {
    this.inst = inst;
    this.uneven = uneven && objective === 'full';
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

  /** Replica chains through the groups in `order`: replica r starts at member r of the first group. */
  private chains(order: number[]): number[][] {
    const { P, D } = this.inst;
    const assignment: number[][] = [];
    let idx = Array.from({ length: D }, (_, r) => r);
    assignment.push(idx.map((k) => this.members[order[0]!]![k]!));
    for (let s = 1; s < P; s++) {
      const match = this.pairMatch[order[s - 1]! * P + order[s]!]!;
      idx = idx.map((k) => match[k]!);
      assignment.push(idx.map((k) => this.members[order[s]!]![k]!));
    }
    return assignment;
  }

  /**
   * Compute-balanced layer splits for stage groups in pipeline order (cached by the groups'
   * speeds, memories and all-reduce rates): unconstrained, and with every group's all-reduce
   * capped at multiples of the slowest all-reduce of the uniform split.
   */
  private splits(assignment: number[][]): Array<Array<[number, number]>> {
    const inst = this.inst;
    const { P } = inst;
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
    // All-reduce seconds per parameter byte of each group (measured on a one-layer stage),
    // needed only when splits with capped all-reduce are tried.
    const arRate = new Float64Array(P);
    const oneLayer = inst.cumParams[1]! - inst.cumParams[0]!;
    if (ALLREDUCE_CAP_MULTIPLES.some(Number.isFinite))
      for (let s = 0; s < P; s++) arRate[s] = oneLayer > 0 ? allreduceTime(inst, [0, 1], assignment[s]!) / oneLayer : 0;
    const key = `${speed.join(',')}|${cap.join(',')}|${arRate.join(',')}`;
    const hit = this.splitCache.get(key);
    if (hit) return hit;
    const out: Array<Array<[number, number]>> = [];
    const uniform = uniformRanges(inst.L, P);
    let arUniform = 0;
    for (let s = 0; s < P; s++) arUniform = Math.max(arUniform, arRate[s]! * (inst.cumParams[uniform[s]![1]]! - inst.cumParams[uniform[s]![0]]!));
    for (const mult of ALLREDUCE_CAP_MULTIPLES) {
      const paramCap = Number.isFinite(mult) && arUniform > 0 ? Array.from(arRate, (r) => (r > 0 ? (mult * arUniform) / r : Number.POSITIVE_INFINITY)) : undefined;
      const r = balancedRanges(inst, speed, cap, paramCap);
      if (r && !out.some((x) => x.every(([a, b], s) => a === r[s]![0] && b === r[s]![1]))) out.push(r);
    }
    if (this.splitCache.size >= 256) this.splitCache.clear();
    this.splitCache.set(key, out);
    return out;
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
    if (this.objective === 'network') {
      const layout = { ranges: uniformRanges(inst.L, P), assignment: this.chains(path.order) };
      return { score: networkScore(inst, this.members, path.cost), layout, evaluation: withEvaluation ? evaluateLayout(inst, layout) : undefined };
    }
    // Ours: the TSP order and its reverse (stage position changes memory in flight, and links
    // may be asymmetric); every order when there are at most EXACT_ORDER_MAX_STAGES stages.
    const orders = this.fixedOrder ? [path.order] : P <= EXACT_ORDER_MAX_STAGES ? allOrders(P) : [path.order, [...path.order].reverse()];
    let best: Decoded | undefined;
    for (const order of orders) {
      const assignment = this.chains(order);
      const candidates = [...this.splits(assignment), uniformRanges(inst.L, P)];
      if (this.move) candidates.push(this.move.previousRanges);
      const layouts: Layout[] = [];
      for (const ranges of candidates) {
        layouts.push({ ranges, assignment });
        const micro = this.uneven ? balanceMicrobatches(inst, ranges, assignment) : null;
        if (micro) layouts.push({ ranges, assignment, micro });
      }
      for (const layout of layouts) {
        const evaluation = evaluateLayout(inst, layout);
        let score = evaluation.total + MEMORY_PENALTY_SECONDS * evaluation.memoryViolations;
        let moved: number | undefined;
        if (this.move) {
          moved = layersMoved(this.move.previous, layout);
          score += this.move.secondsPerLayer * moved;
        }
        if (!best || score < best.score) best = { score, layout, evaluation, layersMoved: moved };
      }
    }
    // Small instances: polish inside the fitness, so the GA ranks groupings by their polished plans.
    if (inst.n <= POLISH_IN_DECODE_MAX_PEERS && !this.move) best = polishPlan(inst, best!, 40 * (P * D * D + P * P));
    this.offer(best!);
    return best!;
  }

  private offer(d: Decoded): void {
    const a = this.archive;
    if (a.length >= this.archiveSize && d.score >= a[a.length - 1]!.score) return;
    if (a.some((x) => Math.abs(x.score - d.score) <= 1e-12 * Math.max(1, d.score))) return;
    let k = a.length;
    while (k > 0 && a[k - 1]!.score > d.score) k--;
    a.splice(k, 0, d);
    if (a.length > this.archiveSize) a.pop();
  }
}

/** Number of ways to cut L layers into P non-empty ranges: C(L-1, P-1). */
function countSplits(L: number, P: number): number {
  let c = 1;
  for (let k = 1; k <= P - 1; k++) c = (c * (L - P + k)) / k;
  return Math.round(c);
}

/** All ways to cut L layers into P non-empty consecutive ranges (small L only). */
function allSplits(L: number, P: number): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  const rec = (start: number, s: number, acc: Array<[number, number]>) => {
    if (s === P - 1) {
      out.push([...acc, [start, L]]);
      return;
    }
    for (let end = start + 1; end <= L - (P - 1 - s); end++) rec(end, s + 1, [...acc, [start, end]]);
  };
  rec(0, 0, []);
  return out;
}

/** Every permutation of 0..P-1 (small P only). */
function allOrders(P: number): number[][] {
  if (P === 1) return [[0]];
  const out: number[][] = [];
  for (const rest of allOrders(P - 1)) for (let k = 0; k <= rest.length; k++) out.push([...rest.slice(0, k), P - 1, ...rest.slice(k)]);
  return out;
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
  /** The best distinct plans seen during the search, best first (up to `finalists`). */
  finalists: Decoded[];
  evaluations: number;
}

/** Default effort for an instance: evaluations scale as 1/(cost of one evaluation). */
export function defaultEffort(inst: Instance, scale = 1): { population: number; generations: number; localSearchTrials: number } {
  const { P, D } = inst;
  const orders = P <= EXACT_ORDER_MAX_STAGES ? [1, 1, 2, 6][P]! : 2;
  const perEval = (P * P * D * D) / 2 + orders * (P * D * P + 2000);
  const evals = Math.min((scale * SEARCH_WORK_UNITS) / perEval, MAX_EVALUATIONS_PER_PEER * inst.n);
  const population = Math.max(inst.n <= 16 ? 8 : 4, Math.min(24, Math.round(evals / 400)));
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

/**
 * Final polish of a decoded plan under the full cost model, first-improvement passes until
 * nothing improves or `maxEvaluations` is spent:
 *  - replica chains beyond bottleneck matching: swap two replicas' peers at one stage (which
 *    changes the links on both sides of that stage), or two whole replicas (which changes the
 *    all-reduce ring orders);
 *  - pipeline order beyond the TSP: exchange the positions of two stage groups;
 *  - layer boundaries beyond the compute-balanced split: move one boundary by one layer
 *    (trading compute balance against activation and gradient traffic), or, when there are
 *    at most POLISH_EXACT_SPLITS possible splits, score every move with its best split.
 * Stage groups keep their members.
 */
export function polishPlan(inst: Instance, start: Decoded, maxEvaluations: number, uneven = false): Decoded {
  const { P } = inst;
  const assignment = start.layout.assignment.map((row) => [...row]);
  const ranges = start.layout.ranges.map(([a, b]) => [a, b] as [number, number]);
  const D = assignment[0]!.length;
  let best = start;
  let spent = 0;
  // Few possible splits (small models): every move is scored with its best split.
  const splits = countSplits(inst.L, P) <= POLISH_EXACT_SPLITS ? allSplits(inst.L, P) : null;
  const tryCurrent = (): boolean => {
    let won = false;
    for (const r of splits ?? [ranges]) {
      spent++;
      const layout: Layout = { ranges: r.map(([a, b]) => [a, b] as [number, number]), assignment: assignment.map((x) => [...x]) };
      // The batch split evenly, and (uneven) by replica speed.
      const variants: Layout[] = [layout];
      const micro = uneven ? balanceMicrobatches(inst, layout.ranges, layout.assignment) : null;
      if (micro) variants.push({ ...layout, micro });
      for (const v of variants) {
        const evaluation = evaluateLayout(inst, v);
        const score = evaluation.total + MEMORY_PENALTY_SECONDS * evaluation.memoryViolations;
        if (score < best.score * (1 - 1e-12)) {
          best = { score, layout: v, evaluation };
          won = true;
        }
      }
    }
    if (won && splits) best.layout.ranges.forEach(([a, b], s) => {
      ranges[s] = [a, b];
    });
    return won;
  };
  if (splits) tryCurrent();
  let improved = true;
  while (improved && spent < maxEvaluations) {
    improved = false;
    // Replica swaps (whole chains) change only the all-reduce ring orders.
    for (let r1 = 0; r1 < D && spent < maxEvaluations; r1++)
      for (let r2 = r1 + 1; r2 < D && spent < maxEvaluations; r2++) {
        const swapAll = () => {
          for (const row of assignment) [row[r1], row[r2]] = [row[r2]!, row[r1]!];
        };
        swapAll();
        if (tryCurrent()) improved = true;
        else swapAll();
      }
    for (let s = 0; s < P && spent < maxEvaluations; s++)
      for (let r1 = 0; r1 < D && spent < maxEvaluations; r1++)
        for (let r2 = r1 + 1; r2 < D && spent < maxEvaluations; r2++) {
          const row = assignment[s]!;
          [row[r1], row[r2]] = [row[r2]!, row[r1]!];
          if (tryCurrent()) improved = true;
          else [row[r1], row[r2]] = [row[r2]!, row[r1]!];
        }
    for (let s1 = 0; s1 < P && spent < maxEvaluations; s1++)
      for (let s2 = s1 + 1; s2 < P && spent < maxEvaluations; s2++) {
        [assignment[s1], assignment[s2]] = [assignment[s2]!, assignment[s1]!];
        if (tryCurrent()) improved = true;
        else [assignment[s1], assignment[s2]] = [assignment[s2]!, assignment[s1]!];
      }
    // Move one layer from stage `from` to stage `to` (every boundary in between shifts by one):
    // adjacent stages trade compute balance against traffic; distant ones move gradient bytes
    // away from the stages whose all-reduce ends last (the first stages finish their last
    // backward last), which single boundary moves cannot do without first making things worse.
    for (let from = 0; from < P && spent < maxEvaluations && !splits; from++)
      for (let to = 0; to < P && spent < maxEvaluations; to++) {
        if (to === from || ranges[from]![1] - ranges[from]![0] < 2) continue;
        const saved = ranges.map(([a, b]) => [a, b] as [number, number]);
        if (from < to) for (let s = from; s < to; s++) {
          ranges[s]![1]--;
          ranges[s + 1]![0]--;
        }
        else for (let s = to; s < from; s++) {
          ranges[s]![1]++;
          ranges[s + 1]![0]++;
        }
        if (tryCurrent()) improved = true;
        else saved.forEach(([a, b], s) => {
          ranges[s] = [a, b];
        });
      }
  }
  return best;
}

/** GA + local search over genomes under the decoder's objective. Deterministic under init.seed. */
export function geneticSearch(dec: Decoder, init: SearchInit): SearchResult {
  const inst = dec.inst;
  const rand = mulberry32(init.seed);
  const effort = defaultEffort(inst, init.effortScale);
  dec.archiveSize = Math.max(dec.archiveSize, init.finalists ?? 1);
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
  const fromPopulation = keep.map((k) => dec.decode(genomes[k]!, true));
  // Finalists: the best distinct plans seen during the whole search (the archive), which keeps
  // good plans that the population later lost.
  const finalists = dec.objective === 'full' && dec.archive.length ? dec.archive.slice(0, init.finalists ?? 1) : fromPopulation;
  return { best: fromPopulation[0]!, genome: genomes[keep[0]!]!, finalists, evaluations: dec.evaluations };
}
