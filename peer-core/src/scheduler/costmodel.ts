/**
 * The closed-form cost model of one training iteration (D replicas × P stages), and the
 * AMP-style dynamic programme over layer boundaries.
 *
 * Per replica (a chain of P peers), per microbatch: stage s computes f_s forward and
 * b_s = β f_s backward; boundary s→s+1 moves the activation (forward, on peer s's uplink)
 * and its gradient (backward, on peer s+1's uplink). Each peer sends one message at a time.
 *  - GPipe:  T = Σf + Σ(fwd transfers + latency) + (m-1)·max(f, fwd transfers)
 *              + Σb + Σ(bwd transfers + latency) + (m-1)·max(b, bwd transfers)
 *  - 1F1B:   T = R + max((m-1)·max(max(f+b), max uplink busy per microbatch),
 *                        max over k ≤ l with m > l-k+1 of ⌊(m-1)/(l-k+1)⌋·R_{k,l})
 *            with R = one microbatch's round trip (fill + drain) and R_{k,l} the round trip
 *            through stages k..l: 1F1B's task order makes that loop carry l-k+1 microbatches
 *            (l = P-1: stage k keeps at most P-k microbatches in flight).
 * Gradient all-reduce of stage s (reduce-scatter + all-gather, each peer sending its 1/D
 * shards one after another, as in DT-FM's data-parallel cost, timed message by message in
 * O(D²)) starts when the last replica finishes stage s's last backward, so it overlaps the
 * drain of earlier stages. That time is T minus the last microbatch's drain from s to stage 0
 * (1F1B), or the backward flow shop from the last stage down to s (GPipe: every microbatch
 * is ready there when the forwards end).
 * Replicas may run different microbatch counts (Layout.micro, balanceMicrobatches): each
 * replica's pipeline is timed with its own m.
 * The discrete-event simulator (simulator.ts) checks these formulas; it is not this file.
 */
import type { Instance } from './problem.ts';
import { stageMemory } from './problem.ts';
import type { CostBreakdown } from './types.ts';

export interface Layout {
  ranges: Array<[number, number]>;
  /** [stage][replica] = peer index. */
  assignment: number[][];
  /**
   * Microbatches of each replica (the batch split unevenly across replicas, slower replicas
   * taking fewer); absent: every replica runs inst.m.
   */
  micro?: ArrayLike<number>;
}

export interface Evaluation extends CostBreakdown {
  memoryViolations: number;
  /** Per replica: pipeline time. */
  pipeline: number[];
  /** Per stage: all-reduce duration. */
  allreduce: number[];
}

export interface PipelineEstimate {
  /** Pipeline time with communication. */
  T: number;
  /** Pipeline time with free communication. */
  T0: number;
  /** m × max(f + b). */
  busy: number;
  /** drain[s]: time from when stage s can start its all-reduce (last backward done, uplink free) to the end of the pipeline. */
  drain: Float64Array;
}

