/**
 * Where an idle swarm's CPU goes (inside test/netns/run.sh):
 *   test/netns/run.sh npx tsx bench/net/idle-profile.ts [--peers 8] [--window-s 20] [--start JSON] [--forming]
 * Launches a relay (child process) and N idle peers (no warm-up transfers), waits for the full
 * direct mesh (or --mesh-timeout-s; with --forming it does not wait: the window is the mesh's
 * formation), then over one window of --window-s seconds reports:
 *   - CPU seconds per process kind (Chromium browser, network service, GPU, each renderer, the
 *     relay, this driver), from /proc/<pid>/stat;
 *   - the V8 sampling profile of two pages, as self time per function and per source package.
 * What it is not: a benchmark with targets (bench/net/mesh.ts reports the mesh); a diagnostic.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launchBrowser, launchSwarm } from '../../peer-core/src/harness/index.ts';
import { spawnRelayChild } from './relay-child.ts';

const { values } = parseArgs({
  options: { peers: { type: 'string' }, 'window-s': { type: 'string' }, start: { type: 'string' }, 'mesh-timeout-s': { type: 'string' }, forming: { type: 'boolean' } },
});
const N = Number(values.peers ?? 8);
const windowMs = Number(values['window-s'] ?? 20) * 1000;
const HZ = 100; // USER_HZ on Linux

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** CPU seconds (user + system) of every process, with a label from its command line. */
function processCpu(): Map<number, { label: string; s: number }> {
  const out = new Map<number, { label: string; s: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / HZ;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const c = cmd.join(' ');
      let label: string;
      if (/chrom/.test(cmd[0] ?? '')) {
        const type = /--type=([a-z-]+)/.exec(c)?.[1];
        const sub = /--utility-sub-type=([\w.]+)/.exec(c)?.[1];
        label = type === 'renderer' ? 'renderer' : type ? `chromium ${type}${sub ? ` ${sub}` : ''}` : 'chromium browser';
      } else if (c.includes('--relay-child')) label = 'relay';
      else if (c.includes('idle-profile.ts')) label = 'driver';
      else continue;
      out.set(Number(d), { label, s });
    } catch {
      // the process ended
    }
  }
  return out;
}

const relayChild = await spawnRelayChild();
const relayUrl = relayChild.url;
const browser = await launchBrowser({ swiftshader: false });
try {
  const s = await launchSwarm({ relay: relayUrl, peers: N, browser, startConcurrency: 4, start: { warmupBytes: 0, ...(JSON.parse(values.start ?? '{}') as object) } });
  const t0 = performance.now();
  if (values.forming) console.log('profiling while the mesh forms (--forming), right after launch');
  else {
    try {
      await s.waitForMesh(Number(values['mesh-timeout-s'] ?? 120) * 1000);
      console.log(`full mesh of ${N} after ${((performance.now() - t0) / 1000).toFixed(1)} s past launch`);
    } catch (e) {
      console.log(`no full mesh: ${(e as Error).message.slice(0, 200)}`);
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
  const sessions = await Promise.all(s.peers.slice(0, 2).map((p) => p.context.newCDPSession(p.page)));
  for (const c of sessions) {
    await c.send('Profiler.enable');
    await c.send('Profiler.setSamplingInterval', { interval: 500 });
    await c.send('Profiler.start');
  }
  const a = processCpu();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const b = processCpu();
  const wall = (performance.now() - w0) / 1000;
  const profiles = await Promise.all(sessions.map(async (c) => ((await c.send('Profiler.stop')) as { profile: Profile }).profile));
  const byLabel = new Map<string, { s: number; n: number }>();
  for (const [pid, v] of b) {
    const d = v.s - (a.get(pid)?.s ?? 0);
    const e = byLabel.get(v.label) ?? { s: 0, n: 0 };
    e.s += d;
    e.n += 1;
    byLabel.set(v.label, e);
  }
  let total = 0;
  console.log(`CPU over ${wall.toFixed(1)} s (cores busy = CPU s / wall s):`);
  for (const [k, v] of [...byLabel].sort((x, y) => y[1].s - x[1].s)) {
    total += v.s;
    console.log(`  ${k.padEnd(44)} x${String(v.n).padEnd(3)} ${(v.s / wall).toFixed(3)} cores`);
  }
  console.log(`  total ${(total / wall).toFixed(3)} cores`);
  for (const [i, p] of profiles.entries()) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const fn = new Map<string, number>();
    const pkg = new Map<string, number>();
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    for (let k = 0; k < samples.length; k++) {
      const f = byId.get(samples[k]!)!.callFrame;
      const ms = (deltas[k + 1] ?? 0) / 1000;
      const key = f.url ? `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}` : f.functionName;
      fn.set(key, (fn.get(key) ?? 0) + ms);
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
      const pk = m ? m[1]! : f.url ? 'ours/other' : f.functionName;
      pkg.set(pk, (pkg.get(pk) ?? 0) + ms);
    }
    const busy = [...fn].filter(([k]) => k !== '(idle)').reduce((x, [, v]) => x + v, 0);
    console.log(`page ${i}: main-thread JS busy ${(busy / 1000 / wall).toFixed(3)} of its wall time`);
    console.log(`  by package: ${[...pkg].filter(([k]) => k !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' | ')}`);
    console.log(`  top: ${[...fn].filter(([k]) => k !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, 14).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' | ')}`);
  }
  await s.close();
} finally {
  await browser.close();
  relayChild.stop();
}
process.exit(0);
