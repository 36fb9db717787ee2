/**
 * Scheduler: building blocks against brute force, plan invariants, search against exhaustive
 * search on ≤ 8 peers, cost model against the discrete-event simulator, re-planning.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  balancedRanges,
  bottleneckMatching,
  buildScenario,
  createScheduler,
  dtfmPlan,
  evaluatePlan,
  greedyPlan,
  openLoopTsp,
  type Plan,
  planSchedule,
  problemForPlan,
  randomPlan,
  replanSchedule,
  type ScenarioFile,
  SchedulerInputError,
  type SchedulingProblem,
  simulatePlan,
  taskOrder,
  uniformRanges,
} from '../../src/scheduler/index.ts';
import { curveTime, evaluateLayout, type Layout, pipelineCurve, pipelineEstimate } from '../../src/scheduler/costmodel.ts';
import { makeInstance, stageMemory } from '../../src/scheduler/problem.ts';
import { simulateLayout } from '../../src/scheduler/simulator.ts';
import { freshSeed, mulberry32 } from '../../src/util/random.ts';
import { randomProblem } from './helpers.ts';
import { balanceMicrobatches } from '../../src/scheduler/costmodel.ts';

const planMicro = (inst: ReturnType<typeof makeInstance>, layout: Layout) => balanceMicrobatches(inst, layout.ranges, layout.assignment)!;

const scenarioDir = new URL('../../src/scheduler/scenarios/', import.meta.url);
const scenarioFiles = readdirSync(scenarioDir).filter((f) => f.endsWith('.json'));
const scenario = (name: string) => buildScenario(JSON.parse(readFileSync(new URL(`${name}.json`, scenarioDir), 'utf8')) as ScenarioFile);
/** Light search effort for tests (the bench uses the defaults). */
const light = { population: 4, generations: 4, localSearchTrials: 8 };

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let k = 0; k <= p.length; k++) out.push([...p.slice(0, k), n - 1, ...p.slice(k)]);
  return out;
}

/** All ways to cut L layers into P non-empty consecutive ranges. */
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

function checkInvariants(problem: SchedulingProblem, plan: Plan) {
  const inst = makeInstance(problemForPlan(problem, plan));
  const L = problem.model.layers.length;
  // Every layer assigned exactly once, in order, every stage non-empty.
  const covered = new Array<number>(L).fill(0);
  plan.layerRanges.forEach(([a, b]) => {
    expect(b).toBeGreaterThan(a);
    for (let l = a; l < b; l++) covered[l]!++;
  });
  expect(covered.every((c) => c === 1)).toBe(true);
  expect(plan.layerRanges[0]![0]).toBe(0);
  expect(plan.layerRanges.at(-1)![1]).toBe(L);
  // Groups balanced: every stage has exactly D peers; every peer used at most once; spares are the rest.
  expect(plan.assignment).toHaveLength(problem.stages);
  for (const row of plan.assignment) expect(row).toHaveLength(plan.replicas);
  const used = plan.assignment.flat();
  expect(new Set(used).size).toBe(used.length);
  expect(new Set([...used, ...plan.spare]).size).toBe(problem.peers.length);
  expect(plan.assignmentIds.flat()).toEqual(used.map((i) => problem.peers[i]!.id));
  // The batch is covered: every replica runs at least one microbatch, and all of them together at least the batch.
  expect(plan.microbatchesPerReplica).toHaveLength(plan.replicas);
  for (const k of plan.microbatchesPerReplica) expect(k).toBeGreaterThanOrEqual(1);
  const samples = plan.microbatchesPerReplica.reduce((x, y) => x + y, 0) * plan.microbatchSize;
  expect(samples).toBeGreaterThanOrEqual(problem.training.batchSize);
  expect(plan.microbatches).toBe(Math.max(...plan.microbatchesPerReplica));
  // Memory limits respected (recomputed here from the plan, with each replica's microbatch count).
  plan.assignment.forEach((row, s) => {
    const [a, b] = plan.layerRanges[s]!;
    row.forEach((p, r) => {
      expect(stageMemory(inst, a, b, s, plan.microbatchesPerReplica[r])).toBeLessThanOrEqual(problem.peers[p]!.memoryBytes);
    });
  });
  expect(plan.memoryViolations).toBe(0);
  // Breakdown adds up.
  const { total, compute, bubble, pipelineComm, dataParallelComm } = plan.predicted;
  expect(compute + bubble + pipelineComm + dataParallelComm).toBeCloseTo(total, 6);
  for (const x of [compute, bubble, pipelineComm, dataParallelComm]) expect(x).toBeGreaterThanOrEqual(-1e-9);
}