/** Cost of one replica's pipeline through `chain` (peer per stage). */
export function pipelineEstimate(inst: Instance, ranges: Array<[number, number]>, chain: ArrayLike<number>, m = inst.m): PipelineEstimate {
  const { P, n, lat, secPerByte, speed, microbatchSize: mb, backwardFactor: beta } = inst;
  let sumF = 0;
  let sumB = 0;
  let maxF = 0;
  let maxB = 0;
  let maxFB = 0;
  let sumTf = 0;
  let sumTb = 0;
  let maxTf = 0;
  let maxTb = 0;
  let maxUp = 0;
  const drain = new Float64Array(P);
  const f = new Float64Array(P);
  const tf = new Float64Array(P); // boundary s→s+1 forward transfer (incl. latency)
  const tb = new Float64Array(P); // boundary s→s+1 backward transfer (incl. latency)
  const xf = new Float64Array(P); // forward transfer busy time (no latency)
  const xb = new Float64Array(P);
  for (let s = 0; s < P; s++) {
    const [a, b] = ranges[s]!;
    const p = chain[s]!;
    f[s] = (mb * (inst.cumFlops[b]! - inst.cumFlops[a]!)) / speed[p]!;
    if (s < P - 1) {
      const q = chain[s + 1]!;
      const bytes = inst.actOut[b - 1]! * mb * inst.activationRatio;
      xf[s] = bytes * secPerByte[p * n + q]!;
      xb[s] = bytes * secPerByte[q * n + p]!;
      tf[s] = xf[s]! + lat[p * n + q]!;
      tb[s] = xb[s]! + lat[q * n + p]!;
    }
  }
  for (let s = 0; s < P; s++) {
    const fs = f[s]!;
    const bs = beta * fs;
    sumF += fs;
    sumB += bs;
    maxF = Math.max(maxF, fs);
    maxB = Math.max(maxB, bs);
    maxFB = Math.max(maxFB, fs + bs);
    sumTf += tf[s]!;
    sumTb += tb[s]!;
    maxTf = Math.max(maxTf, xf[s]!);
    maxTb = Math.max(maxTb, xb[s]!);
    const up = xf[s]! + (s > 0 ? xb[s - 1]! : 0);
    maxUp = Math.max(maxUp, up);
    if (s > 0) drain[s] = drain[s - 1]! + beta * f[s - 1]! + tb[s - 1]!;
  }
  let T: number;
  let T0: number;
  if (inst.schedule === 'gpipe') {
    const F = sumF + sumTf + (m - 1) * Math.max(maxF, maxTf);
    T = F + sumB + sumTb + (m - 1) * Math.max(maxB, maxTb);
    T0 = sumF + (m - 1) * maxF + sumB + (m - 1) * maxB;
    // Stage s's last backward ends when the backward flow shop from the last stage down to s
    // (all m microbatches ready at F) has passed: only the stages and links from s up count,
    // so a slow stage below s does not hold up the start of s's all-reduce.
    let sufB = 0;
    let sufTb = 0;
    let sufMax = 0;
    for (let s = P - 1; s >= 0; s--) {
      const bs = beta * f[s]!;
      sufB += bs;
      sufMax = Math.max(sufMax, bs);
      if (s < P - 1) {
        sufTb += tb[s]!;
        sufMax = Math.max(sufMax, xb[s]!);
      }
      // ... and its uplink has sent the last activation gradient to s-1 (the all-reduce queues behind it).
      const up = s > 0 ? xb[s - 1]! : 0;
      drain[s] = T - (F + sufB + sufTb + up + (m - 1) * Math.max(sufMax, up));
    }
  } else {
    const R = sumF + sumB + sumTf + sumTb;
    const R0 = sumF + sumB;
    // 1F1B's fixed task order couples stages: after B(i), stage k runs F(i+P-k), whose
    // activation reaches stage l > k, which runs B(i+l-k+1) next after it and sends it back
    // to k. So the round trip R_{k,l} through stages k..l (compute and transfers both ways)
    // carries l-k+1 microbatches: each segment bounds the pipeline's rate. (The segments
    // ending at the last stage are the in-flight limits: stage k holds at most P-k.)
    let cycle = 0;
    let cycle0 = 0;
    for (let k = P - 1; k >= 0; k--) {
      let rk = 0;
      let rk0 = 0;
      for (let l = k; l < P; l++) {
        rk0 += (1 + beta) * f[l]!;
        rk += (1 + beta) * f[l]! + (l > k ? tf[l - 1]! + tb[l - 1]! : 0);
        const w = l - k + 1;
        const rounds = segmentRounds(P, m, k, w);
        cycle = Math.max(cycle, rounds * rk);
        cycle0 = Math.max(cycle0, rounds * rk0);
      }
    }
    T = R + Math.max((m - 1) * Math.max(maxFB, maxUp), cycle);
    T0 = R0 + Math.max((m - 1) * maxFB, cycle0);
    // The all-reduce of stage s queues behind the last activation gradient on s's uplink.
    for (let s = 1; s < P; s++) drain[s] = drain[s]! - xb[s - 1]!;
  }
  return { T, T0, busy: m * maxFB, drain };
}

/**
 * Duration of a stage's gradient all-reduce among `group`: reduce-scatter then all-gather of
 * 1/D shards. Peer i sends its shards to i+1, i+2, ... back to back on its uplink; owner j
 * starts sending its reduced shard once the last of its D-1 inputs has arrived and its own
 * uplink is free. O(D²): the same message model as the simulator, in closed form.
 */
