/**
 * Planners: ours (compute-, memory- and network-aware search that also chooses the schedule,
 * the microbatch size and each replica's share of the batch), the three baselines (random,
 * greedy, DT-FM as published with its network-only objective, all with the configured
 * schedule and an even batch) and re-planning after peers join or leave. All deterministic
 * under a seed; pure functions (Web Worker and Node).
 */
import { mulberry32 } from '../util/random.ts';
import { DEFAULT_SEED, FINALISTS, MEMORY_PENALTY_SECONDS, POLISH_MAX_EVALUATIONS, POLISH_WORK_UNITS, REPLAN_AMORTIZE_ITERATIONS, MIN_SIMULATED, PLANNER_EFFORT_SCALE, RETIME_SOURCES, RETIME_WORK_UNITS, SCHEDULE_FINALISTS, SIMULATION_WORK_EVENTS } from './constants.ts';
import { balanceMicrobatches, evaluateLayout, type Layout, uniformRanges } from './costmodel.ts';
import { type Instance, makeInstance } from './problem.ts';
import { type Decoded, Decoder, geneticSearch, layersMoved, type MoveCost, polishPlan, reshapeGenome, type SearchInit, shuffled, speedSortedGenome } from './search.ts';
import { simulateLayout } from './simulator.ts';
import type { PipelineSchedule, Plan, ReplanOptions, ReplanResult, SchedulingProblem, SearchOptions } from './types.ts';

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
    microbatches: layout.micro ? Math.max(...Array.from(layout.micro)) : inst.m,
    microbatchesPerReplica: layout.micro ? Array.from(layout.micro) : new Array<number>(layout.assignment[0]!.length).fill(inst.m),
    predicted: { total: ev.total, compute: ev.compute, bubble: ev.bubble, pipelineComm: ev.pipelineComm, dataParallelComm: ev.dataParallelComm },
    memoryViolations: ev.memoryViolations,
  };
}

/** The layout of a plan (for evaluation and simulation). */
export function layoutOf(plan: Plan): Layout {
  const even = plan.microbatchesPerReplica.every((x) => x === plan.microbatchesPerReplica[0]);
  return { ranges: plan.layerRanges, assignment: plan.assignment, micro: even ? undefined : plan.microbatchesPerReplica };
}

/** The problem as a plan runs it: the plan's replica count, schedule and microbatch size. */
export function problemForPlan(problem: SchedulingProblem, plan: Plan): SchedulingProblem {
  return { ...problem, replicas: plan.replicas, training: { ...problem.training, schedule: plan.schedule, microbatchSize: plan.microbatchSize } };
}

function searchInit(opts: SearchOptions | undefined): SearchInit {
  return { seed: opts?.seed ?? DEFAULT_SEED, population: opts?.population, generations: opts?.generations, localSearchTrials: opts?.localSearchTrials };
}

/** (schedule, microbatch size) pairs the planner tries: both schedules × the configured size, twice it and its halvings down to 1. */
export function scheduleCandidates(problem: SchedulingProblem, D: number): Array<{ schedule: PipelineSchedule; microbatchSize: number }> {
  const mb = problem.training.microbatchSize;
  const sizes = new Set<number>([mb]);
  if (Math.ceil(problem.training.batchSize / (2 * mb)) >= D) sizes.add(2 * mb);
  for (let x = Math.floor(mb / 2); x >= 1; x = Math.floor(x / 2)) sizes.add(x);
  const out: Array<{ schedule: PipelineSchedule; microbatchSize: number }> = [];
  for (const schedule of ['1f1b', 'gpipe'] as const) for (const microbatchSize of sizes) out.push({ schedule, microbatchSize });
  return out;
}

interface Candidate {
  inst: Instance;
  cand: Decoded;
  /** The DT-FM plan or its decoded grouping (always re-timed: they differ most from the GA's finalists). */
  seed?: boolean;
}

/**
 * Our planner. For each candidate replica count (the largest that fits, and one fewer when
 * that leaves a stage's worth of peers spare): a short DT-FM network-only search provides a
 * seed, then GA + local search on the full cost model (compute, memory, network) with the
 * configured schedule and microbatch size. The best few distinct plans of every shape get
 * their replica chains, layer boundaries and (unevenBatch) per-replica microbatch counts
 * polished under the full cost model. Then (scheduleSearch) every plan is re-timed under
 * every other schedule and microbatch size (scheduleCandidates) and the best few of those
 * are polished too. All of them, and the DT-FM plan that seeded the search, are run through
 * the discrete-event simulator and the fastest simulated one is returned (its `predicted`
 * stays the cost model's estimate).
 */