describe('building blocks against brute force', () => {
  it('bottleneck matching equals the best of all permutations', () => {
    const seed = freshSeed();
    const rand = mulberry32(seed);
    for (let trial = 0; trial < 20; trial++) {
      const D = 2 + (trial % 5);
      const n = 2 * D;
      const edge = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) edge[i * n + j] = edge[j * n + i] = Math.round(rand() * 20) / 4;
      const A = Array.from({ length: D }, (_, i) => i);
      const B = Array.from({ length: D }, (_, i) => D + i);
      let best = Number.POSITIVE_INFINITY;
      for (const perm of permutations(D)) best = Math.min(best, Math.max(...perm.map((j, i) => edge[A[i]! * n + B[j]!]!)));
      const got = bottleneckMatching(edge, n, A, B);
      expect(got.cost, `seed ${seed}`).toBe(best);
      expect(new Set(got.match).size).toBe(D);
      expect(Math.max(...Array.from(got.match, (j, i) => edge[A[i]! * n + B[j]!]!))).toBe(best);
    }
  });

  it('open-loop TSP is exact up to 7 nodes and returns a valid path above the exact limit', () => {
    const seed = freshSeed();
    const rand = mulberry32(seed);
    for (const k of [2, 3, 5, 7]) {
      const c = new Float64Array(k * k);
      for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) c[i * k + j] = c[j * k + i] = rand();
      let best = Number.POSITIVE_INFINITY;
      for (const p of permutations(k)) {
        let s = 0;
        for (let i = 0; i + 1 < k; i++) s += c[p[i]! * k + p[i + 1]!]!;
        best = Math.min(best, s);
      }
      expect(openLoopTsp(c, k).cost, `seed ${seed}`).toBeCloseTo(best, 12);
    }
    const k = 16;
    const c = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) c[i * k + j] = c[j * k + i] = rand();
    const path = openLoopTsp(c, k);
    expect([...path.order].sort((a, b) => a - b)).toEqual(Array.from({ length: k }, (_, i) => i));
    let s = 0;
    for (let i = 0; i + 1 < k; i++) s += c[path.order[i]! * k + path.order[i + 1]!]!;
    expect(path.cost).toBeCloseTo(s, 12);
  });

  it('the layer DP reaches the brute-force minimal bottleneck under memory limits', () => {
    const seed = freshSeed();
    const rand = mulberry32(seed);
    for (let trial = 0; trial < 10; trial++) {
      const problem = randomProblem({ peers: 4, stages: 4, layers: 9, clusters: 1, seed: seed + trial });
      problem.model.layers.forEach((l) => {
        l.forwardFlopsPerSample *= 0.5 + rand();
      });
      const inst = makeInstance(problem);
      const speed = Array.from({ length: 4 }, () => 1e12 * (1 + 7 * rand()));
      const cap = Array.from({ length: 4 }, () => (rand() < 0.3 ? stageMemory(inst, 0, 2, 0) : Number.POSITIVE_INFINITY));
      let best = Number.POSITIVE_INFINITY;
      for (const split of allSplits(9, 4)) {
        if (split.some(([a, b], s) => stageMemory(inst, a, b, s) > cap[s]!)) continue;
        best = Math.min(best, Math.max(...split.map(([a, b], s) => (inst.cumFlops[b]! - inst.cumFlops[a]!) / speed[s]!)));
      }
      const got = balancedRanges(inst, speed, cap);
      if (!Number.isFinite(best)) {
        expect(got).toBeNull();
        continue;
      }
      const worst = Math.max(...got!.map(([a, b], s) => (inst.cumFlops[b]! - inst.cumFlops[a]!) / speed[s]!));
      expect(worst, `seed ${seed}`).toBeCloseTo(best, 9);
      got!.forEach(([a, b], s) => {
        expect(stageMemory(inst, a, b, s)).toBeLessThanOrEqual(cap[s]!);
      });
    }
  });

  it('1F1B and GPipe task orders run every forward before its backward, each once', () => {
    for (const schedule of ['gpipe', '1f1b'] as const)
      for (const [P, m] of [[4, 8], [4, 2], [1, 3]] as const)
        for (let s = 0; s < P; s++) {
          const order = taskOrder(schedule, P, m, s);
          expect(order).toHaveLength(2 * m);
          for (let i = 0; i < m; i++) expect(order.indexOf(i)).toBeLessThan(order.indexOf(-i - 1));
        }
  });
});

