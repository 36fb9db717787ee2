/**
 * JavaScript CPU profile of both pages of a pair while they move tensors (inside
 * test/netns/run.sh):  test/netns/run.sh npx tsx bench/net/profile.ts [--mib 16] [--runs 3]
 * For each data path: the V8 sampling profile (Chrome DevTools Protocol) of the sender and the
 * receiver page, summarized as self time per function and as JS share of the transfer's wall
 * time. What it is not: the CPU of Chromium's WebRTC/network threads (see cpu_ms_per_mib_* in the
 * net suite); this shows how much of a renderer's time our JavaScript takes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchBrowser, launchSwarm, type SwarmPeer } from '../../peer-core/src/harness/index.ts';
import { startRelay } from '../../relay/src/relay.ts';

const { values } = parseArgs({ options: { mib: { type: 'string' }, runs: { type: 'string' } } });
const MiB = 1024 * 1024;
const size = Number(values.mib ?? 16) * MiB;
const runs = Number(values.runs ?? 3);
const page = fileURLToPath(new URL('./peer.page.ts', import.meta.url));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time (ms) per function, from the samples and their time deltas. */
function selfTimes(p: Profile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i]!)!;
    const f = n.callFrame;
    const file = f.url.split('/').pop() ?? '';
    const key = f.url ? `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}` : `${f.functionName}`;
    out.set(key, (out.get(key) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'sg-bench-prof-'));
const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
const browser = await launchBrowser({ swiftshader: false });
try {
  const s = await launchSwarm({ relay: relay.http.url, peers: 2, page, browser });
  await s.waitForMesh(90_000);
  const [a, b] = s.peers as [SwarmPeer, SwarmPeer];
  for (const kind of ['simple-peer', 'libp2p', 'simple-peer', 'libp2p'] as const) {
    await a.call('sendVia', b.peerId, { kind, bytes: size, seed: 1 }); // warm this path
    const sessions = await Promise.all([a, b].map((p) => p.context.newCDPSession(p.page)));
    for (const c of sessions) {
      await c.send('Profiler.enable');
      await c.send('Profiler.setSamplingInterval', { interval: 200 });
      await c.send('Profiler.start');
    }
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await a.call('sendVia', b.peerId, { kind, bytes: size, seed: 10 + i });
    const wall = performance.now() - t0;
    const profiles = await Promise.all(sessions.map(async (c) => ((await c.send('Profiler.stop')) as { profile: Profile }).profile));
    for (const [who, prof] of [['sender', profiles[0]!], ['receiver', profiles[1]!]] as const) {
      const st = selfTimes(prof);
      const idle = (st.get('(idle)') ?? 0) + (st.get('(program)') ?? 0);
      const total = [...st.values()].reduce((x, y) => x + y, 0);
      const top = [...st.entries()].filter(([k]) => k !== '(idle)' && k !== '(program)').sort((x, y) => y[1] - x[1]).slice(0, 8);
      const js = total - idle;
      console.log(`${kind} ${who}: ${(runs * size) / MiB} MiB in ${wall.toFixed(0)} ms; JS+GC ${js.toFixed(0)} ms = ${((js / ((runs * size) / MiB)) || 0).toFixed(2)} ms/MiB; top: ${top.map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' | ')}`);
    }
    await Promise.all(sessions.map((c) => c.detach()));
  }
  await s.close();
} finally {
  await browser.close();
  await relay.stop();
}
process.exit(0);
