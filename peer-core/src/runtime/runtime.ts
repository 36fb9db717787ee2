/**
 * PeerRuntime: the training loop of one job on one peer. Per step:
 *   local step (trainStep on this peer's shard) → compress → exchange → mix (the job's
 *   algorithm: allreduce, dpsgd, choco or adpsgd, gossip/) → events for the UI.
 *
 * The parameters live in one host vector `x` (the model's flat buffer); the backend computes the
 * step, `x` receives it, the averager mixes `x`, and the model is reloaded from `x`. For AD-PSGD
 * the averager's responder mixes into `x` concurrently, so the local step is applied as a delta
 * (x += y - x_before), and dropped when it is staler than the staleness bound; and, unless the
 * job sets `algorithm.overlap: false`, the peer's own exchange runs in the background while the
 * next local step computes (AD-PSGD's parallel gradient and averaging): the loop waits for the
 * previous exchange only before it starts the next one, so one exchange is in flight at a time.
 *
 * Entering the job (start and every resume): the peer announces 'joining' (nobody waits on it),
 * pulls the current parameters and step from a training neighbour (`model-pull`, answered by every
 * training peer's model server), initialises its averager, then announces 'training'. When no peer
 * is training yet, it waits up to startWaitMs for spec.peers.min peers and starts from the shared
 * initialisation x0 (model.initSeed) at step 0.
 *
 * Faults: a neighbour that does not answer in a round is left out after the algorithm's timeout;
 * when it disappears from the roster (SwarmNode leave detection), the topology re-forms. Steps of
 * synchronous algorithms are the swarm's round numbers: a peer that sees a higher round from a
 * member jumps to it, so a late or slow peer re-aligns instead of timing out every round.
 *
 * Compute limit: after a local step that took c ms, the loop sleeps c·(1/limit − 1) ms, so the
 * share of wall time spent computing is at most `limit`.
 *
 * Not here: pipeline stages (one replica per peer), the web UI, job authority (signatures: the
 * caller decides which job to run).
 */
import type { Backend } from '../backend/types.ts';
import { InlineCompute, type LocalCompute } from './compute.ts';
import type { TokenDataset } from '../data/dataset.ts';
import { createCodec } from '../codecs/index.ts';
import { decodeWire, encodeWire } from '../codecs/wire.ts';
import { Adpsgd } from '../gossip/adpsgd.ts';
import { AllReduce } from '../gossip/allreduce.ts';
import type { Averager, RoundReport } from '../gossip/base.ts';
import { Choco } from '../gossip/choco.ts';
import { Dpsgd } from '../gossip/dpsgd.ts';
import { jobGossipOptions } from '../job/index.ts';
import type { JobSpec } from '../job/schema.ts';
import { fnv1a32 } from '../util/hash.ts';
import type { Batch } from '../train/train.ts';
import { RUNTIME_DEFAULTS } from './constants.ts';
import { jobDataset, type Shard, ShardSampler } from './data.ts';
import { RuntimeConfigError, RuntimeStateError } from './errors.ts';
import type { JobTransport } from './transport.ts';
import { sleep } from '../util/sleep.ts';

export { lrSchedule } from './schedule.ts';

export type RuntimeState = 'idle' | 'loading' | 'waiting' | 'joining' | 'training' | 'paused' | 'stopped' | 'done' | 'failed';

export interface PeerRuntimeInit {
  spec: JobSpec;
  transport: JobTransport;
  /** Compute backend, or a factory; default the wasm backend. Ignored when `compute` is given. */
  backend?: Backend | (() => Promise<Backend>);
  /** Where the model and optimizer run (compute.ts): default an InlineCompute on `backend` (this
   *  thread). A WorkerCompute keeps the thread of the network free while a step computes. The
   *  runtime disposes it when the run ends. */
  compute?: LocalCompute;
  /** The job's corpus: a ready dataset, its text, or a loader (default: fetch /corpora/<name>.txt). */
  dataset?: TokenDataset;
  text?: string;
  loadText?: (corpus: JobSpec['dataset']['corpus']) => Promise<string>;
  /** This peer's shard; default: its rank among the job's peers at start, of peers.max shards. */
  shard?: Shard;
  /** Share of wall time spent computing, in (0, 1]. Default 1. */
  computeLimit?: number;
  /**
   * Emulated device speed, for benchmarks that run many peers on one machine: a local step takes
   * at least this long (ms). After computing the step (c ms) the loop waits the remaining
   * deviceStepMs − c before it applies the step and exchanges, as a device that needs
   * deviceStepMs per step would; while waiting it uses no CPU, so peers of one machine keep
   * distinct speeds without taking CPU from each other. 0 (default): off.
   */
  deviceStepMs?: number;
  /** Peers to wait for before a fresh start (default spec.peers.min). */
  minPeers?: number;
  startWaitMs?: number;
  pullTimeoutMs?: number;
  /** Held-out batches per evaluation (default 4). */
  evalBatches?: number;
  /** Frees the backend at the end when the runtime created it (default true; InlineCompute only). */
  disposeBackend?: boolean;
}

