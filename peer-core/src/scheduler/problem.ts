/**
 * Validation and normalisation of a SchedulingProblem into flat typed arrays (seconds, bytes,
 * FLOP/s) that the cost model, the search and the simulator share.
 * Not the cost model itself (costmodel.ts) and not the search (search.ts).
 */
import {
  DEFAULT_BACKWARD_FLOPS_FACTOR,
  DEFAULT_SCHEDULE,
  DEFAULT_STATE_BYTES_PER_PARAM_BYTE,
  DEFAULT_STORED_ACTIVATION_FACTOR,
  NO_COMPRESSION,
} from './constants.ts';
import { SchedulerInputError } from './errors.ts';
import type { PipelineSchedule, SchedulingProblem } from './types.ts';

export interface Instance {
  problem: SchedulingProblem;
  n: number;
  /** Stages P, replicas D, layers L. */
  P: number;
  D: number;
  L: number;
  ids: string[];
  /** FLOP/s per peer. */
  speed: Float64Array;
  memory: Float64Array;
  /** n×n, [from*n+to]: latency seconds and seconds per byte. */
  lat: Float64Array;
  secPerByte: Float64Array;
  /** Prefix sums over layers (length L+1): forward FLOPs/sample, param bytes, stored activation bytes/sample. */
  cumFlops: Float64Array;
  cumParams: Float64Array;
  cumStored: Float64Array;
  /** Output activation bytes per sample of each layer. */
  actOut: Float64Array;
  backwardFactor: number;
  stateFactor: number;
  microbatchSize: number;
  /** Microbatches per replica. */
  m: number;
  schedule: PipelineSchedule;
  activationRatio: number;
  gradientRatio: number;
  /** Symmetric n×n pipeline edge weight: one microbatch's activation over the slower direction (s). */
  edge: Float64Array;
}

