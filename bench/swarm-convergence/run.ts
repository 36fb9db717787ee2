/**
 * Convergence over the REAL swarm: N headless Chromium peers (launchSwarm, default 8) on a local
 * relay train a small GPT on the bundled corpus with the peer runtime (wasm backend, direct
 * WebRTC links), one signed job per configuration, posted to the relay and picked up by the pages:
 *   - allreduce, dpsgd, choco × none, int8, topk 1%, sign (LAN: no shaping);
 *   - the same 12 with every link shaped to 20 Mbit/s + 50 ms one way (SwarmNode.setLinkShape,
 *     per direction of each link), stopping at the target loss: time to target;
 *   - adpsgd and dpsgd with 2 peers slowed 4× (compute limit 0.25), stopping at the target;
 *   - one peer alone with N× the steps (the same total samples).
 * Target loss = L_single + 0.25·(L_0 − L_single) (L_0: held-out loss of the shared init), i.e.
 * 75% of the single peer's reduction. A run's time to target is the median over its peers of the
 * first evaluation at or below it.
 *
 * Must run inside the network namespace of test/netns/run.sh (Chromium's WebRTC needs a
 * non-loopback interface; the namespace keeps the traffic off real interfaces).
 * What it is not: a GPU benchmark (wasm backend), or a large model (sized for a 2-core machine).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchSwarm, type RunningSwarm } from '../../peer-core/src/harness/swarm.ts';
import { loadCorpusText } from '../../peer-core/src/data/node.ts';
import type { JobSpecInput } from '../../peer-core/src/job/index.ts';
import { generateHostKey, signJob } from '../../peer-core/src/runtime/index.ts';
import { startRelay } from '../../relay/src/relay.ts';

const PAGE = fileURLToPath(new URL('../../test/e2e/training-pages/train.page.ts', import.meta.url));

export type Algo = 'allreduce' | 'dpsgd' | 'choco' | 'adpsgd';
export type CodecKey = 'none' | 'int8' | 'topk' | 'sign';
export const ALGOS: Algo[] = ['allreduce', 'dpsgd', 'choco'];
export const CODECS: CodecKey[] = ['none', 'int8', 'topk', 'sign'];

export interface SwarmConvergenceOptions {
  peers: number;
  steps: number;
  nEmbd: number;
  nLayer: number;
  contextLength: number;
  batch: number;
  lr: number;
  evalEvery: number;
  /** Run the WAN (time-to-target) configurations. */
  wan: boolean;
  wanBytesPerSecond: number;
  wanDelayMs: number;
  maxChars: number;
  log: (m: string) => void;
}

export const DEFAULTS: Omit<SwarmConvergenceOptions, 'log'> = {
  peers: 8,
  steps: 30,
  nEmbd: 32,
  nLayer: 1,
  contextLength: 16,
  batch: 8,
  lr: 1e-2,
  evalEvery: 5,
  wan: true,
  wanBytesPerSecond: 2_500_000,
  wanDelayMs: 50,
  maxChars: 200_000,
};

interface Status {
  state: string;
  steps: number;
  evals: { step: number; heldOutLoss: number; ms: number }[];
  summary?: { heldOutLoss: number; steps: number; localSteps: number; bytesUp: number; bytesDown: number; seconds: number };
  error?: string;
  backend: string;
}

export interface RunResult {
  label: string;
  peers: number;
  finalLoss: number;
  initialLoss: number;
  /** Gossip bytes sent per peer per local step (mean). */
  bytesPerPeerStep: number;
  seconds: number;
  /** Median over peers of the time (s) of the first evaluation at or below `target`, if given. */
  timeToTarget?: number;
  reached?: number;
  statuses: Status[];
}

function codecSpec(c: CodecKey): JobSpecInput['codec'] {
  if (c === 'topk') return { name: 'topk', fraction: 0.01 };
  return { name: c };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1]! : Number.NaN;
};

