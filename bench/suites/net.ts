/**
 * `npm run bench -- net [--mib 16] [--warm 3]`: the swarm's data plane in one run,
 * inside the hermetic network namespace of test/netns/run.sh (headless Chromium peers, a
 * relay on 127.0.0.1, WebRTC over a TEST-NET veth). Reports MiB/s of both data paths of a direct
 * connection (libp2p stream, simple-peer bulk channel) and of SwarmNode's default, side by side
 * and interleaved, their CPU ms per MiB (browser process tree; robust to other load), the relayed
 * path, setup times per phase, and the first-transfer stall with and without SwarmNode's warm-up.
 * (Dial times in an N-peer mesh: `npm run bench -- mesh`.)
 * The measurements live in bench/net/measure.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from '../lib/types.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

const suite: BenchSuite = {
  name: 'net',
  description: 'direct WebRTC (libp2p stream vs simple-peer bulk channel vs default) vs relayed MiB/s, CPU ms/MiB, setup times, first-transfer stall',
  async run({ options, env, log }) {
    const out = join(mkdtempSync(join(tmpdir(), 'sg-bench-net-')), 'net.json');
    const args = ['tsx', 'bench/net/measure.ts', '--out', out, '--mib', options.mib ?? '16', '--warm', options.warm ?? '3'];
    log(`running ${args.join(' ')} inside test/netns/run.sh`);
    // Everything here is CPU-bound on one machine: record how busy it was.
    env.loadavg_before = loadavg()[0];
    const r = spawnSync('test/netns/run.sh', ['npx', ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
    if (r.status !== 0) throw new Error(`bench/net/measure.ts failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
    const j = JSON.parse(readFileSync(out, 'utf8')) as { chromium: string; rows: Awaited<ReturnType<BenchSuite['run']>> };
    env.loadavg_after = loadavg()[0];
    env.device = `chromium ${j.chromium}, netns veth 192.0.2.50 (all peers on one machine)`;
    return j.rows;
  },
};
export default suite;
