/**
 * convergence-swarm: gossip algorithms × codecs with REAL browser peers over the real swarm
 * (bench/swarm-convergence/run.ts): 8 headless Chromium peers, a small GPT on the bundled corpus,
 * the peer runtime over direct WebRTC links, plus WAN shaping (20 Mbit/s, 50 ms per directed
 * link) for time to target and 2 slowed peers for adpsgd vs dpsgd. Run it inside the namespace:
 *   test/netns/run.sh npm run bench -- convergence-swarm --json bench/results/convergence-swarm.json
 *
 * Definitions (details in run.ts and docs/TRAINING-SWARM.md):
 *  - loss_gap_<a>_<c> = final held-out loss (mean over peers) / single-peer final loss − 1, where
 *    the single peer trains with the swarm's global batch (peers × batch) for the same steps and
 *    lr schedule (centralized minibatch SGD at equal samples); loss_gap_vs_allreduce_<a>_<c> is
 *    the same against allreduce + none;
 *  - bytes_ratio_<a>_<c> = gossip bytes per peer-step of <a> + none (fp32) / of <a> + <c>;
 *  - time_to_target_speedup_<a>_<c>_wan = allreduce + none time to target / ours, WAN model.
 *
 * Options: --peers N (8), --steps N (80), --embd N (32), --layers N (2), --ctx N (16),
 * --batch N (8), --eval-every N (10), --eval-batches N (16 held-out batches per LAN evaluation; WAN: 4), --optimizer sgd|adamw (sgd), --lr X (0.5), --momentum X (0.9),
 * --clip X (1; 0 = off), --warmup N (10), --topology ring|exponential (exponential),
 * --wan-topology ring|exponential (ring), --gamma-topk X (0.2), --gamma-sign X (0.5),
 * --wan-embd N (128), --wan-layers N (2), --wan-batch N (8), --wan-steps N (40), --wan-eval-every N (4),
 * --slowed-repeats N (2 adpsgd/dpsgd pairs), --slowed-accum N (1 micro-batch per step),
 * --slowed-eval-every N (2), --slowed-target-frac F (0.25: the slowed runs' target loss, as a fraction of the way from the single WAN run's final loss to the initial loss), --slowed-codec none|int8|topk|sign (none: both slowed runs' codec),
 * --slowed-device-ms D (0: slowed peers at compute limit 0.25; D > 0: every peer emulates a device
 * whose local step takes D ms, the slowed ones 4·D), --no-wan, --inline-compute (train on the pages' main thread instead of their
 * compute worker, for A/B), --only REGEX (run labels, e.g. 'choco_(int8|topk)$|_wan$'; the single-peer runs always
 * go), --quick (4 peers, 40 steps, no WAN).
 * With --json FILE it also writes FILE's stem + '-curves.json' and '-{steps,bytes,wan-time,slowed}.svg'.
 */
import { writeFileSync } from 'node:fs';
import { lineChart, type Series } from '../convergence/plot.ts';
import type { BenchSuite } from '../lib/types.ts';
import { CODECS, type CodecKey, DEFAULTS, type RunResult, runSwarmConvergence } from '../swarm-convergence/run.ts';

