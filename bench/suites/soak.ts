/**
 * `npm run bench -- soak [--peers 16] [--minutes 5] [--sample-s 5]`: N idle headless Chromium
 * volunteers (one browser, one page each; heartbeats only, no training and no warm-up
 * transfers) form a full direct mesh through a relay inside test/netns/run.sh's namespace, then
 * every page is sampled every few seconds for `minutes`: the fewest direct links seen, direct
 * connections that closed, unanswered samples, members, machine CPU and JS heap. The issue's
 * target: 16 peers stay fully connected for 5 minutes. Not part of `npm test`.
 */
import type { BenchSuite } from '../lib/types.ts';
import { runMeshScript } from './mesh.ts';

const suite: BenchSuite = {
  name: 'soak',
  description: 'N idle browser peers hold a full direct mesh for M minutes (min links, disconnects, CPU, heap)',
  async run({ options, env, log }) {
    const minutes = Number(options.minutes ?? 5);
    const args = ['--soak', '--peers', options.peers ?? '16', '--minutes', String(minutes), '--sample-s', options['sample-s'] ?? '5'];
    return runMeshScript(args, log, env, (minutes * 60 + 900) * 1000);
  },
};
export default suite;