function finitePositive(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

/** Check a problem and precompute everything derived from it. Throws SchedulerInputError. */
export function makeInstance(problem: SchedulingProblem): Instance {
  const { peers, links, model, training } = problem;
  const codec = problem.codec ?? NO_COMPRESSION;
  if (!Array.isArray(peers) || peers.length === 0) throw new SchedulerInputError('need at least one peer');
  const n = peers.length;
  const ids = new Set<string>();
  peers.forEach((p, i) => {
    if (typeof p.id !== 'string' || ids.has(p.id)) throw new SchedulerInputError(`peer ${i}: missing or duplicate id`);
    ids.add(p.id);
    if (!finitePositive(p.gflops)) throw new SchedulerInputError(`peer ${p.id}: gflops must be a positive number`);
    if (!finitePositive(p.memoryBytes)) throw new SchedulerInputError(`peer ${p.id}: memoryBytes must be a positive number`);
  });
  const L = model?.layers?.length ?? 0;
  if (L === 0) throw new SchedulerInputError('model has no layers');
  const P = problem.stages;
  if (!Number.isInteger(P) || P < 1) throw new SchedulerInputError(`stages must be a positive integer, got ${P}`);
  if (P > L) throw new SchedulerInputError(`stages (${P}) exceed layers (${L})`);
  const D = problem.replicas ?? Math.floor(n / P);
  if (!Number.isInteger(D) || D < 1) throw new SchedulerInputError(`need at least ${P} peers for ${P} stages, got ${n}`);
  if (D * P > n) throw new SchedulerInputError(`${D} replicas × ${P} stages need ${D * P} peers, got ${n}`);
  if (!finitePositive(training?.batchSize) || !finitePositive(training.microbatchSize))
    throw new SchedulerInputError('batchSize and microbatchSize must be positive');
  if (!finitePositive(codec.activationRatio) || !finitePositive(codec.gradientRatio) || codec.activationRatio > 1 || codec.gradientRatio > 1)
    throw new SchedulerInputError('codec ratios must be in (0, 1]');
  const schedule = training.schedule ?? DEFAULT_SCHEDULE;
  if (schedule !== 'gpipe' && schedule !== '1f1b') throw new SchedulerInputError(`unknown schedule '${schedule}'`);
  for (const name of ['latencyMs', 'bandwidthGbps'] as const) {
    const mtx = links?.[name];
    if (!Array.isArray(mtx) || mtx.length !== n || mtx.some((row) => !Array.isArray(row) || row.length !== n))
      throw new SchedulerInputError(`links.${name} must be ${n}×${n}`);
  }

  const speed = new Float64Array(n);
  const memory = new Float64Array(n);
  peers.forEach((p, i) => {
    speed[i] = p.gflops * 1e9;
    memory[i] = p.memoryBytes;
  });
  const lat = new Float64Array(n * n);
  const secPerByte = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const l = links.latencyMs[i]![j]!;
      const b = links.bandwidthGbps[i]![j]!;
      if (!(typeof l === 'number' && Number.isFinite(l) && l >= 0)) throw new SchedulerInputError(`latency ${i}→${j} must be ≥ 0`);
      if (!finitePositive(b)) throw new SchedulerInputError(`bandwidth ${i}→${j} must be > 0`);
      lat[i * n + j] = l / 1e3;
      secPerByte[i * n + j] = 8 / (b * 1e9);
    }

  const cumFlops = new Float64Array(L + 1);
  const cumParams = new Float64Array(L + 1);
  const cumStored = new Float64Array(L + 1);
  const actOut = new Float64Array(L);
  model.layers.forEach((layer, l) => {
    const f = layer.forwardFlopsPerSample;
    const pb = layer.paramBytes;
    const a = layer.activationBytesPerSample;
    if (!finitePositive(f) || !(pb >= 0) || !finitePositive(a)) throw new SchedulerInputError(`layer ${l}: flops and activation bytes must be positive, params ≥ 0`);
    const stored = layer.storedActivationBytesPerSample ?? DEFAULT_STORED_ACTIVATION_FACTOR * a;
    cumFlops[l + 1] = cumFlops[l]! + f;
    cumParams[l + 1] = cumParams[l]! + pb;
    cumStored[l + 1] = cumStored[l]! + stored;
    actOut[l] = a;
  });

  const microbatchSize = training.microbatchSize;
  const m = Math.max(1, Math.ceil(training.batchSize / (D * microbatchSize)));
  let meanAct = 0;
  for (let l = 0; l < L - 1; l++) meanAct += actOut[l]!;
  meanAct = L > 1 ? meanAct / (L - 1) : actOut[0]!;
  const bytes = meanAct * microbatchSize * codec.activationRatio;
  const edge = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const w = Math.max(lat[i * n + j]! + bytes * secPerByte[i * n + j]!, lat[j * n + i]! + bytes * secPerByte[j * n + i]!);
      edge[i * n + j] = w;
      edge[j * n + i] = w;
    }

  return {
    problem,
    n,
    P,
    D,
    L,
    ids: peers.map((p) => p.id),
    speed,
    memory,
    lat,
    secPerByte,
    cumFlops,
    cumParams,
    cumStored,
    actOut,
    backwardFactor: model.backwardFlopsFactor ?? DEFAULT_BACKWARD_FLOPS_FACTOR,
    stateFactor: model.stateBytesPerParamByte ?? DEFAULT_STATE_BYTES_PER_PARAM_BYTE,
    microbatchSize,
    m,
    schedule,
    activationRatio: codec.activationRatio,
    gradientRatio: codec.gradientRatio,
    edge,
  };
}

/** Memory a peer needs to hold layers [a, b) at pipeline position s, running m microbatches (bytes). */
export function stageMemory(inst: Instance, a: number, b: number, s: number, m = inst.m): number {
  const inflight = inst.schedule === 'gpipe' ? m : Math.min(m, inst.P - s);
  return inst.stateFactor * (inst.cumParams[b]! - inst.cumParams[a]!) + inflight * inst.microbatchSize * (inst.cumStored[b]! - inst.cumStored[a]!);
}