export function allreduceTime(inst: Instance, range: [number, number], group: ArrayLike<number>): number {
  const D = group.length;
  if (D <= 1) return 0;
  const { n, lat, secPerByte } = inst;
  const shard = ((inst.cumParams[range[1]]! - inst.cumParams[range[0]]!) * inst.gradientRatio) / D;
  const ready = new Float64Array(D); // owner j has all inputs of its shard
  const uplink = new Float64Array(D); // peer i's uplink is done with the reduce-scatter
  for (let i = 0; i < D; i++) {
    const p = group[i]!;
    let t = 0;
    for (let d = 1; d < D; d++) {
      const j = (i + d) % D;
      const q = group[j]!;
      t += shard * secPerByte[p * n + q]!;
      ready[j] = Math.max(ready[j]!, t + lat[p * n + q]!);
    }
    uplink[i] = t;
  }
  let end = 0;
  for (let j = 0; j < D; j++) {
    const p = group[j]!;
    let t = Math.max(ready[j]!, uplink[j]!);
    for (let d = 1; d < D; d++) {
      const q = group[(j + d) % D]!;
      t += shard * secPerByte[p * n + q]!;
      end = Math.max(end, t + lat[p * n + q]!);
    }
  }
  return end;
}

/** Count (stage, replica) slots whose peer cannot hold its stage. */
export function memoryViolations(inst: Instance, layout: Layout): number {
  let v = 0;
  for (let s = 0; s < inst.P; s++) {
    const [a, b] = layout.ranges[s]!;
    const row = layout.assignment[s]!;
    for (let r = 0; r < row.length; r++) if (stageMemory(inst, a, b, s, layout.micro?.[r] ?? inst.m) > inst.memory[row[r]!]!) v++;
  }
  return v;
}

/**
 * Uneven split of the batch across replicas: ⌈batch / microbatch⌉ microbatches in all, at
 * least one per replica, each given in turn to the replica whose predicted pipeline time
 * grows least (min-max of the replicas' pipeline times, the closed form above). Replicas
 * through slow GPUs or slow links take fewer microbatches; gradients are then averaged
 * weighted by samples. Returns null when there are fewer microbatches than replicas.
 */
export function balanceMicrobatches(inst: Instance, ranges: Array<[number, number]>, assignment: number[][]): Int32Array | null {
  const { P } = inst;
  const D = assignment[0]!.length;
  const total = Math.ceil(inst.problem.training.batchSize / inst.microbatchSize);
  if (total < D) return null;
  const micro = new Int32Array(D).fill(1);
  const curves: PipelineCurve[] = [];
  const nextT = new Float64Array(D);
  const chain = new Int32Array(P);
  for (let r = 0; r < D; r++) {
    for (let s = 0; s < P; s++) chain[s] = assignment[s]![r]!;
    const c = pipelineCurve(inst, ranges, chain);
    curves.push(c);
    nextT[r] = curveTime(c, 2);
  }
  for (let k = D; k < total; k++) {
    let best = 0;
    for (let r = 1; r < D; r++) if (nextT[r]! < nextT[best]!) best = r;
    micro[best]!++;
    nextT[best] = curveTime(curves[best]!, micro[best]! + 1);
  }
  return micro;
}

/** The parts of pipelineEstimate's T that do not depend on the microbatch count m. */
export interface PipelineCurve {
  gpipe: boolean;
  /** GPipe: T = base + (m-1)·slope. 1F1B: T = base + max((m-1)·slope, max over segments k with m > depth[k] of ⌊(m-1)/depth[k]⌋·roundTrip[k]). */
  base: number;
  slope: number;
  depth: Float64Array;
  roundTrip: Float64Array;
  /** 1F1B: first stage of each segment, and P. */
  first: Int32Array;
  stages: number;
}

/**
 * 1F1B: how many round trips R_{k,k+w-1} the pipeline must make one after another at stage k.
 * The segment ending at the last stage (w = P-k, the in-flight limit): (m-1)/w. An inner
 * segment chains B_k(i) → F_k(i+P-k) → ... → B_k(i+w) only while F_k(i+P-k) exists:
 * ⌊(m-1-(P-k))/w⌋ + 1 round trips.
 */