export async function runSwarmConvergence(o: SwarmConvergenceOptions): Promise<{ results: { name: string; value: number; unit: string }[]; runs: RunResult[]; backend: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-swarm-'));
  const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
  const text = loadCorpusText('moby-dick', { maxChars: o.maxChars });
  const key = await generateHostKey();
  let swarm: RunningSwarm | undefined;
  const runs: RunResult[] = [];
  let backend = '';
  try {
    o.log(`launching ${o.peers} browser peers`);
    swarm = await launchSwarm({ relay: relay.http.url, peers: o.peers, page: PAGE, startConcurrency: 2 });
    await swarm.waitForMesh(120_000);
    o.log('mesh complete');
    const sw = swarm;

    const base = (over: JobSpecInput): JobSpecInput => ({
      model: { vocabSize: 256, contextLength: o.contextLength, nLayer: o.nLayer, nHead: 2, nEmbd: o.nEmbd, initSeed: 5 },
      dataset: { corpus: 'moby-dick', tokenizer: 'byte', sharding: 'contiguous' },
      optimizer: { lr: o.lr },
      schedule: { kind: 'constant', warmupSteps: 0 },
      batch: { perPeer: o.batch },
      stopping: { maxSteps: o.steps, evalEverySteps: o.evalEvery },
      peers: { min: o.peers, max: o.peers },
      ...over,
    });

    async function run(label: string, spec: JobSpecInput, opts: { peers?: number; computeLimits?: Record<number, number>; target?: number } = {}): Promise<RunResult> {
      const n = opts.peers ?? o.peers;
      const env = await signJob(key, { ...spec, name: label });
      const added = await relay.jobs.add(env);
      if (!added.ok) throw new Error(`${label}: job rejected: ${added.reason}`);
      const peers = sw.peers.slice(0, n);
      const r0 = await Promise.all(
        peers.map((p, i) => p.call<{ backend: string }>('train', { relayHttp: relay.http.url, jobId: env.payload.jobId, text, minPeers: n, computeLimit: opts.computeLimits?.[i] })),
      );
      backend = r0[0]!.backend;
      const end = Date.now() + 600_000;
      let st: Status[] = [];
      while (Date.now() < end) {
        st = await Promise.all(peers.map((p) => p.call<Status>('trainStatus')));
        const err = st.find((s) => s.error)?.error;
        if (err) throw new Error(`${label}: ${err}`);
        if (st.every((s) => s.summary)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (!st.every((s) => s.summary)) throw new Error(`${label}: did not finish in time`);
      const fin = st.map((s) => s.summary!);
      const res: RunResult = {
        label,
        peers: n,
        finalLoss: fin.reduce((a, s) => a + s.heldOutLoss, 0) / n,
        initialLoss: st[0]!.evals[0]!.heldOutLoss,
        bytesPerPeerStep: fin.reduce((a, s) => a + s.bytesUp / Math.max(1, s.localSteps), 0) / n,
        seconds: Math.max(...fin.map((s) => s.seconds)),
        statuses: st,
      };
      if (opts.target !== undefined) {
        const t = st.map((s) => s.evals.find((e) => e.heldOutLoss <= opts.target!)?.ms ?? Number.POSITIVE_INFINITY);
        res.timeToTarget = median(t) / 1000;
        res.reached = t.filter(Number.isFinite).length;
      }
      runs.push(res);
      o.log(`${label}: final ${res.finalLoss.toFixed(4)}, ${res.bytesPerPeerStep.toFixed(0)} B/peer/step, ${res.seconds.toFixed(1)} s${res.timeToTarget !== undefined ? `, target at ${res.timeToTarget.toFixed(2)} s (${res.reached}/${n})` : ''}`);
      return res;
    }

    const out: { name: string; value: number; unit: string }[] = [];
    // Single peer, same total samples: N× the steps, alone.
    const single = await run('single', base({ algorithm: { name: 'dpsgd' }, topology: { kind: 'ring' }, codec: { name: 'none' }, peers: { min: 1, max: 1 }, stopping: { maxSteps: o.steps * o.peers, evalEverySteps: o.evalEvery * o.peers } }), { peers: 1 });
    const target = single.finalLoss + 0.25 * (single.initialLoss - single.finalLoss);
    out.push({ name: 'final_loss_single', value: single.finalLoss, unit: 'nats' });
    out.push({ name: 'target_loss', value: target, unit: 'nats' });
    const lan = new Map<string, RunResult>();
    for (const a of ALGOS) {
      for (const c of CODECS) {
        const topo = a === 'allreduce' ? 'full' : 'ring';
        const r = await run(`${a}_${c}`, base({ algorithm: { name: a }, topology: { kind: topo }, codec: codecSpec(c) }));
        lan.set(`${a}_${c}`, r);
        out.push({ name: `final_loss_${a}_${c}`, value: r.finalLoss, unit: 'nats' });
        out.push({ name: `loss_gap_${a}_${c}`, value: r.finalLoss / single.finalLoss - 1, unit: 'fraction (lower is better)' });
      }
      const fp32 = lan.get(`${a}_none`)!.bytesPerPeerStep;
      for (const c of CODECS) out.push({ name: `bytes_ratio_${a}_${c}`, value: fp32 / lan.get(`${a}_${c}`)!.bytesPerPeerStep, unit: `x (fp32 ${a} bytes / ours)` });
    }
    if (o.wan) {
      const shape = async (s: { bytesPerSecond: number; delayMs: number } | null) => {
        const ids = sw.peers.map((p) => p.peerId);
        await Promise.all(sw.peers.map((p) => Promise.all(ids.filter((id) => id !== p.peerId).map((id) => p.call('setLinkShape', id, s)))));
      };
      await shape({ bytesPerSecond: o.wanBytesPerSecond, delayMs: o.wanDelayMs });
      const wan = new Map<string, RunResult>();
      for (const a of ALGOS) {
        for (const c of CODECS) {
          const topo = a === 'allreduce' ? 'full' : 'ring';
          wan.set(`${a}_${c}`, await run(`${a}_${c}_wan`, base({ algorithm: { name: a }, topology: { kind: topo }, codec: codecSpec(c), stopping: { maxSteps: o.steps * 2, evalEverySteps: o.evalEvery, targetLoss: target } }), { target }));
        }
      }
      const ref = wan.get('allreduce_none')!.timeToTarget!;
      for (const [k, r] of wan) out.push({ name: `time_to_target_speedup_${k}_wan`, value: ref / r.timeToTarget!, unit: 'x (allreduce+none time / ours; 0 = not reached)' });
      for (const [k, r] of wan) out.push({ name: `time_to_target_${k}_wan`, value: r.timeToTarget!, unit: 's' });
      await shape(null);
    }
    // 2 of N peers slowed 4× (compute limit 0.25): asynchronous vs synchronous.
    const slowed = { 0: 0.25, 1: 0.25 };
    const ad = await run('adpsgd_none_slowed', base({ algorithm: { name: 'adpsgd' }, topology: { kind: 'ring' }, codec: { name: 'none' }, stopping: { maxSteps: o.steps * 2, evalEverySteps: o.evalEvery, targetLoss: target } }), { computeLimits: slowed, target });
    const dp = await run('dpsgd_none_slowed', base({ algorithm: { name: 'dpsgd' }, topology: { kind: 'ring' }, codec: { name: 'none' }, stopping: { maxSteps: o.steps * 2, evalEverySteps: o.evalEvery, targetLoss: target } }), { computeLimits: slowed, target });
    out.push({ name: 'final_loss_adpsgd_none', value: ad.finalLoss, unit: 'nats' });
    out.push({ name: 'time_to_target_adpsgd_none_slowed', value: ad.timeToTarget!, unit: 's' });
    out.push({ name: 'time_to_target_dpsgd_none_slowed', value: dp.timeToTarget!, unit: 's' });
    out.push({ name: 'time_to_target_speedup_adpsgd_vs_dpsgd_slowed', value: dp.timeToTarget! / ad.timeToTarget!, unit: 'x (dpsgd time / adpsgd time)' });
    return { results: out, runs, backend };
  } finally {
    await swarm?.close();
    await relay.stop();
  }
}