describe('simulator', () => {
  it('matches the closed-form pipeline time when links are free and peers identical', () => {
    for (const schedule of ['gpipe', '1f1b'] as const) {
      const problem = randomProblem({ peers: 4, stages: 4, replicas: 1, layers: 8, clusters: 1, seed: 1, schedule, batchSize: 12, microbatchSize: 2 });
      for (const p of problem.peers) p.gflops = 10_000;
      problem.links.latencyMs = problem.links.latencyMs.map((r) => r.map(() => 0));
      problem.links.bandwidthGbps = problem.links.bandwidthGbps.map((r) => r.map(() => 1e9));
      const plan = randomPlan(problem, 3);
      const inst = makeInstance(problem);
      const f = (2 * (inst.cumFlops[2]! - inst.cumFlops[0]!)) / 1e13;
      const m = 6;
      const expected = (m + 4 - 1) * (f + 2 * f);
      expect(simulatePlan(problem, plan).iterationSeconds).toBeCloseTo(expected, 6);
      expect(plan.predicted.total).toBeCloseTo(expected, 6);
    }
  });
});

describe('uneven batch split and schedule search', () => {
  it('the per-replica pipeline curve equals the closed form at every microbatch count', () => {
    const seed = freshSeed();
    for (const schedule of ['gpipe', '1f1b'] as const)
      for (let k = 0; k < 6; k++) {
        const inst = makeInstance(randomProblem({ peers: 12, stages: 4, layers: 10, clusters: 3, seed: seed + k, schedule }));
        const rand = mulberry32(seed + k);
        const chain = Array.from({ length: 4 }, () => Math.floor(rand() * 12));
        const ranges = uniformRanges(10, 4);
        const curve = pipelineCurve(inst, ranges, chain);
        for (let m = 1; m <= 20; m++) {
          const want = pipelineEstimate(inst, ranges, chain, m).T;
          expect(Math.abs(curveTime(curve, m) - want), `seed ${seed + k} ${schedule} m=${m}`).toBeLessThanOrEqual(1e-12 * want);
        }
      }
  });

  it('the simulator runs each replica with its own microbatch count', () => {
    // Free links, identical peers: replica r takes (m_r + P - 1)·(f + b) with both schedules.
    for (const schedule of ['gpipe', '1f1b'] as const) {
      const problem = randomProblem({ peers: 8, stages: 4, replicas: 2, layers: 8, clusters: 1, seed: 3, schedule, batchSize: 16, microbatchSize: 2 });
      for (const p of problem.peers) p.gflops = 10_000;
      problem.links.latencyMs = problem.links.latencyMs.map((r) => r.map(() => 0));
      problem.links.bandwidthGbps = problem.links.bandwidthGbps.map((r) => r.map(() => 1e9));
      const inst = makeInstance(problem);
      const layout: Layout = { ranges: uniformRanges(8, 4), assignment: [[0, 1], [2, 3], [4, 5], [6, 7]], micro: [3, 5] };
      const fb = (3 * 2 * (inst.cumFlops[2]! - inst.cumFlops[0]!)) / 1e13;
      const sim = simulateLayout(inst, layout);
      expect(sim.pipelineSeconds[0]).toBeCloseTo((3 + 4 - 1) * fb, 9);
      expect(sim.pipelineSeconds[1]).toBeCloseTo((5 + 4 - 1) * fb, 9);
      expect(evaluateLayout(inst, layout).pipeline[1]).toBeCloseTo((5 + 4 - 1) * fb, 9);
    }
  });

  it('slower replicas take fewer microbatches, and the split covers the batch exactly', () => {
    const seed = freshSeed();
    const problem = randomProblem({ peers: 8, stages: 2, replicas: 4, layers: 6, clusters: 1, seed, batchSize: 40, microbatchSize: 2 });
    // Replica r runs on peers r and r + 4, both at (1 + r + jitter) × 5 TFLOP/s.
    const rand = mulberry32(seed);
    const speed = [0, 1, 2, 3].map((r) => 5000 * (1 + r + 0.5 * rand()));
    problem.peers.forEach((p, i) => {
      p.gflops = speed[i % 4]!;
    });
    // Free links: only compute tells the replicas apart.
    problem.links.latencyMs = problem.links.latencyMs.map((r) => r.map(() => 0));
    problem.links.bandwidthGbps = problem.links.bandwidthGbps.map((r) => r.map(() => 1e9));
    const inst = makeInstance(problem);
    const layout: Layout = { ranges: uniformRanges(6, 2), assignment: [[0, 1, 2, 3], [4, 5, 6, 7]] };
    const micro = planMicro(inst, layout);
    expect(micro.reduce((x, y) => x + y, 0), `seed ${seed}`).toBe(20);
    for (let r = 1; r < 4; r++) expect(micro[r]!, `seed ${seed}`).toBeGreaterThanOrEqual(micro[r - 1]!);
    expect(micro[3]!, `seed ${seed}`).toBeGreaterThan(micro[0]!);
    // ... which beats the even split of the same layout.
    expect(evaluateLayout(inst, { ...layout, micro }).total, `seed ${seed}`).toBeLessThan(evaluateLayout(inst, layout).total);
    // The planner's plan covers the batch with ⌈batch / microbatch⌉ microbatches when it splits unevenly.
    const plan = planSchedule(problem, { ...light, scheduleSearch: false });
    checkInvariants(problem, plan);
    if (new Set(plan.microbatchesPerReplica).size > 1) expect(plan.microbatchesPerReplica.reduce((x, y) => x + y, 0)).toBe(20);
  });

  it('searching the schedule and microbatch size never predicts worse than the configured ones', () => {
    const problem = randomProblem({ peers: 16, stages: 4, layers: 8, clusters: 3, seed: 11, batchSize: 32, microbatchSize: 4 });
    const fixed = planSchedule(problem, { ...light, rerank: 'prediction', scheduleSearch: false });
    expect(fixed.schedule).toBe('1f1b');
    expect(fixed.microbatchSize).toBe(4);
    const searched = planSchedule(problem, { ...light, rerank: 'prediction' });
    expect(searched.predicted.total).toBeLessThanOrEqual(fixed.predicted.total * (1 + 1e-12));
    checkInvariants(problem, searched);
    // evaluatePlan and simulatePlan run a plan with its own schedule and microbatches.
    expect(evaluatePlan(problem, searched).total).toBeCloseTo(searched.predicted.total, 9);
    const sim = simulatePlan(problem, searched).iterationSeconds;
    expect(Math.abs(sim - searched.predicted.total) / sim).toBeLessThan(0.15);
  });
});