export interface StepEvent {
  step: number;
  loss: number;
  lr: number;
  /** Wall time of the whole step, of the local computation (the real one: an emulated device's
   *  wait, deviceStepMs, counts in `ms` only), and of the exchange (ms). With
   *  AD-PSGD's overlap, commMs is the wait for the previous exchange and the mix counts
   *  (neighbours, mixed, missing, rejected) are that exchange's. */
  ms: number;
  computeMs: number;
  commMs: number;
  tokens: number;
  tokensPerSecond: number;
  /** Gossip bytes since the previous step event (wire size; joins included) and totals since the start. */
  bytesUp: number;
  bytesDown: number;
  bytesUpTotal: number;
  bytesDownTotal: number;
  /** Training peers in view (self included), and this round's neighbours / mixed / missing. */
  peers: number;
  neighbours: number;
  mixed: number;
  missing: number;
  rejected: number;
  /** AD-PSGD local steps dropped as too stale so far. */
  staleDropped: number;
}

export interface EvalEvent {
  step: number;
  heldOutLoss: number;
}

export interface RunSummary {
  reason: 'maxSteps' | 'targetLoss' | 'maxMinutes' | 'stopped';
  steps: number;
  localSteps: number;
  lastLoss: number;
  heldOutLoss: number;
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  joinedFrom?: string;
}

export interface RuntimeStats {
  state: RuntimeState;
  step: number;
  localSteps: number;
  lastLoss: number;
  heldOutLoss: number;
  bytesUp: number;
  bytesDown: number;
  peers: string[];
  computeLimit: number;
  joinedFrom?: string;
  backend?: string;
  /** The training shard this peer samples (set when it starts training). */
  shard?: Shard;
}


/** Let timers and network callbacks run: a step of a CPU backend may otherwise never yield. */
const yieldMacrotask: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : () =>
        new Promise((r) => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => r();
          ch.port2.postMessage(0);
        });

/** The averager a job asks for, on `transport`. */
export function createAverager(spec: JobSpec, transport: JobTransport): Averager {
  const o = jobGossipOptions(spec);
  const base = { transport, codec: o.codec, topology: o.topology, topologyOptions: o.topologyOptions, timeoutMs: o.timeoutMs, deflate: o.deflate };
  switch (spec.algorithm.name) {
    case 'allreduce':
      return new AllReduce(base);
    case 'dpsgd':
      return new Dpsgd(base);
    case 'choco':
      // Every peer of a fresh start holds the same x0, so the public copies start there.
      return new Choco({ ...base, gamma: o.gamma, sharedInit: true });
    case 'adpsgd':
      return new Adpsgd({ ...base, maxStaleness: o.maxStaleness });
  }
}

async function defaultLoadText(corpus: string): Promise<string> {
  const r = await fetch(`/corpora/${corpus}.txt`);
  if (!r.ok) throw new RuntimeConfigError(`fetching /corpora/${corpus}.txt: HTTP ${r.status}`);
  return r.text();
}

export class PeerRuntime extends EventTarget {
  readonly spec: JobSpec;
  readonly transport: JobTransport;
  private readonly init: PeerRuntimeInit;
  private stateValue: RuntimeState = 'idle';
  private computeLimit: number;
  private compute: LocalCompute | undefined;
  private averager: Averager | undefined;
  private sampler: ShardSampler | undefined;
  private dataset: TokenDataset | undefined;
  private heldOut: Batch[] = [];
  private x: Float32Array | undefined;
  private step = 0;
  private localSteps = 0;
  private lastLoss = Number.NaN;
  private heldOutLoss = Number.NaN;
  private staleDropped = 0;
  /** x is still the shared initialisation x0 (model.initSeed): no local step, no pull, no mix yet. */
  private atInit = true;
  private joinedFrom: string | undefined;
  private pauseRequested = false;
  private stopRequested = false;
  private resumeWake: (() => void) | undefined;
  private readonly serverAbort = new AbortController();
  private running: Promise<RunSummary> | undefined;
  /** Ledger totals at the last step event (a step reports everything sent since). */
  private reportedUp = 0;
  private reportedDown = 0;
  private readonly pendingPulls: { from: string; seq: number }[] = [];
  private t0 = 0;