function segmentRounds(P: number, m: number, k: number, w: number): number {
  if (w === P - k) return m > w ? (m - 1) / w : 0;
  return m - 1 >= P - k ? Math.floor((m - 1 - (P - k)) / w) + 1 : 0;
}

/** pipelineEstimate's T as a function of m, for one chain (m-independent parts computed once). */
export function pipelineCurve(inst: Instance, ranges: Array<[number, number]>, chain: ArrayLike<number>): PipelineCurve {
  const est = pipelineEstimate(inst, ranges, chain, 1);
  const two = pipelineEstimate(inst, ranges, chain, 2);
  const { P } = inst;
  if (inst.schedule === 'gpipe') return { gpipe: true, base: est.T, slope: two.T - est.T, depth: new Float64Array(0), roundTrip: new Float64Array(0), first: new Int32Array(0), stages: P };
  // 1F1B: recompute the per-stage round trips (as in pipelineEstimate).
  const { n, lat, secPerByte, speed, microbatchSize: mb, backwardFactor: beta } = inst;
  const depth = new Float64Array((P * (P + 1)) / 2);
  const roundTrip = new Float64Array((P * (P + 1)) / 2);
  const first = new Int32Array((P * (P + 1)) / 2);
  let maxFB = 0;
  let maxUp = 0;
  let prevXb = 0;
  let rk = 0;
  const f = new Float64Array(P);
  const tf = new Float64Array(P);
  const tb = new Float64Array(P);
  for (let s = 0; s < P; s++) {
    const [a, b] = ranges[s]!;
    const p = chain[s]!;
    f[s] = (mb * (inst.cumFlops[b]! - inst.cumFlops[a]!)) / speed[p]!;
    maxFB = Math.max(maxFB, (1 + beta) * f[s]!);
    let xf = 0;
    let xb = 0;
    if (s < P - 1) {
      const q = chain[s + 1]!;
      const bytes = inst.actOut[b - 1]! * mb * inst.activationRatio;
      xf = bytes * secPerByte[p * n + q]!;
      xb = bytes * secPerByte[q * n + p]!;
      tf[s] = xf + lat[p * n + q]!;
      tb[s] = xb + lat[q * n + p]!;
    }
    maxUp = Math.max(maxUp, xf + prevXb);
    prevXb = xb;
  }
  let seg = 0;
  for (let k = P - 1; k >= 0; k--) {
    rk = 0;
    for (let l = k; l < P; l++) {
      rk += (1 + beta) * f[l]! + (l > k ? tf[l - 1]! + tb[l - 1]! : 0);
      depth[seg] = l - k + 1;
      first[seg] = k;
      roundTrip[seg++] = rk;
    }
  }
  return { gpipe: false, base: est.T, slope: Math.max(maxFB, maxUp), depth, roundTrip, first, stages: P };
}

/** Pipeline time of a PipelineCurve at m microbatches (equals pipelineEstimate(...).T). */
export function curveTime(c: PipelineCurve, m: number): number {
  if (c.gpipe) return c.base + (m - 1) * c.slope;
  let cycle = (m - 1) * c.slope;
  for (let k = 0; k < c.depth.length; k++) cycle = Math.max(cycle, segmentRounds(c.stages, m, c.first[k]!, c.depth[k]!) * c.roundTrip[k]!);
  return c.base + cycle;
}

/** Predicted iteration time of a layout, with its breakdown. */
export function evaluateLayout(inst: Instance, layout: Layout): Evaluation {
  const { P } = inst;
  const D = layout.assignment[0]!.length;
  const chain = new Int32Array(P);
  const stageEnd = new Float64Array(P);
  const pipeline: number[] = [];
  let crit: PipelineEstimate | undefined;
  for (let r = 0; r < D; r++) {
    for (let s = 0; s < P; s++) chain[s] = layout.assignment[s]![r]!;
    const est = pipelineEstimate(inst, layout.ranges, chain, layout.micro?.[r] ?? inst.m);
    pipeline.push(est.T);
    if (!crit || est.T > crit.T) crit = est;
    for (let s = 0; s < P; s++) stageEnd[s] = Math.max(stageEnd[s]!, est.T - est.drain[s]!);
  }
  const allreduce: number[] = [];
  let total = 0;
  for (let s = 0; s < P; s++) {
    const t = allreduceTime(inst, layout.ranges[s]!, layout.assignment[s]!);
    allreduce.push(t);
    total = Math.max(total, stageEnd[s]! + t);
  }
  const c = crit!;
  return {
    total,
    compute: c.busy,
    bubble: c.T0 - c.busy,
    pipelineComm: c.T - c.T0,
    dataParallelComm: total - c.T,
    memoryViolations: memoryViolations(inst, layout),
    pipeline,
    allreduce,
  };
}