describe('plans', () => {
  it('rejects malformed problems with SchedulerInputError', () => {
    const good = randomProblem({ peers: 8, stages: 2, layers: 4, clusters: 2, seed: 5 });
    const bad: SchedulingProblem[] = [
      { ...good, peers: [] },
      { ...good, stages: 5 },
      { ...good, stages: 3, replicas: 3 },
      { ...good, peers: good.peers.map((p, i) => (i === 2 ? { ...p, gflops: -1 } : p)) },
      { ...good, links: { ...good.links, bandwidthGbps: good.links.bandwidthGbps.slice(1) } },
      { ...good, codec: { activationRatio: 2, gradientRatio: 1 } },
    ];
    for (const p of bad) expect(() => planSchedule(p, light)).toThrow(SchedulerInputError);
  });

  it('every planner satisfies the invariants, including with small-memory peers and spares', () => {
    const seed = freshSeed();
    const problem = randomProblem({ peers: 19, stages: 3, layers: 9, clusters: 3, seed, smallMemoryPeers: 2 });
    const plans = [planSchedule(problem, light), greedyPlan(problem)];
    for (const plan of plans) {
      expect(plan.replicas === 6 || plan.replicas === 5, `seed ${seed}`).toBe(true);
      checkInvariants(problem, plan);
    }
    for (const plan of [randomPlan(problem, seed), dtfmPlan(problem, light)]) {
      expect(plan.layerRanges).toEqual(uniformRanges(9, 3));
      expect(new Set(plan.assignment.flat()).size).toBe(18);
    }
  });

  it('is deterministic under a seed', () => {
    const problem = randomProblem({ peers: 16, stages: 4, layers: 8, clusters: 3, seed: 77 });
    const a = createScheduler({ seed: 9, search: light }).plan(problem);
    const b = createScheduler({ seed: 9, search: light }).plan(problem);
    expect(b).toEqual(a);
    expect(randomPlan(problem, 4)).toEqual(randomPlan(problem, 4));
  });

  it('on ≤ 8 peers the search is within 5% of exhaustive search', () => {
    // Fixed instances: on a few percent of random instances the search lands 5–8% above the
    // optimum (docs/SCHEDULER.md gives the measured distribution), which would make a
    // fresh-seed test flaky.
    const seed = 1000;
    const shapes = [
      { peers: 8, stages: 4, replicas: 2, layers: 6 },
      { peers: 8, stages: 2, replicas: 4, layers: 6 },
      { peers: 7, stages: 3, replicas: 2, layers: 6 },
    ];
    shapes.forEach((shape, k) => {
      const problem = randomProblem({ ...shape, clusters: 2, seed: seed + k, smallMemoryPeers: 1 });
      const inst = makeInstance(problem);
      const splits = allSplits(shape.layers, shape.stages);
      let best = Number.POSITIVE_INFINITY;
      // Every placement of peers into (stage, replica) slots (replica 0 < replica 1 at stage 0
      // removes the replica symmetry) × every layer split.
      for (const perm of permutations(shape.peers)) {
        if (perm[0]! > perm[1]!) continue;
        const assignment = Array.from({ length: shape.stages }, (_, s) => perm.slice(s * shape.replicas, (s + 1) * shape.replicas));
        for (const ranges of splits) {
          const layout: Layout = { ranges, assignment };
          const ev = evaluateLayout(inst, layout);
          if (ev.memoryViolations === 0) best = Math.min(best, ev.total);
        }
      }
      // The exhaustive search above covers the configured schedule with the batch split evenly: the same space here.
      const plan = planSchedule(problem, { seed, rerank: 'prediction', scheduleSearch: false, unevenBatch: false });
      expect(plan.memoryViolations).toBe(0);
      expect(plan.predicted.total, `seed ${seed + k}, shape ${JSON.stringify(shape)}`).toBeLessThanOrEqual(1.05 * best);
    });
  });
});

