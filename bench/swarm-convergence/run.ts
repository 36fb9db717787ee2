/**
 * Convergence over the REAL swarm: N headless Chromium peers (launchSwarm, default 8) on a local
 * relay train a small GPT on the bundled corpus with the peer runtime (wasm backend, direct
 * WebRTC links), one signed job per configuration, posted to the relay and picked up by the pages:
 *   - `single`: ONE peer with the swarm's global batch (N × b sequences per step) for the same
 *     number of steps and the same lr schedule: centralized minibatch SGD at equal samples, the
 *     comparator of the D-PSGD paper (Lian et al. 2017). Exact allreduce of the same optimizer is
 *     the same algorithm up to how minibatches are drawn, so `loss_gap_*` is reported against
 *     both (`loss_gap_<a>_<c>` vs single, `loss_gap_vs_allreduce_<a>_<c>` vs allreduce+none);
 *   - allreduce, dpsgd, choco × none, int8, topk 1%, sign (LAN: no shaping), `steps` steps each;
 *   - WAN: a larger model (`wan*` options, so that its fp32 messages take a good part of a second
 *     at 20 Mbit/s), its own `single_wan`, and the 12 combinations with every directed link
 *     shaped to 20 Mbit/s + 50 ms (SwarmNode.setLinkShape on both ends of each link), stopping at
 *     the target loss: time to target against allreduce + none;
 *   - adpsgd and dpsgd with 2 peers slowed 4× (compute limit 0.25), the WAN model on a ring
 *     without shaping, stopping at the WAN target: `slowedRepeats` pairs (alternating order),
 *     `slowedAccum` micro-batches per local step (how much of a step is compute).
 * Every run records each peer's shard, local steps and step / compute / exchange times (perPeer):
 * contiguous shards must be distinct, or the swarm does not train on the single peer's data.
 * Target loss = L_single + 0.25·(L_0 − L_single) (L_0: held-out loss of the shared init), i.e.
 * 75% of the single peer's reduction. A run's time to target is the median over its peers of the
 * first evaluation at or below it, counted from the peer's step-0 evaluation (after every peer of
 * the job has started), so job pick-up and the start wait are not in it.
 *
 * Bytes: `bytes_ratio_<a>_<c>` = fp32 gossip bytes of <a>+none / gossip bytes of <a>+<c>, per peer
 * and local step, from every peer's ByteLedger (wire size: gossip frame, codec header, tensor
 * chunk headers; CHOCO's fp32 re-syncs included). Join traffic (model-pull / model answers) is
 * reported separately (`joinBytes` in the run records): it is a one-off per peer, not gossip.
 * The compressed codecs run with the lossless DEFLATE wire stage (codec.deflate, kept only where
 * it shrinks a message); `none` is plain fp32.
 *
 * Must run inside the network namespace of test/netns/run.sh (Chromium's WebRTC needs a
 * non-loopback interface; the namespace keeps the traffic off real interfaces).
 * What it is not: a GPU benchmark (wasm backend, N pages sharing this machine's cores), or a
 * large model (sized for a 2-core machine).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../../peer-core/src/harness/browser.ts';
import { COMPUTE_WORKER, launchSwarm, type RunningSwarm } from '../../peer-core/src/harness/swarm.ts';
import { loadCorpusText } from '../../peer-core/src/data/node.ts';
import type { JobSpecInput } from '../../peer-core/src/job/index.ts';
import { generateHostKey, signJob } from '../../peer-core/src/runtime/index.ts';
import { startRelay } from '../../relay/src/relay.ts';

const PAGE = fileURLToPath(new URL('../../test/e2e/training-pages/train.page.ts', import.meta.url));

export type Algo = 'allreduce' | 'dpsgd' | 'choco' | 'adpsgd';
export type CodecKey = 'none' | 'int8' | 'topk' | 'sign';
export const ALGOS: Algo[] = ['allreduce', 'dpsgd', 'choco'];
export const CODECS: CodecKey[] = ['none', 'int8', 'topk', 'sign'];
/** Kinds that are gossip (the bytes ratio); model-pull / model are joins. */
const JOIN_KINDS = new Set(['model-pull', 'model']);

