/**
 * Planners: ours (compute-, memory- and network-aware search), the three baselines (random,
 * greedy, DT-FM as published with its network-only objective) and re-planning after peers
 * join or leave. All deterministic under a seed; pure functions (Web Worker and Node).
 */
import { mulberry32 } from '../util/random.ts';
import { DEFAULT_SEED, FINALISTS, POLISH_MAX_EVALUATIONS, POLISH_WORK_UNITS, REPLAN_AMORTIZE_ITERATIONS } from './constants.ts';
import { evaluateLayout, type Layout, uniformRanges } from './costmodel.ts';
import { type Instance, makeInstance } from './problem.ts';
import { type Decoded, Decoder, geneticSearch, layersMoved, type MoveCost, polishPlan, reshapeGenome, type SearchInit, shuffled, speedSortedGenome } from './search.ts';
import { simulateLayout } from './simulator.ts';
import type { Plan, ReplanOptions, ReplanResult, SchedulingProblem, SearchOptions } from './types.ts';

/** A Plan (public shape) from a layout. */
export function toPlan(inst: Instance, layout: Layout, method: string): Plan {
  const ev = evaluateLayout(inst, layout);
  const used = new Uint8Array(inst.n);
  for (const row of layout.assignment) for (const p of row) used[p] = 1;
  const spare: number[] = [];
  for (let i = 0; i < inst.n; i++) if (!used[i]) spare.push(i);
  return {
    method,
    stages: inst.P,
    replicas: layout.assignment[0]!.length,
    layerRanges: layout.ranges.map(([a, b]) => [a, b] as [number, number]),
    assignment: layout.assignment.map((row) => [...row]),
    assignmentIds: layout.assignment.map((row) => row.map((p) => inst.ids[p]!)),
    spare,
    schedule: inst.schedule,
    microbatchSize: inst.microbatchSize,
    microbatches: inst.m,
    predicted: { total: ev.total, compute: ev.compute, bubble: ev.bubble, pipelineComm: ev.pipelineComm, dataParallelComm: ev.dataParallelComm },
    memoryViolations: ev.memoryViolations,
  };
}

/** The layout of a plan (for evaluation and simulation). */
export function layoutOf(plan: Plan): Layout {
  return { ranges: plan.layerRanges, assignment: plan.assignment };
}

function searchInit(opts: SearchOptions | undefined): SearchInit {
  return { seed: opts?.seed ?? DEFAULT_SEED, population: opts?.population, generations: opts?.generations, localSearchTrials: opts?.localSearchTrials };
}

/**
 * Our planner. For each candidate replica count (the largest that fits, and one fewer when
 * that leaves a stage's worth of peers spare): a short DT-FM network-only search provides a
 * seed, then GA + local search on the full cost model (compute, memory, network). The best
 * few distinct plans of every shape get their replica chains and layer boundaries polished
 * under the full cost model; they and the DT-FM plan that seeded them are then run through the discrete-event simulator and the
 * fastest simulated one is returned (its `predicted` stays the cost model's estimate).
 */
export function planSchedule(problem: SchedulingProblem, opts?: SearchOptions): Plan {
  const base = makeInstance(problem);
  const init = searchInit(opts);
  const shapes = [base.D];
  if (problem.replicas === undefined && base.D > 2) shapes.push(base.D - 1);
  let best: { plan: Plan; simulated: number } | undefined;
  let netSeed: Int32Array | undefined;
  for (const D of shapes) {
    const inst = D === base.D ? base : makeInstance({ ...problem, replicas: D });
    const extra: Decoded[] = [];
    if (!netSeed) {
      const net = geneticSearch(new Decoder(inst, 'network'), init);
      netSeed = net.genome;
      extra.push(net.best);
    }
    const seed = D === base.D ? netSeed : reshapeGenome(inst, netSeed);
    const dec = new Decoder(inst, 'full');
    extra.push(dec.decode(seed.slice(), true));
    const res = geneticSearch(dec, { ...init, seeds: [seed], finalists: FINALISTS, effortScale: 1 / shapes.length });
    // Polish budget: bounded in evaluations and in work (one evaluation costs ~P·D² for the all-reduces).
    const polishBudget = Math.min(POLISH_MAX_EVALUATIONS, 2 * inst.P * inst.D * inst.D, Math.round(POLISH_WORK_UNITS / (inst.P * inst.D * (inst.D + inst.P))));
    const polished = res.finalists.map((c) => polishPlan(inst, c, polishBudget));
    for (const cand of [...polished, ...extra]) {
      if (cand.evaluation!.memoryViolations > 0 && best && best.plan.memoryViolations === 0) continue;
      const simulated = opts?.rerank === 'prediction' ? cand.evaluation!.total : simulateLayout(inst, cand.layout).iterationSeconds;
      const plan = toPlan(inst, cand.layout, 'ours');
      if (!best || plan.memoryViolations < best.plan.memoryViolations || (plan.memoryViolations === best.plan.memoryViolations && simulated < best.simulated)) best = { plan, simulated };
    }
  }
  return best!.plan;
}

/** Baseline: peers placed uniformly at random, layers split uniformly. */
export function randomPlan(problem: SchedulingProblem, seed = DEFAULT_SEED): Plan {
  const inst = makeInstance(problem);
  const perm = shuffled(inst.n, mulberry32(seed));
  const assignment: number[][] = [];
  for (let s = 0; s < inst.P; s++) assignment.push(Array.from({ length: inst.D }, (_, r) => perm[s * inst.D + r]!));
  return toPlan(inst, { ranges: uniformRanges(inst.L, inst.P), assignment }, 'random');
}