  constructor(init: PeerRuntimeInit) {
    super();
    this.init = init;
    this.spec = init.spec;
    this.transport = init.transport;
    this.computeLimit = init.computeLimit ?? RUNTIME_DEFAULTS.computeLimit;
    this.checkLimit(this.computeLimit);
    const d = init.deviceStepMs ?? 0;
    if (!(d >= 0 && Number.isFinite(d))) throw new RuntimeConfigError(`deviceStepMs must be a finite number ≥ 0, got ${d}`);
  }

  get state(): RuntimeState {
    return this.stateValue;
  }

  /** Start training; resolves when the job ends for this peer (or it is stopped). */
  start(): Promise<RunSummary> {
    if (this.running) throw new RuntimeStateError('PeerRuntime already started');
    this.running = this.run().catch((e: unknown) => {
      this.setState('failed');
      this.emit('error', { error: `${(e as Error).name}: ${(e as Error).message}` });
      throw e;
    });
    return this.running;
  }

  /** Leave the topology and idle until resume() (others stop waiting on this peer). */
  pause(): void {
    this.pauseRequested = true;
  }

  resume(): void {
    this.pauseRequested = false;
    this.resumeWake?.();
  }

  /** Stop after the current step; resolves with the summary. */
  async stop(): Promise<RunSummary | undefined> {
    this.stopRequested = true;
    this.resumeWake?.();
    return this.running?.catch(() => undefined);
  }

  setComputeLimit(limit: number): void {
    this.checkLimit(limit);
    this.computeLimit = limit;
  }

  /** A copy of the current parameters (this peer's replica). */
  params(): Float32Array | undefined {
    return this.x?.slice();
  }

  stats(): RuntimeStats {
    return {
      state: this.stateValue,
      step: this.step,
      localSteps: this.localSteps,
      lastLoss: this.lastLoss,
      heldOutLoss: this.heldOutLoss,
      bytesUp: this.transport.ledger.total({ dir: 'sent' }).bytes,
      bytesDown: this.transport.ledger.total({ dir: 'received' }).bytes,
      peers: this.transport.members(),
      computeLimit: this.computeLimit,
      joinedFrom: this.joinedFrom,
      backend: this.compute?.backendName,
      shard: this.sampler?.shard,
    };
  }

  /** Typed listener helper: `rt.on('step', (e) => ...)`. */
  on<K extends keyof RuntimeEventMap>(type: K, cb: (detail: RuntimeEventMap[K]) => void): () => void {
    const f = (e: Event) => cb((e as CustomEvent<RuntimeEventMap[K]>).detail);
    this.addEventListener(type, f);
    return () => this.removeEventListener(type, f);
  }

  // ---- internals

  private checkLimit(limit: number): void {
    if (!(limit > 0 && limit <= 1)) throw new RuntimeConfigError(`computeLimit must be in (0, 1], got ${limit}`);
  }