export interface ModelSize {
  nEmbd: number;
  nLayer: number;
  batch: number;
  steps: number;
  evalEvery: number;
  /** Held-out batches (of `batch` windows) per evaluation. */
  evalBatches: number;
}

export interface SwarmConvergenceOptions extends ModelSize {
  peers: number;
  contextLength: number;
  optimizer: 'sgd' | 'adamw';
  lr: number;
  momentum: number;
  /** Gradient-norm clip per local step (0 = off). Each peer clips its own batch-b gradient, the single peer its global one. */
  clip: number;
  warmup: number;
  /** Topology of dpsgd / choco / adpsgd (LAN runs), and of the WAN runs. */
  topology: 'ring' | 'exponential';
  wanTopology: 'ring' | 'exponential';
  /** CHOCO consensus step size per codec. */
  gamma: Record<CodecKey, number>;
  /** Run the WAN (time-to-target) configurations, with this model. */
  wan: boolean;
  wanModel: ModelSize;
  wanBytesPerSecond: number;
  wanDelayMs: number;
  /** Abandon a launch attempt (and retry) after this long (ms). */
  launchTimeoutMs: number;
  /** Called after every run (partial results survive a run that is cut short). */
  onRun?: (runs: RunResult[]) => void;
  /** How long to wait for the full direct mesh before falling back to relayed links (ms). */
  meshWaitMs: number;
  /** Slowed runs: how many adpsgd/dpsgd pairs (alternating), micro-batches per step, evaluation period. */
  slowedRepeats: number;
  slowedAccum: number;
  slowedEvalEvery: number;
  /** The slowed runs' target: L_single_wan + f·(L_0 − L_single_wan); default 0.25, the WAN target. */
  slowedTargetFrac: number;
  /** Codec of both slowed runs (adpsgd and dpsgd), default none. */
  slowedCodec: CodecKey;
  /**
   * How the slowed peers are slowed. 0 (default): compute limit 0.25 on the slowed peers (they
   * sleep 3c after a step of c ms), every peer computing as fast as the shared CPU lets it.
   * D > 0: every peer emulates a device (PeerRuntime deviceStepMs): a local step lasts D ms on the
   * fast peers and 4·D on the slowed ones, the real computation inside it, so the peers keep
   * their speeds instead of sharing one CPU (choose D above the real step time).
   */
  slowedDeviceMs: number;
  /** Where the pages' model computes: 'worker' (default: a Web Worker, as the volunteer app) or
   *  'inline' (the page's main thread, which also holds the WebRTC links). */
  compute: 'worker' | 'inline';
  /** Only runs whose label matches (single runs always go: they define the gaps and targets). */
  only?: RegExp;
  maxChars: number;
  log: (m: string) => void;
}

export const DEFAULTS: Omit<SwarmConvergenceOptions, 'log'> = {
  peers: 8,
  steps: 80,
  nEmbd: 32,
  nLayer: 2,
  contextLength: 16,
  batch: 8,
  evalEvery: 10,
  evalBatches: 16,
  optimizer: 'sgd',
  lr: 0.5,
  momentum: 0.9,
  clip: 1,
  warmup: 10,
  topology: 'exponential',
  wanTopology: 'ring',
  gamma: { none: 1, int8: 1, topk: 0.2, sign: 0.5 },
  wan: true,
  wanModel: { nEmbd: 128, nLayer: 2, batch: 8, steps: 40, evalEvery: 4, evalBatches: 4 },
  slowedRepeats: 2,
  slowedAccum: 1,
  slowedEvalEvery: 2,
  slowedTargetFrac: 0.25,
  slowedCodec: 'none',
  slowedDeviceMs: 0,
  compute: 'worker',
  wanBytesPerSecond: 2_500_000,
  wanDelayMs: 50,
  maxChars: 200_000,
  meshWaitMs: 90_000,
  launchTimeoutMs: 300_000,
};

interface StepLog {
  step: number;
  ms: number;
  computeMs: number;
  commMs: number;
  mixed: number;
  missing: number;
  bytesUp: number;
  bytesUpTotal: number;
}