describe('cost model against the simulator', () => {
  it('agrees within 15% on the 64-peer scenarios for ours and every baseline', () => {
    for (const file of scenarioFiles.filter((f) => !f.startsWith('scale'))) {
      const sc = scenario(file.slice(0, -5));
      for (const plan of [planSchedule(sc.problem, light), randomPlan(sc.problem), greedyPlan(sc.problem), dtfmPlan(sc.problem, light)]) {
        const sim = simulatePlan(sc.problem, plan).iterationSeconds;
        expect(Math.abs(plan.predicted.total - sim) / sim, `${sc.name} ${plan.method}: predicted ${plan.predicted.total}, simulated ${sim}`).toBeLessThan(0.15);
      }
    }
  });

  it('agrees within 15% on random clustered instances, GPipe and 1F1B', () => {
    const seed = freshSeed();
    for (const schedule of ['gpipe', '1f1b'] as const)
      for (let k = 0; k < 4; k++) {
        const problem = randomProblem({ peers: 24, stages: 4, layers: 12, clusters: 3, seed: seed + k, schedule });
        // Ours (k < 2) may pick another schedule and microbatch size and split the batch unevenly.
        const plans = [randomPlan(problem, seed), greedyPlan(problem), ...(k < 2 ? [planSchedule(problem, { ...light, seed })] : [])];
        for (const plan of plans) {
          const sim = simulatePlan(problem, plan).iterationSeconds;
          expect(evaluatePlan(problem, plan).total).toBeCloseTo(plan.predicted.total, 9);
          expect(Math.abs(plan.predicted.total - sim) / sim, `seed ${seed + k} ${schedule} ${plan.method}`).toBeLessThan(0.15);
        }
      }
  });
});