/**
 * Baseline: greedy on compute. The fastest D peers form one stage group, the next D the next
 * one, ...; order, replicas and layer ranges come from the same decoder as ours, with no search.
 */
export function greedyPlan(problem: SchedulingProblem): Plan {
  const inst = makeInstance(problem);
  return toPlan(inst, new Decoder(inst, 'full').decode(speedSortedGenome(inst)).layout, 'greedy');
}

/**
 * Baseline: DT-FM as published. GA + local search on the network-only objective
 * DP_cost + 2·PP_cost, bottleneck matching, open-loop TSP order, uniform layer ranges.
 */
export function dtfmPlan(problem: SchedulingProblem, opts?: SearchOptions): Plan {
  const inst = makeInstance(problem);
  const res = geneticSearch(new Decoder(inst, 'network'), searchInit(opts));
  return toPlan(inst, res.best.layout, 'dtfm');
}

/** Default seconds charged per moved layer: one layer over the median link, amortised. */
function defaultMoveCost(inst: Instance): number {
  const { n } = inst;
  const spb: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) spb.push(inst.secPerByte[i * n + j]!);
  spb.sort((a, b) => a - b);
  const median = spb.length ? spb[spb.length >> 1]! : 0;
  return ((inst.cumParams[inst.L]! / inst.L) * median) / REPLAN_AMORTIZE_ITERATIONS;
}

function movedPeers(prev: Int32Array, layout: Layout): number {
  let k = 0;
  layout.assignment.forEach((row, s) => {
    const [a, b] = layout.ranges[s]!;
    for (const p of row) if (prev[2 * p] !== a || prev[2 * p + 1] !== b) k++;
  });
  return k;
}

/**
 * Re-plan for a new peer set (some peers left, some joined), preferring plans that move few
 * layers. Two candidates: incremental (survivors keep their stage, holes filled from the
 * spare and new peers, then swap local search with each moved layer charged
 * `moveCostPerLayer` seconds) and from scratch; the one with the lower
 * iteration time + move charge wins. Peers are matched across plans by id.
 */
export function replanSchedule(problem: SchedulingProblem, previous: Plan, opts?: ReplanOptions): ReplanResult {
  // The incremental candidate keeps the previous replica count when there are enough peers.
  const fits = Math.floor(problem.peers.length / problem.stages);
  const inst = makeInstance(problem.replicas === undefined ? { ...problem, replicas: Math.max(1, Math.min(previous.replicas, fits)) } : problem);
  const { n, P, D } = inst;
  const secondsPerLayer = opts?.moveCostPerLayer ?? defaultMoveCost(inst);
  const prevStage = new Map<string, number>();
  previous.assignmentIds.forEach((row, s) => {
    for (const id of row) prevStage.set(id, s);
  });
  const prevRange = new Int32Array(2 * n).fill(-1);
  const genome = new Int32Array(n).fill(P);
  for (let i = 0; i < n; i++) {
    const s = prevStage.get(inst.ids[i]!);
    if (s === undefined || s >= P || previous.stages !== P) continue;
    prevRange[2 * i] = previous.layerRanges[s]![0];
    prevRange[2 * i + 1] = previous.layerRanges[s]![1];
    genome[i] = s;
  }
  // Repair to exactly D per stage: drop the slowest survivors of full stages, fill the rest with the fastest spares.
  const bySpeed = Array.from({ length: n }, (_, i) => i).sort((a, b) => inst.speed[b]! - inst.speed[a]! || a - b);
  const size = new Int32Array(P + 1);
  for (let i = 0; i < n; i++) size[genome[i]!]!++;
  for (let k = n - 1; k >= 0; k--) {
    const i = bySpeed[k]!;
    const s = genome[i]!;
    if (s < P && size[s]! > D) {
      size[s]!--;
      genome[i] = P;
      size[P]!++;
    }
  }
  for (const i of bySpeed) {
    if (genome[i] !== P) continue;
    let s = 0;
    while (s < P && size[s]! >= D) s++;
    if (s === P) break;
    genome[i] = s;
    size[s]!++;
    size[P]!--;
  }
  const sameShape = previous.stages === P && previous.layerRanges.length === P;
  const move: MoveCost = { previous: prevRange, secondsPerLayer, previousRanges: sameShape ? previous.layerRanges : uniformRanges(inst.L, P) };
  const dec = new Decoder(inst, 'full', move);
  const init = searchInit(opts);
  const res = geneticSearch(dec, { ...init, seeds: [genome], population: init.population ?? 4, generations: init.generations ?? 0 });
  const incLayout = res.best.layout;
  const incremental = { plan: toPlan(inst, incLayout, 'ours-incremental'), layersMoved: layersMoved(prevRange, incLayout), peersMoved: movedPeers(prevRange, incLayout) };
  const scratchPlan = planSchedule(problem, opts);
  const scratchLayout = layoutOf(scratchPlan);
  const fromScratch = { plan: scratchPlan, layersMoved: layersMoved(prevRange, scratchLayout), peersMoved: movedPeers(prevRange, scratchLayout) };
  const charge = (c: typeof incremental) => c.plan.predicted.total + secondsPerLayer * c.layersMoved + 1e6 * c.plan.memoryViolations;
  const pick = charge(incremental) <= charge(fromScratch) ? incremental : fromScratch;
  return { plan: pick.plan, layersMoved: pick.layersMoved, peersMoved: pick.peersMoved, incremental, fromScratch };
}