interface Status {
  peerId?: string;
  membership?: [number, string, string][];
  state: string;
  steps: number;
  stepLog: StepLog[];
  evals: { step: number; heldOutLoss: number; ms: number; evalMs: number; bytesUpTotal: number }[];
  bytesByKind: Record<string, { bytes: number; messages: number }>;
  summary?: { heldOutLoss: number; steps: number; localSteps: number; bytesUp: number; bytesDown: number; seconds: number };
  error?: string;
  backend: string;
  shard?: { index: number; count: number };
}

export interface RunResult {
  label: string;
  peers: number;
  params: number;
  finalLoss: number;
  initialLoss: number;
  /** Gossip bytes (joins excluded) sent per peer per local step (mean over peers). */
  bytesPerPeerStep: number;
  /** Join bytes (model-pull + model answers) sent per peer over the whole run. */
  joinBytesPerPeer: number;
  /** Sent bytes per peer by message kind (whole run). */
  bytesByKind: Record<string, number>;
  seconds: number;
  /**
   * Mean per peer (s): start (job pick-up, data, waiting for the others, up to the step-0
   * evaluation), then the summed step phases: local compute, exchange+mix, evaluations, the rest.
   */
  time: { start: number; compute: number; comm: number; eval: number; other: number };
  /** Median over peers of the time (s) of the first evaluation at or below `target`, if given. */
  timeToTarget?: number;
  /** The same for every peer: the slowest peer's first evaluation at or below `target` (s);
   *  Infinity if some peer never reached it. */
  timeToTargetAll?: number;
  reached?: number;
  /** Per peer (launch order): its training shard, local steps, and mean ms per step (whole step, compute, exchange+mix). */
  perPeer: { peerId?: string; shard?: number; localSteps: number; stepMs: number; computeMs: number; commMs: number; steps: number[][]; evals: number[][]; membership?: [number, string, string][] }[];
  /** Mean over peers per evaluation: step, held-out loss, time (s), bytes sent so far per peer. */
  curve: { step: number; loss: number; seconds: number; bytes: number }[];
}

function codecSpec(c: CodecKey): JobSpecInput['codec'] {
  if (c === 'none') return { name: 'none' };
  if (c === 'topk') return { name: 'topk', fraction: 0.01, deflate: true };
  return { name: c, deflate: true };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1]! : Number.NaN;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Parameters of the GPT (tied embeddings) for vocab 256. */
export function gptParams(nEmbd: number, nLayer: number, ctx: number, vocab = 256): number {
  return vocab * nEmbd + ctx * nEmbd + nLayer * (12 * nEmbd * nEmbd + 13 * nEmbd) + 2 * nEmbd;
}