export function planSchedule(problem: SchedulingProblem, opts?: SearchOptions): Plan {
  const base = makeInstance(problem);
  const init = searchInit(opts);
  const uneven = opts?.unevenBatch !== false;
  const shapes = [base.D];
  if (problem.replicas === undefined && base.D > 2) shapes.push(base.D - 1);
  const pool: Candidate[] = [];
  // Polish budget: bounded in evaluations and in work (one evaluation costs ~P·D² for the all-reduces).
  const polishBudget = (inst: Instance) => Math.min(POLISH_MAX_EVALUATIONS, 2 * inst.P * inst.D * inst.D, Math.round(POLISH_WORK_UNITS / (inst.P * inst.D * (inst.D + inst.P))));
  let netSeed: Int32Array | undefined;
  for (const D of shapes) {
    const inst = D === base.D ? base : makeInstance({ ...problem, replicas: D });
    const extra: Decoded[] = [];
    if (!netSeed) {
      const net = geneticSearch(new Decoder(inst, 'network'), { ...init, effortScale: PLANNER_EFFORT_SCALE });
      netSeed = net.genome;
      extra.push(net.best);
    }
    const seed = D === base.D ? netSeed : reshapeGenome(inst, netSeed);
    const dec = new Decoder(inst, 'full');
    extra.push(dec.decode(seed.slice(), true));
    const res = geneticSearch(dec, { ...init, seeds: [seed], finalists: FINALISTS, effortScale: PLANNER_EFFORT_SCALE / shapes.length });
    for (const c of res.finalists) pool.push({ inst, cand: polishPlan(inst, c, polishBudget(inst), uneven) });
    for (const c of extra) pool.push({ inst, cand: c, seed: true });
  }
  if (opts?.scheduleSearch !== false) pool.push(...retimeSchedules(problem, pool, uneven, polishBudget));
  // Simulate the best predictions first, while the simulation work (events ∝ D·P·m) stays within budget.
  pool.sort((a, b) => a.cand.score - b.cand.score);
  let best: { plan: Plan; simulated: number } | undefined;
  let work = 0;
  for (const [k, { inst, cand }] of pool.entries()) {
    const events = 4 * inst.P * cand.layout.assignment[0]!.length * (cand.layout.micro ? Math.max(...Array.from(cand.layout.micro)) : inst.m);
    if (k >= MIN_SIMULATED && work + events > SIMULATION_WORK_EVENTS) break;
    work += events;
    if (cand.evaluation!.memoryViolations > 0 && best && best.plan.memoryViolations === 0) continue;
    const simulated = opts?.rerank === 'prediction' ? cand.evaluation!.total : simulateLayout(inst, cand.layout).iterationSeconds;
    const plan = toPlan(inst, cand.layout, 'ours');
    if (!best || plan.memoryViolations < best.plan.memoryViolations || (plan.memoryViolations === best.plan.memoryViolations && simulated < best.simulated)) best = { plan, simulated };
  }
  return best!.plan;
}

/**
 * The same stage groups with each stage's peers re-ordered by speed across replicas, so that
 * slow peers share replicas (which then take fewer microbatches) instead of slowing every
 * replica. Ignores the links (bottleneck matching chose the chains for those).
 */
export function speedAlignedChains(inst: Instance, assignment: number[][]): number[][] {
  return assignment.map((row) => [...row].sort((a, b) => inst.speed[b]! - inst.speed[a]! || a - b));
}

/**
 * The planned layouts (the best RETIME_SOURCES, or all when RETIME_WORK_UNITS allows) re-timed under every other (schedule, microbatch size): each with its
 * own layer split and the uniform one, the batch split evenly and by replica speed; the
 * SCHEDULE_FINALISTS best predictions are polished and returned.
 */
function retimeSchedules(problem: SchedulingProblem, pool: Candidate[], uneven: boolean, polishBudget: (inst: Instance) => number): Candidate[] {
  const scored: Candidate[] = [];
  const configured = { schedule: pool[0]!.inst.schedule, microbatchSize: pool[0]!.inst.microbatchSize };
  const instances = new Map<string, Instance>();
  // Every plan when evaluations are cheap, the best RETIME_SOURCES at least (one evaluation costs ~P·D² for the all-reduces).
  const { P, D } = pool[0]!.inst;
  const perSource = 8 * scheduleCandidates(problem, D).length * P * D * D;
  const ranked = [...pool].sort((a, b) => a.cand.score - b.cand.score);
  const keep = Math.max(RETIME_SOURCES, Math.floor(RETIME_WORK_UNITS / perSource));
  const sources = ranked.filter((c, k) => k < keep || c.seed);
  for (const { inst: from, cand } of sources) {
    const D = from.D;
    for (const c of scheduleCandidates(problem, D)) {
      if (c.schedule === configured.schedule && c.microbatchSize === configured.microbatchSize) continue;
      const key = `${D}|${c.schedule}|${c.microbatchSize}`;
      let inst = instances.get(key);
      if (!inst) {
        inst = makeInstance({ ...problem, replicas: D, training: { ...problem.training, ...c } });
        instances.set(key, inst);
      }
      for (const assignment of [cand.layout.assignment, speedAlignedChains(inst, cand.layout.assignment)])
      for (const ranges of [cand.layout.ranges, uniformRanges(inst.L, inst.P)]) {
        const layout: Layout = { ranges, assignment };
        const micro = uneven ? balanceMicrobatches(inst, ranges, layout.assignment) : null;
        for (const v of micro ? [layout, { ...layout, micro }] : [layout]) {
          const evaluation = evaluateLayout(inst, v);
          scored.push({ inst, cand: { score: evaluation.total + MEMORY_PENALTY_SECONDS * evaluation.memoryViolations, layout: v, evaluation } });
        }
      }
    }
  }
  scored.sort((a, b) => a.cand.score - b.cand.score);
  const out: Candidate[] = [];
  for (const c of scored) {
    if (out.length >= SCHEDULE_FINALISTS) break;
    if (out.some((o) => o.inst === c.inst && Math.abs(o.cand.score - c.cand.score) <= 1e-9 * c.cand.score)) continue;
    out.push({ inst: c.inst, cand: polishPlan(c.inst, c.cand, polishBudget(c.inst), uneven) });
  }
  return out;
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
  // It also keeps the schedule and microbatch size the previous plan runs with.
  const training = { ...problem.training, schedule: previous.schedule, microbatchSize: previous.microbatchSize };
  const inst = makeInstance({ ...problem, training, replicas: problem.replicas ?? Math.max(1, Math.min(previous.replicas, fits)) });
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
  const dec = new Decoder(inst, 'full', move, opts?.unevenBatch !== false);
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