/** Layers split as evenly as possible (DT-FM's fixed split): the first L mod P stages get one more. */
export function uniformRanges(L: number, P: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let a = 0;
  for (let s = 0; s < P; s++) {
    const len = Math.floor(L / P) + (s < L % P ? 1 : 0);
    out.push([a, a + len]);
    a += len;
  }
  return out;
}

/**
 * Non-uniform layer ranges for stage groups in pipeline order, by dynamic programming over
 * layer boundaries (as in AMP): first minimise the slowest stage's per-microbatch compute
 * time (a stage runs at its slowest member's speed and must fit in its smallest member's
 * memory, and optionally hold at most stageParamCap[s] parameter bytes so that its gradient
 * all-reduce stays short), then, under that bottleneck, minimise the sum of stage times
 * (pipeline fill).
 * Returns null when no split fits in memory.
 */
export function balancedRanges(
  inst: Instance,
  stageSpeed: ArrayLike<number>,
  stageMemoryCap: ArrayLike<number>,
  stageParamCap?: ArrayLike<number>,
): Array<[number, number]> | null {
  const { P, L } = inst;
  const cost = (s: number, a: number, b: number): number => {
    if (stageMemory(inst, a, b, s) > stageMemoryCap[s]!) return Number.POSITIVE_INFINITY;
    if (stageParamCap && inst.cumParams[b]! - inst.cumParams[a]! > stageParamCap[s]!) return Number.POSITIVE_INFINITY;
    return (inst.cumFlops[b]! - inst.cumFlops[a]!) / stageSpeed[s]!;
  };
  // Pass 1: minimax. best[s][l] = min over splits of layers [0,l) into stages 0..s of the max stage cost.
  const W = L + 1;
  const best = new Float64Array(P * W).fill(Number.POSITIVE_INFINITY);
  for (let l = 1; l <= L - (P - 1); l++) best[l] = cost(0, 0, l);
  for (let s = 1; s < P; s++)
    for (let l = s + 1; l <= L - (P - 1 - s); l++) {
      let v = Number.POSITIVE_INFINITY;
      for (let k = s; k < l; k++) {
        const prev = best[(s - 1) * W + k]!;
        if (prev >= v) continue;
        const c = Math.max(prev, cost(s, k, l));
        if (c < v) v = c;
      }
      best[s * W + l] = v;
    }
  const tau = best[(P - 1) * W + L]!;
  if (!Number.isFinite(tau)) return null;
  const cap = tau * (1 + 1e-9);
  // Pass 2: minimum sum of stage costs with every stage ≤ tau.
  const sum = new Float64Array(P * W).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(P * W).fill(-1);
  for (let l = 1; l <= L - (P - 1); l++) {
    const c = cost(0, 0, l);
    if (c <= cap) sum[l] = c;
  }
  for (let s = 1; s < P; s++)
    for (let l = s + 1; l <= L - (P - 1 - s); l++)
      for (let k = s; k < l; k++) {
        const prev = sum[(s - 1) * W + k]!;
        if (!Number.isFinite(prev)) continue;
        const c = cost(s, k, l);
        if (c > cap) continue;
        if (prev + c < sum[s * W + l]!) {
          sum[s * W + l] = prev + c;
          from[s * W + l] = k;
        }
      }
  const ranges: Array<[number, number]> = new Array(P);
  let l = L;
  for (let s = P - 1; s >= 0; s--) {
    const k = s === 0 ? 0 : from[s * W + l]!;
    ranges[s] = [k, l];
    l = k;
  }
  return ranges;
}
