/**
 * `npm run bench -- mesh [--peers 8]`: an N-peer mesh of headless Chromium volunteers (one
 * browser, one page each) through a relay, inside the hermetic network namespace of
 * test/netns/run.sh: how many of the N(N-1) directed links become direct WebRTC connections,
 * how long every direct dial takes (target: none over 2 s in an 8-peer mesh), and the time
 * from launch to the full mesh. The measurement lives in bench/net/mesh.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from '../lib/types.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Run bench/net/mesh.ts inside the namespace and return its rows (shared with the soak suite). */
export function runMeshScript(args: string[], log: (m: string) => void, env: Record<string, unknown>, timeoutMs: number) {
  const out = join(mkdtempSync(join(tmpdir(), 'sg-bench-mesh-')), 'mesh.json');
  const full = ['tsx', 'bench/net/mesh.ts', '--out', out, ...args];
  log(`running ${full.join(' ')} inside test/netns/run.sh`);
  // Everything here is CPU-bound on one machine: record how busy it was.
  env.loadavg_before = loadavg()[0];
  const r = spawnSync('test/netns/run.sh', ['npx', ...full], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`bench/net/mesh.ts failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { chromium: string; rows: Awaited<ReturnType<BenchSuite['run']>> };
  env.loadavg_after = loadavg()[0];
  env.device = `chromium ${j.chromium}, netns veth 192.0.2.50 (all peers and the relay on one machine)`;
  return j.rows;
}

const suite: BenchSuite = {
  name: 'mesh',
  description: 'N-peer browser mesh: direct links, dial times (target < 2 s each), time to the full mesh',
  async run({ options, env, log }) {
    const warm = options['warmup-bytes'] !== undefined ? ['--warmup-bytes', options['warmup-bytes']] : [];
    const start = options.start !== undefined ? ['--start', options.start] : [];
    return runMeshScript(['--peers', options.peers ?? '8', ...warm, ...start], log, env, 600_000);
  },
};
export default suite;
