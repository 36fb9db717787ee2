/**
 * In-process simulation of a gossip training job: N peers, each a concurrent async loop in ONE
 * process, on an InMemoryNetwork driven by a SimClock (virtual time: compute delays, link
 * latency and bandwidth, timeouts). Each peer runs local minibatch SGD on its own shard of a
 * ConvexProblem and calls its Averager after every step. Used by the gossip tests and by
 * `npm run bench -- convergence`.
 *
 * Not here: the real swarm (SwarmNode implements GossipTransport), the GPT model, or browsers.
 * This is a simulation: its numbers are evidence about the algorithms and codecs, not about
 * browser training.
 */
import type { CodecName } from '../codecs/types.ts';
import type { CodecSpec } from '../codecs/index.ts';
import { mulberry32 } from '../util/random.ts';
import { Adpsgd } from './adpsgd.ts';
import { AllReduce } from './allreduce.ts';
import type { AlgorithmName, Averager, GossipInit, RoundReport } from './base.ts';
import { Choco } from './choco.ts';
import { SimClock } from './clock.ts';
import { Dpsgd } from './dpsgd.ts';
import { GossipConfigError } from './errors.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';
import { InMemoryNetwork, type LinkFaults } from './memory.ts';
import type { ConvexProblem } from './problems.ts';
import type { TopologyKind } from './topology.ts';
import { WIRE_HEADER_BYTES } from '../codecs/constants.ts';

export interface AveragerOptions {
  gamma?: number;
  maxStaleness?: number;
}

/** Build an averager by name (the factory the job spec resolves to). */
export function createAverager(name: AlgorithmName, init: GossipInit & AveragerOptions): Averager {
  switch (name) {
    case 'allreduce':
      return new AllReduce(init);
    case 'dpsgd':
      return new Dpsgd(init);
    case 'choco':
      return new Choco(init);
    case 'adpsgd':
      return new Adpsgd(init);
    default:
      throw new GossipConfigError(`unknown algorithm '${String(name)}'`);
  }
}

export interface SimulationOptions extends AveragerOptions {
  problem: ConvexProblem;
  algorithm: AlgorithmName;
  codec?: CodecSpec | CodecName;
  topology?: TopologyKind;
  /** Local steps per peer. */
  steps: number;
  /** Learning rate, constant or per step. */
  lr: number | ((step: number) => number);
  /** Per-peer minibatch. */
  batch: number;
  /** Virtual compute time of one local step (ms). Default 10. */
  computeMs?: number;
  /** Peers (indices) whose compute is `factor`× slower. */
  slow?: { peers: number[]; factor: number };
  latencyMs?: number;
  bytesPerMs?: number;
  timingScale?: number;
  timeoutMs?: number;
  failureDetectMs?: number;
  faults?: LinkFaults;
  /**
   * Share one sample budget (peers × steps local steps) across the swarm instead of giving each
   * peer `steps`: fast peers do more steps, the lr schedule follows the swarm's total progress,
   * and the run ends when the budget is used. The natural budget for asynchronous training.
   */
  sampleBudget?: boolean;
  /** Crash these peers just before the given local step. */
  kill?: Array<{ peer: number; atStep: number }>;
  /** Stop the whole run (all peers) once the mean held-out loss reaches this. */
  stopAtLoss?: number;
  /** Record a curve point every this many equivalent steps (default 1). */
  evalEvery?: number;
  /** Record time-to-target for this loss. */
  targetLoss?: number;
  seed?: number;
  /** Called after every round of every peer. */
  onRound?: (peer: number, report: RoundReport) => void;
  /** Actions on the network at given virtual times (partitions, heals, joins...). */
  events?: Array<{ atMs: number; run: (net: InMemoryNetwork) => void }>;
  /** Abort with SimDeadlockError past this virtual time (ms). */
  maxTimeMs?: number;
}

export interface CurvePoint {
  /** Samples processed / (peers × batch): "steps" of the equivalent synchronous run. */
  step: number;
  timeMs: number;
  /** Bytes sent so far by all peers. */
  bytes: number;
  /** Mean over live peers of their own model's held-out loss. */
  loss: number;
  /** Held-out loss of the average model. */
  avgModelLoss: number;
  /** Mean squared distance of the peers' parameters to their mean. */
  consensus: number;
}