  private emit<K extends keyof RuntimeEventMap>(type: K, detail: RuntimeEventMap[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  private setState(s: RuntimeState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.emit('state', { state: s });
  }

  private async setup(): Promise<void> {
    const spec = this.spec;
    this.setState('loading');
    this.compute = this.init.compute ?? new InlineCompute({ backend: this.init.backend, disposeBackend: this.init.disposeBackend });
    const ds = this.init.dataset ?? (await jobDataset(spec, this.init.text ?? (await (this.init.loadText ?? defaultLoadText)(spec.dataset.corpus))));
    if (ds.vocabSize > spec.model.vocabSize) throw new RuntimeConfigError(`dataset vocabulary ${ds.vocabSize} exceeds model.vocabSize ${spec.model.vocabSize}`);
    this.x = await this.compute.init(spec);
    this.heldOut = ds.evalBatches('heldOut', spec.batch.perPeer, spec.model.contextLength, this.init.evalBatches ?? RUNTIME_DEFAULTS.evalBatches);
    this.averager = createAverager(spec, this.transport);
    this.dataset = ds;
    // With a fixed shard, build the sampler now (a shard too small for one window fails early);
    // otherwise the shard is this peer's rank among the job's peers once they are in view (enter).
    if (this.init.shard) this.sampler = new ShardSampler(ds, spec, this.init.shard, this.samplerSeed());
    void this.serveModel();
  }

  private samplerSeed(): number {
    return (this.spec.dataset.seed * 0x9e3779b1) ^ fnv1a32(this.transport.self);
  }

  /**
   * Shard = rank among the job's peers now, out of peers.max (contiguous sharding). Called when
   * this peer starts training (enter), not at setup: peers pick a job up at different times, and a
   * rank taken before the others are in view gives several peers the same shard (each peer that
   * sees only the peers above it in the order takes index 0), so the swarm trains on a few pieces
   * of the split many times and never on the others.
   */
  private rankShard(): Shard {
    const ids = [this.transport.self, ...this.transport.roster().keys()].sort();
    return { index: ids.indexOf(this.transport.self) % this.spec.peers.max, count: this.spec.peers.max };
  }

  private async run(): Promise<RunSummary> {
    try {
      return await this.train();
    } finally {
      this.compute?.dispose();
    }
  }

  private async train(): Promise<RunSummary> {
    await this.setup();
    const spec = this.spec;
    const x = this.x!;
    const compute = this.compute!;
    const averager = this.averager!;
    const sync = spec.algorithm.name !== 'adpsgd';
    const overlap = averager instanceof Adpsgd && spec.algorithm.overlap !== false;
    // The exchange in flight (overlap): settled into a value so that a failure waits for the await.
    let inFlight: Promise<{ report: RoundReport } | { error: unknown }> | undefined;
    const settle = async (): Promise<RoundReport | undefined> => {
      if (!inFlight) return undefined;
      const r = await inFlight;
      inFlight = undefined;
      if ('error' in r) throw r.error;
      return r.report;
    };
    const tokensPerStep = spec.batch.perPeer * spec.batch.gradAccumulation * spec.model.contextLength;
    this.t0 = performance.now();
    await this.enter();
    if (this.localSteps === 0) await this.evaluate();
    let reason: RunSummary['reason'] = 'maxSteps';
    while (this.step < spec.stopping.maxSteps) {
      if (this.stopRequested) {
        reason = 'stopped';
        break;
      }
      if (spec.stopping.maxMinutes !== undefined && performance.now() - this.t0 > spec.stopping.maxMinutes * 60_000) {
        reason = 'maxMinutes';
        break;
      }
      if (this.pauseRequested) {
        await settle();
        this.transport.setState('paused');
        this.setState('paused');
        while (this.pauseRequested && !this.stopRequested) await new Promise<void>((r) => (this.resumeWake = r));
        this.resumeWake = undefined;
        if (this.stopRequested) continue;
        await this.enter();
        continue;
      }
      await yieldMacrotask();
      if (sync) this.step = Math.max(this.step, this.transport.highestStep());
      const tStart = performance.now();
      // Local step on x.
      const before = x.slice();
      const version0 = averager instanceof Adpsgd ? averager.version : 0;
      const batches = Array.from({ length: spec.batch.gradAccumulation }, () => this.sampler!.next());
      const res = await compute.step(before, this.step, batches);
      const y = res.y;
      const computeMs = performance.now() - tStart;
      // An emulated slower device: the step's result exists only after deviceStepMs.
      const deviceMs = this.init.deviceStepMs ?? 0;
      if (deviceMs > computeMs) await sleep(deviceMs - computeMs);
      if (averager instanceof Adpsgd && averager.isStale(version0)) this.staleDropped++;
      else for (let i = 0; i < x.length; i++) x[i] += y[i] - before[i];
      this.lastLoss = res.loss;
      this.localSteps++;
      this.atInit = false;
      // Exchange and mix.
      const tComm = performance.now();
      let report: RoundReport | undefined;
      if ((this.step + 1) % spec.mixing.everySteps === 0 && !this.stopRequested) {
        if (overlap) {
          // The previous exchange (it ran during this step's computation), then the next one.
          report = await settle();
          inFlight = averager.mix(x, this.step).then(
            (r) => ({ report: r }),
            (error: unknown) => ({ error }),
          );
        } else report = await averager.mix(x, this.step);
      }
      const commMs = performance.now() - tComm;
      this.step++;
      this.answerPulls();
      const up1 = this.transport.ledger.total({ dir: 'sent' }).bytes;
      const down1 = this.transport.ledger.total({ dir: 'received' }).bytes;
      const [up0, down0] = [this.reportedUp, this.reportedDown];
      this.reportedUp = up1;
      this.reportedDown = down1;
      if (this.computeLimit < 1) await sleep(computeMs * (1 / this.computeLimit - 1));
      const ms = performance.now() - tStart;
      this.emit('step', {
        step: this.step,
        loss: res.loss,
        lr: res.lr,
        ms,
        computeMs,
        commMs,
        tokens: tokensPerStep,
        tokensPerSecond: (tokensPerStep * 1000) / ms,
        bytesUp: up1 - up0,
        bytesDown: down1 - down0,
        bytesUpTotal: up1,
        bytesDownTotal: down1,
        peers: this.transport.members().length,
        neighbours: report?.neighbours.length ?? 0,
        mixed: report?.mixed.length ?? 0,
        missing: report?.missing.length ?? 0,
        rejected: report?.rejected.length ?? 0,
        staleDropped: this.staleDropped,
      });
      const last = this.step >= spec.stopping.maxSteps;
      if (this.step % spec.stopping.evalEverySteps === 0 || last) {
        await this.evaluate();
        if (spec.stopping.targetLoss !== undefined && this.heldOutLoss <= spec.stopping.targetLoss) {
          reason = 'targetLoss';
          break;
        }
      }
    }
    await settle();
    if (!Number.isFinite(this.heldOutLoss) || reason !== 'maxSteps') await this.evaluate();
    this.transport.setState('done');
    this.serverAbort.abort();
    averager.stop();
    this.setState(reason === 'stopped' ? 'stopped' : 'done');
    const summary: RunSummary = {
      reason,
      steps: this.step,
      localSteps: this.localSteps,
      lastLoss: this.lastLoss,
      heldOutLoss: this.heldOutLoss,
      bytesUp: this.transport.ledger.total({ dir: 'sent' }).bytes,
      bytesDown: this.transport.ledger.total({ dir: 'received' }).bytes,
      seconds: (performance.now() - this.t0) / 1000,
      joinedFrom: this.joinedFrom,
    };
    this.emit('done', summary);
    return summary;
  }

  private async evaluate(): Promise<void> {
    this.heldOutLoss = await this.compute!.evaluate(this.x!, this.heldOut);
    this.emit('eval', { step: this.step, heldOutLoss: this.heldOutLoss });
  }

  /** Join (or re-join) the job: pull the current model from a training peer if there is one. */
  private async enter(): Promise<void> {
    const t = this.transport;
    t.setState('joining');
    this.setState('waiting');
    const training = () => [...t.roster()].filter(([, s]) => s === 'training').map(([p]) => p);
    const minPeers = this.init.minPeers ?? this.spec.peers.min;
    const startWait = this.init.startWaitMs ?? RUNTIME_DEFAULTS.startWaitMs;
    const fresh = this.localSteps === 0 && training().length === 0;
    if (fresh) {
      const end = performance.now() + startWait;
      while (t.roster().size + 1 < minPeers && training().length === 0 && performance.now() < end && !this.stopRequested) await sleep(100);
    }
    this.setState('joining');
    let pulled = false;
    for (const from of fresh && training().length === 0 ? [] : training().sort()) {
      const got = await this.pull(from);
      if (!got) continue;
      // `from` is still at the shared initialisation x0 (step 0), which this peer holds too: a
      // fresh start together with it, not a join (nothing was transferred but the answer).
      if (got === AT_INIT) break;
      this.x!.set(got.x);
      this.atInit = false;
      this.step = Math.max(this.step, got.step);
      this.joinedFrom = from;
      pulled = true;
      this.emit('joined', { from, step: got.step });
      break;
    }
    if (!pulled && this.localSteps === 0) {
      // Fresh start from x0: announce 'training', then wait (answering pulls) until the others
      // are in view too, so the first rounds already have their neighbours.
      t.setState('training');
      const end = performance.now() + startWait;
      while (t.members().length < minPeers && performance.now() < end && !this.stopRequested) {
        this.answerPulls();
        await sleep(100);
      }
    }
    // The shard, once: after a fresh start's wait every peer of the job sees the same roster, so
    // the ranks are distinct. A joiner ranks itself among the peers it sees (it may share a shard).
    if (!this.sampler) {
      this.sampler = new ShardSampler(this.dataset!, this.spec, this.rankShard(), this.samplerSeed());
    }
    // Pulled from a training peer, or resuming after a pause: the others have been mixing.
    this.averager!.init(this.x!, { joining: pulled || this.localSteps > 0 });
    t.setState('training');
    this.setState('training');
  }

  /**
   * Ask `from` for its parameters and step; undefined on timeout or a bad answer. AT_INIT when
   * `from` is still at the shared initialisation (step 0) and so is this peer (see answerPulls).
   */
  private async pull(from: string): Promise<{ x: Float32Array; step: number } | typeof AT_INIT | undefined> {
    const t = this.transport;
    const seq = (Math.random() * 0x7fffffff) >>> 0;
    t.send(from, { kind: 'model-pull', step: seq, tensor: PULL_TENSOR, flags: 0, body: new Uint8Array(0) });
    const m = await t.recv({ kind: 'model', from, step: seq, tensor: PULL_TENSOR }, this.init.pullTimeoutMs ?? RUNTIME_DEFAULTS.pullTimeoutMs);
    if (!m) return undefined;
    if (m.flags & FLAG_AT_INIT) return this.atInit && m.body.byteLength === 0 ? AT_INIT : undefined;
    try {
      const enc = decodeWire(m.body);
      const v = createCodec(enc.codec).decompress(enc);
      const n = this.x!.length;
      if (v.length !== n + 1) return undefined;
      const step = v[n];
      if (!Number.isInteger(step) || step < 0) return undefined;
      for (let i = 0; i < n; i++) if (!Number.isFinite(v[i])) return undefined;
      return { x: v.subarray(0, n), step };
    } catch {
      return undefined;
    }
  }

  /**
   * Collect model pulls; they are answered at the next round boundary (answerPulls, after the
   * mix), so a joiner gets a consistent post-mix state (allreduce needs the exact common base).
   */
  private async serveModel(): Promise<void> {
    const signal = this.serverAbort.signal;
    while (!signal.aborted) {
      const m = await this.transport.recv({ kind: 'model-pull', tensor: PULL_TENSOR }, Number.POSITIVE_INFINITY, signal);
      if (m) this.pendingPulls.push({ from: m.from, seq: m.step });
      else await sleep(50); // a closed transport answers at once: do not spin
    }
  }

  /**
   * Answer queued pulls with [x, step] (fp32), if this peer is training. While this peer is still
   * at the shared initialisation x0 (model.initSeed, step 0, nothing mixed), the answer is an
   * empty body flagged FLAG_AT_INIT: every peer builds x0 itself, so fresh peers starting
   * together exchange no parameters (a peer that has trained would ignore it and pull elsewhere).
   */
  private answerPulls(): void {
    const t = this.transport;
    if (!this.pendingPulls.length || t.state !== 'training' || !this.x) return;
    const mixedAsync = this.averager instanceof Adpsgd && this.averager.version > 0;
    if (this.atInit && this.step === 0 && !mixedAsync) {
      for (const p of this.pendingPulls.splice(0)) t.send(p.from, { kind: 'model', step: p.seq, tensor: PULL_TENSOR, flags: FLAG_AT_INIT, body: new Uint8Array(0) });
      return;
    }
    const v = new Float32Array(this.x.length + 1);
    v.set(this.x);
    v[this.x.length] = this.step;
    const body = encodeWire(createCodec('none').compress(v));
    for (const p of this.pendingPulls.splice(0)) t.send(p.from, { kind: 'model', step: p.seq, tensor: PULL_TENSOR, flags: 0, body });
  }
}

/** Tensor name of model pulls (parameters plus the step as one extra float). */
export const PULL_TENSOR = 'params+step';
/** flags of a `model` answer: "I am still at the shared initialisation x0, step 0" (empty body). */
export const FLAG_AT_INIT = 4;
const AT_INIT = Symbol('at-init');


export interface RuntimeEventMap {
  state: { state: RuntimeState };
  step: StepEvent;
  eval: EvalEvent;
  joined: { from: string; step: number };
  error: { error: string };
  done: RunSummary;
}
