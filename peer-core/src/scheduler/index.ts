/**
 * Heterogeneity-aware pipeline + data-parallel scheduler: public types and factory.
 *
 * Given peers (GFLOP/s, memory), a directed link matrix (latency, bandwidth), a model
 * (FLOPs, parameter and activation bytes per layer), batch/microbatch sizes and codec ratios,
 * it plans D data-parallel replicas × P pipeline stages: which layers each stage runs, which
 * peer runs each (stage, replica), and the microbatch schedule, with a predicted iteration
 * time broken down into compute, bubble, pipeline and data-parallel communication.
 * Follows DT-FM (Yuan et al., NeurIPS 2022) and adds compute, memory and re-planning.
 * Pure functions, deterministic under a seed: runs in a Web Worker and in Node.
 * What it is not: the runtime that moves activations or gradients (see the swarm code).
 */
import { DEFAULT_SEED } from './constants.ts';
import { evaluateLayout } from './costmodel.ts';
import { dtfmPlan, greedyPlan, layoutOf, planSchedule, problemForPlan, randomPlan, replanSchedule } from './plan.ts';
import { makeInstance } from './problem.ts';
import { simulateLayout } from './simulator.ts';
import type { CostBreakdown, Plan, ReplanOptions, ReplanResult, SchedulingProblem, SearchOptions, SimulateOptions, SimulationResult } from './types.ts';

export * from './constants.ts';
export * from './errors.ts';
export { balancedRanges, uniformRanges } from './costmodel.ts';
export { bottleneckMatching } from './matching.ts';
export { openLoopTsp } from './tsp.ts';
export { taskOrder } from './simulator.ts';
export { buildScenario, transformerModel } from './scenarios.ts';
export type { GpuKind, RegionSpec, Scenario, ScenarioFile, TransformerShape } from './scenarios.ts';
export type * from './types.ts';
export { dtfmPlan, greedyPlan, planSchedule, problemForPlan, randomPlan, replanSchedule };

/** Predicted iteration time of any plan (e.g. one made by hand or by a baseline) for a problem, run with the plan's schedule and microbatches. */
export function evaluatePlan(problem: SchedulingProblem, plan: Plan): CostBreakdown & { memoryViolations: number } {
  const ev = evaluateLayout(makeInstance(problemForPlan(problem, plan)), layoutOf(plan));
  return { total: ev.total, compute: ev.compute, bubble: ev.bubble, pipelineComm: ev.pipelineComm, dataParallelComm: ev.dataParallelComm, memoryViolations: ev.memoryViolations };
}

/** Simulate one iteration of a plan (with its schedule and microbatches), event by event. */
export function simulatePlan(problem: SchedulingProblem, plan: Plan, opts?: SimulateOptions): SimulationResult {
  return simulateLayout(makeInstance(problemForPlan(problem, plan)), layoutOf(plan), opts);
}

export interface SchedulerInit {
  /** Seed of every random choice (default DEFAULT_SEED). */
  seed?: number;
  /** Search effort overrides (defaults scale with the problem size). */
  search?: Omit<SearchOptions, 'seed'>;
  /** Seconds charged per layer moved when re-planning (default: one layer over the median link / 50). */
  moveCostPerLayer?: number;
}

export interface Scheduler {
  plan(problem: SchedulingProblem): Plan;
  replan(problem: SchedulingProblem, previous: Plan): ReplanResult;
  evaluate(problem: SchedulingProblem, plan: Plan): CostBreakdown & { memoryViolations: number };
  simulate(problem: SchedulingProblem, plan: Plan, opts?: SimulateOptions): SimulationResult;
  baselines(problem: SchedulingProblem): { random: Plan; greedy: Plan; dtfm: Plan };
}

/** A scheduler with fixed seed and effort. */
export function createScheduler(init: SchedulerInit = {}): Scheduler {
  const opts: SearchOptions = { ...init.search, seed: init.seed ?? DEFAULT_SEED };
  const replanOpts: ReplanOptions = { ...opts, moveCostPerLayer: init.moveCostPerLayer };
  return {
    plan: (problem) => planSchedule(problem, opts),
    replan: (problem, previous) => replanSchedule(problem, previous, replanOpts),
    evaluate: evaluatePlan,
    simulate: simulatePlan,
    baselines: (problem) => ({ random: randomPlan(problem, opts.seed), greedy: greedyPlan(problem), dtfm: dtfmPlan(problem, opts) }),
  };
}