export async function runSwarmConvergence(o: SwarmConvergenceOptions): Promise<{ results: { name: string; value: number; unit: string }[]; runs: RunResult[]; backend: string; mesh: { relayedPairs: number } }> {
  const meshInfo = { relayedPairs: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-swarm-'));
  const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
  const text = loadCorpusText('moby-dick', { maxChars: o.maxChars });
  const key = await generateHostKey();
  let swarm: RunningSwarm | undefined;
  let ownBrowser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  const runs: RunResult[] = [];
  let backend = '';
  const want = (label: string) => !o.only || o.only.test(label);
  try {
    o.log(`launching ${o.peers} browser peers`);
    // A launch can time out when the machine is loaded (page start has a fixed 60 s limit): retry.
    for (let attempt = 1; ; attempt++) {
      try {
        // No warm-up transfer per new link (SwarmNode's default is 4 MiB each way, i.e. 224 MiB for
        // an 8-peer mesh, minutes of CPU here): the runs are timed only after the LAN runs have
        // used every link.
        // Our own browser, so that a launch that hangs (a page whose start() never returns) can be
        // abandoned by closing it after launchTimeoutMs.
        const browser = await launchBrowser({ swiftshader: false });
        ownBrowser = browser;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`launch did not finish in ${o.launchTimeoutMs} ms`)), o.launchTimeoutMs);
        });
        try {
          swarm = await Promise.race([launchSwarm({ relay: relay.http.url, peers: o.peers, page: PAGE, workers: COMPUTE_WORKER, startConcurrency: 2, start: { warmupBytes: 0 }, browser }), hung]);
        } finally {
          clearTimeout(timer);
        }
        break;
      } catch (e) {
        await swarm?.close().catch(() => undefined);
        swarm = undefined;
        await ownBrowser?.close().catch(() => undefined);
        ownBrowser = undefined;
        if (attempt >= 3) throw e;
        o.log(`launch failed (${(e as Error).message.split('\n')[0]}); retrying`);
      }
    }
    if (!swarm) throw new Error('no swarm');
    const sw = swarm;
    // The direct WebRTC mesh of 8 browser peers is incomplete on this machine (docs/NETWORK.md:
    // some peers never get a direct link). Pairs without one then use a circuit-relay connection
    // through the relay (allowRelayed); how many links were direct is recorded.
    let relayedPairs = 0;
    try {
      await sw.waitForMesh(o.meshWaitMs);
      o.log('mesh complete');
    } catch (e) {
      const infos = await Promise.all(sw.peers.map((p) => p.info().catch(() => undefined)));
      relayedPairs = infos.reduce((a, inf) => a + (o.peers - 1 - (inf?.direct.length ?? 0)), 0);
      o.log(`direct mesh incomplete (${relayedPairs} of ${o.peers * (o.peers - 1)} directed links missing): those pairs use relayed connections. ${(e as Error).message.slice(0, 200)}`);
    }
    meshInfo.relayedPairs = relayedPairs;

    const base = (m: ModelSize, over: JobSpecInput): JobSpecInput => ({
      model: { vocabSize: 256, contextLength: o.contextLength, nLayer: m.nLayer, nHead: 2, nEmbd: m.nEmbd, initSeed: 5 },
      dataset: { corpus: 'moby-dick', tokenizer: 'byte', sharding: 'contiguous' },
      optimizer: o.optimizer === 'sgd' ? { kind: 'sgd', lr: o.lr, momentum: o.momentum, gradClip: o.clip } : { kind: 'adamw', lr: o.lr, gradClip: o.clip },
      schedule: { kind: 'cosine', warmupSteps: o.warmup, minLrRatio: 0.1 },
      batch: { perPeer: m.batch },
      algorithm: { name: 'dpsgd', timeoutMs: 20_000 },
      stopping: { maxSteps: m.steps, evalEverySteps: m.evalEvery },
      peers: { min: o.peers, max: o.peers },
      ...over,
    });
    const algoSpec = (a: Algo, c: CodecKey, m: ModelSize, extra: JobSpecInput = {}, topology = o.topology) =>
      base(m, {
        algorithm: { name: a, timeoutMs: 20_000, ...(a === 'choco' ? { gamma: o.gamma[c] } : {}) },
        topology: { kind: a === 'allreduce' ? 'full' : topology },
        codec: codecSpec(c),
        ...extra,
      });

    async function run(label: string, spec: JobSpecInput, m: ModelSize, opts: { peers?: number; computeLimits?: Record<number, number>; deviceStepMs?: (i: number) => number; target?: number } = {}): Promise<RunResult> {
      const n = opts.peers ?? o.peers;
      const env = await signJob(key, { ...spec, name: label });
      const added = await relay.jobs.add(env);
      if (!added.ok) throw new Error(`${label}: job rejected: ${added.reason}`);
      const peers = sw.peers.slice(0, n);
      const r0 = await Promise.all(
        peers.map((p, i) => p.call<{ backend: string }>('train', { relayHttp: relay.http.url, jobId: env.payload.jobId, text, minPeers: n, computeLimit: opts.computeLimits?.[i], deviceStepMs: opts.deviceStepMs?.(i), compute: o.compute, allowRelayed: relayedPairs > 0, evalBatches: m.evalBatches })),
      );
      backend = r0[0]!.backend;
      const end = Date.now() + 900_000;
      let st: Status[] = [];
      while (Date.now() < end) {
        st = await Promise.all(peers.map((p) => p.call<Status>('trainStatus')));
        const err = st.find((s) => s.error)?.error;
        if (err) throw new Error(`${label}: ${err}`);
        if (st.every((s) => s.summary)) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (!st.every((s) => s.summary)) throw new Error(`${label}: did not finish in time`);
      const fin = st.map((s) => s.summary!);
      const kinds = new Set(st.flatMap((s) => Object.keys(s.bytesByKind)));
      const bytesByKind = Object.fromEntries([...kinds].map((k) => [k, mean(st.map((s) => s.bytesByKind[k]?.bytes ?? 0))]));
      const join = (s: Status) => Object.entries(s.bytesByKind).reduce((a, [k, v]) => a + (JOIN_KINDS.has(k) ? v.bytes : 0), 0);
      const evalCount = Math.min(...st.map((s) => s.evals.length));
      const res: RunResult = {
        label,
        peers: n,
        params: gptParams(m.nEmbd, m.nLayer, o.contextLength),
        finalLoss: mean(fin.map((s) => s.heldOutLoss)),
        initialLoss: st[0]!.evals[0]!.heldOutLoss,
        bytesPerPeerStep: mean(st.map((s, i) => (fin[i]!.bytesUp - join(s)) / Math.max(1, fin[i]!.localSteps))),
        joinBytesPerPeer: mean(st.map(join)),
        bytesByKind,
        seconds: Math.max(...fin.map((s) => s.seconds)),
        time: {
          start: mean(st.map((s) => (s.evals[0]?.ms ?? 0) / 1000)),
          compute: mean(st.map((s) => s.stepLog.reduce((a, l) => a + l.computeMs, 0) / 1000)),
          comm: mean(st.map((s) => s.stepLog.reduce((a, l) => a + l.commMs, 0) / 1000)),
          eval: mean(st.map((s) => s.evals.slice(1).reduce((a, e) => a + e.evalMs, 0) / 1000)),
          other: 0,
        },
        perPeer: st.map((s) => {
          const k = Math.max(1, s.stepLog.length);
          return {
            peerId: s.peerId,
            shard: s.shard?.index,
            localSteps: s.summary!.localSteps,
            stepMs: s.stepLog.reduce((a, l) => a + l.ms, 0) / k,
            computeMs: s.stepLog.reduce((a, l) => a + l.computeMs, 0) / k,
            commMs: s.stepLog.reduce((a, l) => a + l.commMs, 0) / k,
            // Diagnostics: every step as [step, ms, computeMs, commMs, mixed, missing], every
            // evaluation as [step, held-out loss, ms since the start].
            steps: s.stepLog.map((l) => [l.step, Math.round(l.ms), Math.round(l.computeMs), Math.round(l.commMs), l.mixed, l.missing]),
            evals: s.evals.map((e) => [e.step, Math.round(e.heldOutLoss * 1e4) / 1e4, Math.round(e.ms)]),
            // The job transport's join/leave events as this peer saw them ([ms, type, peer id]).
            membership: s.membership,
          };
        }),
        curve: Array.from({ length: evalCount }, (_, k) => ({
          step: st[0]!.evals[k]!.step,
          loss: mean(st.map((s) => s.evals[k]!.heldOutLoss)),
          seconds: mean(st.map((s) => s.evals[k]!.ms / 1000)),
          bytes: mean(st.map((s) => s.evals[k]!.bytesUpTotal)),
        })),
      };
      res.time.other = Math.max(0, mean(fin.map((s) => s.seconds)) - res.time.start - res.time.compute - res.time.comm - res.time.eval);
      if (opts.target !== undefined) {
        // Measured from the peer's step-0 evaluation (training start), not from job pick-up.
        const t = st.map((s) => (s.evals.find((e) => e.heldOutLoss <= opts.target!)?.ms ?? Number.POSITIVE_INFINITY) - (s.evals[0]?.ms ?? 0));
        res.timeToTarget = median(t) / 1000;
        res.timeToTargetAll = Math.max(...t) / 1000;
        res.reached = t.filter(Number.isFinite).length;
      }
      // Contiguous shards must be distinct (one piece of the split per peer), or the swarm does
      // not train on the data the single peer samples.
      const shards = res.perPeer.map((p) => p.shard);
      if (n > 1 && new Set(shards).size !== n) o.log(`${label}: WARNING shards not distinct: ${shards.join(',')}`);
      runs.push(res);
      o.onRun?.(runs);
      const tm = res.time;
      o.log(
        `${label}: final ${res.finalLoss.toFixed(4)}, ${res.bytesPerPeerStep.toFixed(0)} B/peer/step (+${res.joinBytesPerPeer.toFixed(0)} B join), ${res.seconds.toFixed(1)} s ` +
          `[start ${tm.start.toFixed(1)}, compute ${tm.compute.toFixed(1)}, comm ${tm.comm.toFixed(1)}, eval ${tm.eval.toFixed(1)}, other ${tm.other.toFixed(1)} s/peer]` +
          `${res.timeToTarget !== undefined ? `, target at ${res.timeToTarget.toFixed(2)} s (${res.reached}/${n}; every peer at ${res.timeToTargetAll!.toFixed(2)} s)` : ''}`,
      );
      return res;
    }

    const out: { name: string; value: number; unit: string }[] = [];
    const lanModel: ModelSize = { nEmbd: o.nEmbd, nLayer: o.nLayer, batch: o.batch, steps: o.steps, evalEvery: o.evalEvery, evalBatches: o.evalBatches };
    // Centralized minibatch SGD at equal samples: one peer, global batch N × b (N accumulated
    // micro-batches of b, so that it evaluates on the same held-out batches), same steps and schedule.
    const singleOf = (label: string, m: ModelSize) =>
      run(label, base(m, { algorithm: { name: 'dpsgd' }, topology: { kind: 'ring' }, codec: { name: 'none' }, batch: { perPeer: m.batch, gradAccumulation: o.peers }, peers: { min: 1, max: 1 } }), m, { peers: 1 });
    const single = await singleOf('single', lanModel);
    const target = single.finalLoss + 0.25 * (single.initialLoss - single.finalLoss);
    out.push({ name: 'final_loss_single', value: single.finalLoss, unit: `nats (1 peer, batch ${o.peers}×${o.batch}, ${o.steps} steps)` });
    out.push({ name: 'target_loss', value: target, unit: 'nats' });
    const lan = new Map<string, RunResult>();
    for (const a of ALGOS) {
      for (const c of CODECS) {
        const label = `${a}_${c}`;
        if (!want(label)) continue;
        const r = await run(label, algoSpec(a, c, lanModel), lanModel);
        lan.set(label, r);
        out.push({ name: `final_loss_${label}`, value: r.finalLoss, unit: 'nats' });
        out.push({ name: `loss_gap_${label}`, value: r.finalLoss / single.finalLoss - 1, unit: 'fraction vs single peer at equal samples (lower is better)' });
      }
    }
    const ar = lan.get('allreduce_none');
    for (const [k, r] of lan) {
      if (ar) out.push({ name: `loss_gap_vs_allreduce_${k}`, value: r.finalLoss / ar.finalLoss - 1, unit: 'fraction vs allreduce+none (lower is better)' });
      const fp32 = lan.get(`${k.split('_')[0]}_none`);
      if (fp32) out.push({ name: `bytes_ratio_${k}`, value: fp32.bytesPerPeerStep / r.bytesPerPeerStep, unit: `x (fp32 ${k.split('_')[0]} gossip bytes / ours, joins excluded)` });
    }
    const wanLabels = ALGOS.flatMap((a) => CODECS.map((c) => `${a}_${c}_wan`)).filter(want);
    const sc = o.slowedCodec;
    const slowedWanted = o.slowedRepeats > 0 && (want(`adpsgd_${sc}_slowed`) || want(`dpsgd_${sc}_slowed`));
    if (slowedWanted && !(o.slowedTargetFrac > 0 && o.slowedTargetFrac <= 1)) throw new RangeError(`--slowed-target-frac must be in (0, 1], got ${o.slowedTargetFrac}`);
    const wm = o.wanModel;
    let wanTarget = Number.NaN;
    let slowedTarget = Number.NaN;
    if ((o.wan && wanLabels.length) || slowedWanted) {
      const singleWan = await singleOf('single_wan', wm);
      wanTarget = singleWan.finalLoss + 0.25 * (singleWan.initialLoss - singleWan.finalLoss);
      slowedTarget = singleWan.finalLoss + o.slowedTargetFrac * (singleWan.initialLoss - singleWan.finalLoss);
      if (slowedWanted && o.slowedTargetFrac !== 0.25) out.push({ name: 'target_loss_slowed', value: slowedTarget, unit: `nats (L_single_wan + ${o.slowedTargetFrac}·(L_0 − L_single_wan))` });
      out.push({ name: 'final_loss_single_wan', value: singleWan.finalLoss, unit: `nats (WAN model, ${gptParams(wm.nEmbd, wm.nLayer, o.contextLength)} params)` });
      out.push({ name: 'target_loss_wan', value: wanTarget, unit: 'nats' });
    }
    if (o.wan && wanLabels.length) {
      const shape = async (s: { bytesPerSecond: number; delayMs: number } | null) => {
        const ids = sw.peers.map((p) => p.peerId);
        await Promise.all(sw.peers.map((p) => Promise.all(ids.filter((id) => id !== p.peerId).map((id) => p.call('setLinkShape', id, s)))));
      };
      await shape({ bytesPerSecond: o.wanBytesPerSecond, delayMs: o.wanDelayMs });
      const wan = new Map<string, RunResult>();
      try {
        for (const label of wanLabels) {
          const [a, c] = label.split('_') as [Algo, CodecKey];
          wan.set(`${a}_${c}`, await run(label, algoSpec(a, c, wm, { stopping: { maxSteps: wm.steps, evalEverySteps: wm.evalEvery, targetLoss: wanTarget } }, o.wanTopology), wm, { target: wanTarget }));
        }
      } finally {
        await shape(null);
      }
      const ref = wan.get('allreduce_none')?.timeToTarget;
      for (const [k, r] of wan) {
        if (ref !== undefined) out.push({ name: `time_to_target_speedup_${k}_wan`, value: Number.isFinite(r.timeToTarget!) ? ref / r.timeToTarget! : 0, unit: 'x (allreduce+none time / ours; 0 = not reached)' });
        out.push({ name: `time_to_target_${k}_wan`, value: r.timeToTarget!, unit: 's' });
      }
    }
    // 2 of N peers slowed 4× (compute limit 0.25): asynchronous vs synchronous, on a ring (AD-PSGD's
    // setting) with the WAN model on the LAN (no shaping). `slowedAccum` micro-batches per step set
    // how much of a step is compute (the part a slow device stretches); the slowed runs evaluate
    // every `slowedEvalEvery` steps, so time to target is resolved to a couple of steps, and stop
    // at `slowedTargetFrac` of the way from the single WAN run's final loss to the initial loss
    // (0.25, the WAN target, by default; lower: more steps, so a synchronous ring feels its slow
    // peers from more hops away). The pair is repeated `slowedRepeats` times, alternating which
    // algorithm goes first.
    if (slowedWanted) {
      // Peers 0 and 1 are the slowed ones: compute limit 0.25, or 4× the emulated device's step.
      const dev = o.slowedDeviceMs;
      if (!(dev >= 0 && Number.isFinite(dev))) throw new RangeError(`--slowed-device-ms must be ≥ 0, got ${dev}`);
      const deviceStepMs = (i: number) => (i < 2 ? 4 * dev : dev);
      const slowedOpts = dev > 0 ? { deviceStepMs } : { computeLimits: { 0: 0.25, 1: 0.25 } };
      const sm: ModelSize = { ...wm, evalEvery: o.slowedEvalEvery };
      const spec = (a: Algo) =>
        algoSpec(a, sc, sm, { batch: { perPeer: sm.batch, gradAccumulation: o.slowedAccum }, stopping: { maxSteps: sm.steps, evalEverySteps: sm.evalEvery, targetLoss: slowedTarget } }, 'ring');
      const times: Record<'adpsgd' | 'dpsgd', number[]> = { adpsgd: [], dpsgd: [] };
      // Every peer at or below the target (the slowest peer's time), beside the median: the
      // median peer of a synchronous ring can be one far from the slowed pair, which the slowed
      // peers barely hold back within the few steps to the target, while their neighbours are.
      const allTimes: Record<'adpsgd' | 'dpsgd', number[]> = { adpsgd: [], dpsgd: [] };
      const finals: number[] = [];
      // Every timed pair starts on warm links. Without the LAN runs before them (`--only`), the
      // first timed run was the first to use each ring link and paid the first-transfer stall
      // (docs/NETWORK.md; the swarm runs without warm-up transfers) on every one of them: over
      // six such commands the first pair's first run (adpsgd) lost in 5 of 6 pairs and the
      // second pair's adpsgd won in 5 of 6 (docs/TRAINING-SWARM.md). One untimed dpsgd run on
      // the same ring warms them; it is in the curves file as `warmup_<codec>_slowed`.
      await run(`warmup_${sc}_slowed`, spec('dpsgd'), sm, { ...slowedOpts, target: slowedTarget });
      // With emulated devices: how many timed local steps computed longer than their device
      // time (the emulation did not hold for them: the shared CPU was the limit).
      let deviceSteps = 0;
      let deviceOver = 0;
      for (let r = 1; r <= o.slowedRepeats; r++) {
        const order: ('adpsgd' | 'dpsgd')[] = r % 2 ? ['adpsgd', 'dpsgd'] : ['dpsgd', 'adpsgd'];
        for (const a of order) {
          const label = `${a}_${sc}_slowed${r > 1 ? `_r${r}` : ''}`;
          const res = await run(label, spec(a), sm, { ...slowedOpts, target: slowedTarget });
          if (dev > 0) {
            for (const [i, p] of res.perPeer.entries()) {
              for (const s of p.steps) {
                deviceSteps++;
                if (s[2]! > deviceStepMs(i)) deviceOver++;
              }
            }
          }
          times[a].push(res.timeToTarget!);
          allTimes[a].push(res.timeToTargetAll!);
          if (a === 'adpsgd') finals.push(res.finalLoss);
          out.push({ name: `time_to_target_${label}`, value: res.timeToTarget!, unit: 's' });
          out.push({ name: `time_to_target_all_${label}`, value: Number.isFinite(res.timeToTargetAll!) ? res.timeToTargetAll! : 0, unit: 's until every peer reached the target (0 = some peer never did)' });
        }
        const k = times.adpsgd.length - 1;
        const [adAll, dpAll] = [allTimes.adpsgd[k]!, allTimes.dpsgd[k]!];
        out.push({ name: `time_to_target_all_speedup_adpsgd_vs_dpsgd${sc === 'none' ? '' : `_${sc}`}_slowed${r > 1 ? `_r${r}` : '_r1'}`, value: Number.isFinite(adAll) && Number.isFinite(dpAll) ? dpAll / adAll : 0, unit: 'x (dpsgd / adpsgd time until every peer reached the target, this pair; 0 = one of them never did)' });
        out.push({ name: `time_to_target_speedup_adpsgd_vs_dpsgd${sc === 'none' ? '' : `_${sc}`}_slowed${r > 1 ? `_r${r}` : '_r1'}`, value: Number.isFinite(times.adpsgd[k]!) ? times.dpsgd[k]! / times.adpsgd[k]! : 0, unit: 'x (dpsgd time / adpsgd time, this pair)' });
      }
      if (dev > 0) out.push({ name: 'slowed_device_steps_over', value: deviceOver / Math.max(1, deviceSteps), unit: `fraction of the timed local steps whose real computation exceeded the emulated device time (${dev} ms; slowed peers ${4 * dev} ms)` });
      const ad = mean(times.adpsgd);
      const dp = mean(times.dpsgd);
      out.push({ name: `final_loss_adpsgd_${sc}`, value: mean(finals), unit: 'nats (mean over the slowed runs)' });
      out.push({ name: `time_to_target_adpsgd_${sc}_slowed_mean`, value: ad, unit: `s (mean of ${times.adpsgd.length} runs)` });
      out.push({ name: `time_to_target_dpsgd_${sc}_slowed_mean`, value: dp, unit: `s (mean of ${times.dpsgd.length} runs)` });
      out.push({ name: `time_to_target_speedup_adpsgd_vs_dpsgd${sc === 'none' ? '' : `_${sc}`}_slowed`, value: Number.isFinite(ad) ? dp / ad : 0, unit: 'x (mean dpsgd time / mean adpsgd time)' });
      const [adA, dpA] = [mean(allTimes.adpsgd), mean(allTimes.dpsgd)];
      out.push({ name: `time_to_target_all_speedup_adpsgd_vs_dpsgd${sc === 'none' ? '' : `_${sc}`}_slowed`, value: Number.isFinite(adA) && Number.isFinite(dpA) ? dpA / adA : 0, unit: 'x (mean dpsgd / mean adpsgd time until every peer reached the target; 0 = some run never got there)' });
    }
    return { results: out, runs, backend, mesh: meshInfo };
  } finally {
    await swarm?.close();
    await ownBrowser?.close().catch(() => undefined);
    await relay.stop();
  }
}