export interface SimulationResult {
  curve: CurvePoint[];
  /** Final held-out loss of each surviving peer's model. */
  peerLosses: number[];
  finalLoss: number;
  finalAvgModelLoss: number;
  finalConsensus: number;
  bytesSent: number;
  messagesSent: number;
  /** What the same messages would weigh with fp32 payloads (codec 'none'). */
  fp32Bytes: number;
  /** Virtual time each peer finished (killed peers: when killed). */
  finishMs: number[];
  /** Virtual time the mean held-out loss first reached `targetLoss`. */
  timeToTargetMs?: number;
  missing: number;
  rejected: number;
  staleDropped: number;
  /** Bytes sent by each peer, from the ledgers. */
  bytesByPeer: number[];
  /** Mailbox counters summed over peers (duplicates and stale messages dropped, bad frames). */
  mailbox: { delivered: number; duplicates: number; stale: number; rejectedFrames: number };
  params: Float32Array[];
}

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const { problem } = o;
  const N = problem.peers;
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new GossipConfigError(`steps must be a positive integer, got ${o.steps}`);
  const clock = new SimClock();
  const net = new InMemoryNetwork({ clock, latencyMs: o.latencyMs, bytesPerMs: o.bytesPerMs, timingScale: o.timingScale, failureDetectMs: o.failureDetectMs, faults: o.faults, seed: o.seed });
  const ids = Array.from({ length: N }, (_, i) => `peer-${String(i).padStart(2, '0')}`);
  const transports = ids.map((id) => net.join(id));
  const averagers = transports.map((transport) => createAverager(o.algorithm, { transport, codec: o.codec, topology: o.topology, timeoutMs: o.timeoutMs, gamma: o.gamma, maxStaleness: o.maxStaleness }));
  const x0 = new Float32Array(problem.dim);
  const params = ids.map(() => x0.slice());
  const alive = ids.map(() => true);
  const done = ids.map(() => false);
  const stepsDone = ids.map(() => 0);
  const finishMs = ids.map(() => 0);
  const lr = typeof o.lr === 'number' ? () => o.lr as number : o.lr;
  const curve: CurvePoint[] = [];
  let missing = 0;
  let rejected = 0;
  let staleDropped = 0;
  let recorded = -1;
  let timeToTargetMs: number | undefined;
  let stopAll = false;

  const bytesSoFar = () => transports.reduce((s, t) => s + t.ledger.total({ dir: 'sent' }).bytes, 0);
  const evaluate = (): Omit<CurvePoint, 'step' | 'timeMs' | 'bytes'> => {
    const live = params.filter((_, i) => alive[i]);
    const mean = new Float32Array(problem.dim);
    for (const p of live) for (let k = 0; k < mean.length; k++) mean[k] += p[k] / live.length;
    let consensus = 0;
    for (const p of live) for (let k = 0; k < mean.length; k++) consensus += (p[k] - mean[k]) ** 2 / live.length;
    const loss = live.reduce((s, p) => s + problem.heldOutLoss(p), 0) / live.length;
    return { loss, avgModelLoss: problem.heldOutLoss(mean), consensus };
  };
  const totalSteps = () => stepsDone.reduce((a, v) => a + v, 0);
  const record = (force = false) => {
    const liveCount = alive.filter(Boolean).length;
    const total = stepsDone.reduce((s, v, i) => s + (alive[i] ? v : 0), 0);
    const eq = Math.floor(total / liveCount);
    if (!force && (eq <= recorded || eq % (o.evalEvery ?? 1) !== 0)) return;
    recorded = eq;
    const point = { step: eq, timeMs: clock.now(), bytes: bytesSoFar(), ...evaluate() };
    curve.push(point);
    if (o.targetLoss !== undefined && timeToTargetMs === undefined && point.loss <= o.targetLoss) timeToTargetMs = point.timeMs;
    if (o.stopAtLoss !== undefined && point.loss <= o.stopAtLoss) stopAll = true;
  };
  record(true);

  const peerLoop = async (i: number) => {
    const x = params[i];
    const avg = averagers[i];
    const rand = mulberry32((o.seed ?? 1) * 7919 + i);
    const slowFactor = o.slow?.peers.includes(i) ? o.slow.factor : 1;
    avg.init(x);
    const budget = N * o.steps;
    const maxOwn = o.sampleBudget ? 8 * o.steps : o.steps;
    for (let t = 0; t < maxOwn && !stopAll; t++) {
      if (o.sampleBudget && totalSteps() >= budget) break;
      if (o.kill?.some((k) => k.peer === i && k.atStep === t)) {
        alive[i] = false;
        net.kill(ids[i]);
        avg.stop();
        finishMs[i] = clock.now();
        return;
      }
      const version = avg instanceof Adpsgd ? avg.version : 0;
      const g = problem.grad(i, x, o.batch, rand);
      await clock.sleep((o.computeMs ?? 10) * slowFactor);
      if (avg instanceof Adpsgd && avg.isStale(version)) staleDropped++;
      else {
        // with a shared sample budget, the schedule follows the swarm's progress, not this peer's
        const eta = lr(o.sampleBudget ? Math.min(o.steps - 1, Math.floor(totalSteps() / N)) : t);
        for (let k = 0; k < x.length; k++) x[k] -= eta * g[k];
      }
      const rep = await avg.mix(x, t);
      o.onRound?.(i, rep);
      missing += rep.missing.length;
      rejected += rep.rejected.length;
      stepsDone[i] = t + 1;
      record();
    }
    done[i] = true;
    finishMs[i] = clock.now();
  };

  for (const ev of o.events ?? []) void clock.sleep(ev.atMs).then(() => ev.run(net));
  await clock.run(Promise.all(ids.map((_, i) => peerLoop(i))), o.maxTimeMs);
  for (const a of averagers) a.stop();
  record(true);
  const last = curve[curve.length - 1];
  const liveIdx = ids.map((_, i) => i).filter((i) => alive[i]);
  const fp32Frame = (msgs: number, tensorBytes: number) => msgs * (FRAME_HEADER_BYTES + tensorBytes + WIRE_HEADER_BYTES + 4 * problem.dim);
  let bytesSent = 0;
  let messagesSent = 0;
  for (const t of transports) {
    const tot = t.ledger.total({ dir: 'sent' });
    bytesSent += tot.bytes;
    messagesSent += tot.messages;
  }
  const tensorBytes = new TextEncoder().encode('params').length;
  return {
    curve,
    peerLosses: liveIdx.map((i) => problem.heldOutLoss(params[i])),
    finalLoss: last.loss,
    finalAvgModelLoss: last.avgModelLoss,
    finalConsensus: last.consensus,
    bytesSent,
    messagesSent,
    fp32Bytes: fp32Frame(messagesSent, tensorBytes),
    finishMs,
    timeToTargetMs,
    missing,
    rejected,
    staleDropped,
    bytesByPeer: transports.map((t) => t.ledger.total({ dir: 'sent' }).bytes),
    mailbox: transports.reduce(
      (acc, t) => {
        for (const k of ['delivered', 'duplicates', 'stale', 'rejectedFrames'] as const) acc[k] += t.mailbox.stats[k];
        return acc;
      },
      { delivered: 0, duplicates: 0, stale: 0, rejectedFrames: 0 },
    ),
    params,
  };
}

/** The single-peer baseline at equal samples: one peer, global minibatch peers×batch, same steps. */
export function runSinglePeer(o: Pick<SimulationOptions, 'problem' | 'steps' | 'lr' | 'batch' | 'seed' | 'evalEvery'>): { curve: Array<{ step: number; loss: number }>; finalLoss: number; params: Float32Array } {
  const { problem } = o;
  const x = new Float32Array(problem.dim);
  const rand = mulberry32((o.seed ?? 1) * 104729);
  const lr = typeof o.lr === 'number' ? () => o.lr as number : o.lr;
  const curve = [{ step: 0, loss: problem.heldOutLoss(x) }];
  for (let t = 0; t < o.steps; t++) {
    const g = problem.gradGlobal(x, o.batch * problem.peers, rand);
    const eta = lr(t);
    for (let k = 0; k < x.length; k++) x[k] -= eta * g[k];
    if ((t + 1) % (o.evalEvery ?? 1) === 0 || t + 1 === o.steps) curve.push({ step: t + 1, loss: problem.heldOutLoss(x) });
  }
  return { curve, finalLoss: curve[curve.length - 1].loss, params: x };
}