function plots(stem: string, runs: RunResult[], title: string): string[] {
  const COLOR: Record<string, string> = { none: '#1f77b4', int8: '#2ca02c', topk: '#d62728', sign: '#9467bd' };
  const DASH: Record<string, string | undefined> = { allreduce: undefined, dpsgd: '7 4', choco: '2 3', adpsgd: '10 3 2 3' };
  const series = (rs: RunResult[], x: (p: RunResult['curve'][number]) => number): Series[] =>
    rs.map((r) => {
      const [a, c] = r.label.split('_') as [string, CodecKey];
      const single = a.startsWith('single');
      const t0 = r.curve[0]?.seconds ?? 0;
      return { name: r.label, points: r.curve.map((p) => [x({ ...p, seconds: p.seconds - t0 }), p.loss] as [number, number]), color: single ? '#000' : r.label.includes('_slowed') ? (a === 'adpsgd' ? '#d62728' : '#1f77b4') : COLOR[c], dash: single ? '8 4' : DASH[a], width: single ? 2.4 : 1.6 };
    });
  const files: string[] = [];
  const write = (suffix: string, svg: string) => {
    writeFileSync(`${stem}-${suffix}.svg`, svg);
    files.push(`${stem}-${suffix}.svg`);
  };
  const single = runs.find((r) => r.label === 'single');
  const lan = runs.filter((r) => !r.label.endsWith('_wan') && !r.label.includes('_slowed') && !r.label.startsWith('single') && !r.label.startsWith('warmup_'));
  const wan = runs.filter((r) => r.label.endsWith('_wan') && !r.label.startsWith('single'));
  const slowed = runs.filter((r) => r.label.includes('_slowed') && !r.label.startsWith('warmup_'));
  if (lan.length) {
    const all = single ? [single, ...lan] : lan;
    write('steps', lineChart({ title, xLabel: 'step (samples / (peers × batch))', yLabel: 'held-out loss (mean over peers)', series: series(all, (p) => p.step) }));
    write('bytes', lineChart({ title, xLabel: 'gossip bytes sent per peer (log)', yLabel: 'held-out loss (mean over peers)', series: series(lan, (p) => p.bytes), logX: true }));
  }
  if (wan.length) write('wan-time', lineChart({ title: `${title}, WAN model, 20 Mbit/s + 50 ms per link`, xLabel: 'wall time since the step-0 evaluation (s)', yLabel: 'held-out loss (mean over peers)', series: series(wan, (p) => p.seconds) }));
  if (slowed.length) write('slowed', lineChart({ title: '2 peers slowed 4x: adpsgd vs synchronous dpsgd', xLabel: 'wall time (s)', yLabel: 'held-out loss (mean over peers)', series: series(slowed, (p) => p.seconds) }));
  return files;
}

