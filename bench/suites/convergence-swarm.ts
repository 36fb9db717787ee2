/**
 * convergence-swarm: gossip algorithms × codecs with REAL browser peers over the real swarm
 * (bench/swarm-convergence/run.ts): 8 headless Chromium peers, a small GPT on the bundled corpus,
 * the peer runtime over direct WebRTC links, plus WAN shaping (20 Mbit/s, 50 ms) for time to
 * target and 2 slowed peers for adpsgd vs dpsgd. Run it inside the network namespace:
 *   test/netns/run.sh npm run bench -- convergence-swarm --json bench/results/convergence-swarm.json
 * Options: --peers N (8), --steps N (30), --embd N (32), --layers N (1), --ctx N (16), --batch N (8),
 * --lr X (0.01), --eval-every N (5), --no-wan, --quick (4 peers, 20 steps, no WAN).
 */
import { DEFAULTS, runSwarmConvergence } from '../swarm-convergence/run.ts';
import type { BenchSuite } from '../lib/types.ts';

const suite: BenchSuite = {
  name: 'convergence-swarm',
  description: 'allreduce/dpsgd/choco × none/int8/topk1%/sign, adpsgd with slowed peers and a single peer: headless browser peers on the real swarm (wasm backend)',
  async run(ctx) {
    if (process.env.SWARMGRAD_NETNS !== '1') throw new Error('run inside the namespace: test/netns/run.sh npm run bench -- convergence-swarm ...');
    const num = (k: string, d: number) => (ctx.options[k] === undefined ? d : Number(ctx.options[k]));
    const quick = ctx.options.quick === 'true';
    const o = {
      ...DEFAULTS,
      peers: num('peers', quick ? 4 : DEFAULTS.peers),
      steps: num('steps', quick ? 20 : DEFAULTS.steps),
      nEmbd: num('embd', DEFAULTS.nEmbd),
      nLayer: num('layers', DEFAULTS.nLayer),
      contextLength: num('ctx', DEFAULTS.contextLength),
      batch: num('batch', DEFAULTS.batch),
      lr: num('lr', DEFAULTS.lr),
      evalEvery: num('eval-every', DEFAULTS.evalEvery),
      wan: !(quick || ctx.options['no-wan'] === 'true'),
      log: ctx.log,
    };
    const { results, backend, runs } = await runSwarmConvergence(o);
    ctx.env.device = `chromium headless, ${backend} backend, ${o.peers} peers`;
    ctx.env.config = { ...o, log: undefined, runs: runs.map((r) => ({ label: r.label, seconds: r.seconds, finalLoss: r.finalLoss, bytesPerPeerStep: r.bytesPerPeerStep, timeToTarget: r.timeToTarget, reached: r.reached })) };
    return results;
  },
};
export default suite;