describe('re-planning', () => {
  const problem = randomProblem({ peers: 24, stages: 4, layers: 12, clusters: 3, seed: 42 });
  const first = planSchedule(problem, light);

  it('moves no layers when nothing changed and moving is expensive; otherwise only moves that pay off', () => {
    const r = replanSchedule(problem, first, { ...light, moveCostPerLayer: 1e6 });
    expect(r.layersMoved).toBe(0);
    expect(r.peersMoved).toBe(0);
    expect(r.plan.predicted.total).toBeLessThanOrEqual(first.predicted.total * (1 + 1e-9));
    const cost = 1e-3;
    const cheap = replanSchedule(problem, first, { ...light, moveCostPerLayer: cost });
    expect(cheap.plan.predicted.total + cost * cheap.layersMoved).toBeLessThanOrEqual(first.predicted.total * (1 + 1e-9));
  });

  it('after peers leave and join, keeps the invariants and counts moved layers', () => {
    const leaving = new Set([first.assignmentIds[1]![0]!, first.assignmentIds[2]![1]!]);
    const peers = problem.peers.filter((p) => !leaving.has(p.id));
    const keep = problem.peers.map((p, i) => (leaving.has(p.id) ? -1 : i)).filter((i) => i >= 0);
    const joined = { id: 'newcomer', gflops: 40_000, memoryBytes: problem.peers[0]!.memoryBytes };
    const n = keep.length + 1;
    const pick = (mtx: number[][], fill: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i < n - 1 && j < n - 1 ? mtx[keep[i]!]![keep[j]!]! : fill)));
    const next: SchedulingProblem = { ...problem, peers: [...peers, joined], links: { latencyMs: pick(problem.links.latencyMs, 30), bandwidthGbps: pick(problem.links.bandwidthGbps, 1) } };
    const r = replanSchedule(next, first, light);
    checkInvariants(next, r.plan);
    expect(r.plan.assignmentIds.flat().some((id) => leaving.has(id))).toBe(false);
    // The count is recomputed here from the two plans.
    const before = new Map<string, [number, number]>();
    first.assignmentIds.forEach((row, s) => {
      for (const id of row) before.set(id, first.layerRanges[s]!);
    });
    let moved = 0;
    r.plan.assignmentIds.forEach((row, s) => {
      const [a, b] = r.plan.layerRanges[s]!;
      for (const id of row) {
        const old = before.get(id);
        moved += old ? b - a - Math.max(0, Math.min(b, old[1]) - Math.max(a, old[0])) : b - a;
      }
    });
    expect(r.layersMoved).toBe(moved);
    // When moving is expensive, only the slots left empty fetch layers (a spare or the newcomer fills each).
    const expensive = replanSchedule(next, first, { ...light, moveCostPerLayer: 1e3 });
    checkInvariants(next, expensive.plan);
    const holes = [1, 2].map((s) => first.layerRanges[s]![1] - first.layerRanges[s]![0]).reduce((x, y) => x + y, 0);
    expect(expensive.layersMoved).toBeLessThanOrEqual(holes);
  });
});

describe('scenarios', () => {
  it('build the five DT-FM networks and the heterogeneous variants', () => {
    const names = scenarioFiles.map((f) => f.slice(0, -5));
    for (const want of ['datacenter_ondemand', 'datacenter_spot', 'multi_universities', 'regional', 'worldwide', 'hetero_compute_datacenter', 'hetero_compute_worldwide', 'hetero_memory_universities'])
      expect(names).toContain(want);
    const ww = scenario('worldwide').problem;
    expect(ww.peers).toHaveLength(64);
    expect(ww.model.layers).toHaveLength(24);
    const oregon = ww.peers.findIndex((p) => p.region === 'Oregon');
    const tokyo = ww.peers.findIndex((p) => p.region === 'Tokyo');
    expect(ww.links.latencyMs[oregon]![tokyo]).toBe(96);
    expect(ww.links.bandwidthGbps[tokyo]![oregon]).toBe(0.523);
    const speeds = new Set(scenario('hetero_compute_datacenter').problem.peers.map((p) => p.gflops));
    expect(Math.max(...speeds) / Math.min(...speeds)).toBe(8);
  });
});