const suite: BenchSuite = {
  name: 'convergence-swarm',
  description: 'allreduce/dpsgd/choco × none/int8/topk1%/sign, adpsgd with slowed peers and a single peer at equal samples: headless browser peers on the real swarm (wasm backend)',
  async run(ctx) {
    if (process.env.SWARMGRAD_NETNS !== '1') throw new Error('run inside the namespace: test/netns/run.sh npm run bench -- convergence-swarm ...');
    const num = (k: string, d: number) => (ctx.options[k] === undefined ? d : Number(ctx.options[k]));
    const quick = ctx.options.quick === 'true';
    const topo = (k: string, d: string) => {
      const t = ctx.options[k] ?? d;
      if (t !== 'ring' && t !== 'exponential') throw new Error(`--${k} must be ring or exponential, got ${t}`);
      return t as 'ring' | 'exponential';
    };
    const codec = (k: string, d: CodecKey) => {
      const c = ctx.options[k] ?? d;
      if (!(CODECS as string[]).includes(c)) throw new Error(`--${k} must be one of ${CODECS.join(', ')}, got ${c}`);
      return c as CodecKey;
    };
    const optimizer = ctx.options.optimizer ?? DEFAULTS.optimizer;
    if (optimizer !== 'sgd' && optimizer !== 'adamw') throw new Error(`--optimizer must be sgd or adamw, got ${optimizer}`);
    const o = {
      ...DEFAULTS,
      peers: num('peers', quick ? 4 : DEFAULTS.peers),
      steps: num('steps', quick ? 40 : DEFAULTS.steps),
      nEmbd: num('embd', DEFAULTS.nEmbd),
      nLayer: num('layers', DEFAULTS.nLayer),
      contextLength: num('ctx', DEFAULTS.contextLength),
      batch: num('batch', DEFAULTS.batch),
      evalEvery: num('eval-every', quick ? 5 : DEFAULTS.evalEvery),
      evalBatches: num('eval-batches', DEFAULTS.evalBatches),
      slowedRepeats: num('slowed-repeats', DEFAULTS.slowedRepeats),
      slowedAccum: num('slowed-accum', DEFAULTS.slowedAccum),
      slowedEvalEvery: num('slowed-eval-every', DEFAULTS.slowedEvalEvery),
      slowedTargetFrac: num('slowed-target-frac', DEFAULTS.slowedTargetFrac),
      slowedCodec: codec('slowed-codec', DEFAULTS.slowedCodec),
      slowedDeviceMs: num('slowed-device-ms', DEFAULTS.slowedDeviceMs),
      compute: ctx.options['inline-compute'] === 'true' ? ('inline' as const) : DEFAULTS.compute,
      optimizer: optimizer as 'sgd' | 'adamw',
      lr: num('lr', DEFAULTS.lr),
      momentum: num('momentum', DEFAULTS.momentum),
      clip: num('clip', DEFAULTS.clip),
      warmup: num('warmup', quick ? 4 : DEFAULTS.warmup),
      topology: topo('topology', DEFAULTS.topology),
      wanTopology: topo('wan-topology', DEFAULTS.wanTopology),
      gamma: { ...DEFAULTS.gamma, topk: num('gamma-topk', DEFAULTS.gamma.topk), sign: num('gamma-sign', DEFAULTS.gamma.sign) },
      wan: !(quick || ctx.options['no-wan'] === 'true'),
      wanModel: {
        nEmbd: num('wan-embd', DEFAULTS.wanModel.nEmbd),
        nLayer: num('wan-layers', DEFAULTS.wanModel.nLayer),
        batch: num('wan-batch', DEFAULTS.wanModel.batch),
        steps: num('wan-steps', DEFAULTS.wanModel.steps),
        evalEvery: num('wan-eval-every', DEFAULTS.wanModel.evalEvery),
        evalBatches: DEFAULTS.wanModel.evalBatches,
      },
      only: ctx.options.only ? new RegExp(ctx.options.only) : undefined,
      log: ctx.log,
      // Partial curves after every run (the final file replaces them).
      onRun: (runs: RunResult[]) => {
        if (ctx.options.json) writeFileSync(`${ctx.options.json.replace(/\.json$/, '')}-curves.json`, `${JSON.stringify({ partial: true, runs }, null, 1)}\n`);
      },
    };
    const { results, backend, runs, mesh } = await runSwarmConvergence(o);
    ctx.env.device = `chromium headless, ${backend} backend (${o.compute === 'worker' ? 'in a Web Worker' : 'on the main thread'}), ${o.peers} peers on ${ctx.env.cpus} CPU cores${mesh.relayedPairs ? `, ${mesh.relayedPairs} of ${o.peers * (o.peers - 1)} directed links relayed (direct mesh incomplete)` : ''}`;
    const summary = runs.map((r) => ({ label: r.label, params: r.params, seconds: r.seconds, finalLoss: r.finalLoss, bytesPerPeerStep: r.bytesPerPeerStep, joinBytesPerPeer: r.joinBytesPerPeer, time: r.time, timeToTarget: r.timeToTarget, reached: r.reached }));
    // Per-run summaries (time, bytes, breakdown) go to the curves file; env stays small (it is
    // repeated in every result).
    ctx.env.config = { ...o, only: ctx.options.only, log: undefined, onRun: undefined, runs: summary.map((r) => ({ label: r.label, seconds: r.seconds, finalLoss: r.finalLoss })) };
    const json = ctx.options.json;
    if (json) {
      const stem = json.replace(/\.json$/, '');
      writeFileSync(`${stem}-curves.json`, `${JSON.stringify({ device: ctx.env.device, config: { ...o, only: ctx.options.only, log: undefined, onRun: undefined }, runs }, null, 1)}\n`);
      const files = plots(stem, runs, `${o.peers} browser peers, GPT ${o.nEmbd}x${o.nLayer} (${runs[0]?.params ?? ''} params), ${backend}`);
      ctx.log(`wrote ${stem}-curves.json ${files.join(' ')}`);
    }
    return results;
  },
};
export default suite;
