/**
 * First-transfer stall over several fresh pairs (inside test/netns/run.sh):
 *   test/netns/run.sh npx tsx bench/net/stall.ts --pairs 4 --warmup 1,4 [--mib 16]
 * For each warm-up size (MiB; 0 = off) and pair: the first `mib` MiB tensor on the default data
 * path minus the second one. A diagnostic beside the net suite (which measures one pair).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchBrowser, launchSwarm, type SwarmPeer } from '../../peer-core/src/harness/index.ts';
import { startRelay } from '../../relay/src/relay.ts';

const { values } = parseArgs({ options: { pairs: { type: 'string' }, warmup: { type: 'string' }, mib: { type: 'string' }, start: { type: 'string' } } });
const MiB = 1024 * 1024;
const size = Number(values.mib ?? 16) * MiB;
const page = fileURLToPath(new URL('./peer.page.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sg-bench-stall-'));
const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
const browser = await launchBrowser({ swiftshader: false });
const extra = JSON.parse(values.start ?? '{}') as Record<string, unknown>;
try {
  for (const w of (values.warmup ?? '1').split(',').map(Number)) {
    const stalls: number[] = [];
    for (let i = 0; i < Number(values.pairs ?? 3); i++) {
      const s = await launchSwarm({ relay: relay.http.url, peers: 2, page, browser, start: { ...extra, warmupBytes: Math.round(w * MiB) } });
      await s.waitForMesh(60_000);
      const [a, b] = s.peers as [SwarmPeer, SwarmPeer];
      for (let t = 0; t < 600 && w > 0; t++) {
        const [ia, ib] = (await Promise.all([a.info(), b.info()])) as unknown as { stats: { warmupMs: Record<string, number> } }[];
        if (ia!.stats.warmupMs[b.peerId] !== undefined && ib!.stats.warmupMs[a.peerId] !== undefined) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const ms: number[] = [];
      const gaps: unknown[] = [];
      for (let k = 0; k < 3; k++) {
        await b.call('traceBulk', a.peerId);
        ms.push((await a.call<{ ms: number }>('sendTensor', b.peerId, { bytes: size, seed: 1 + k, tensorId: 1 + k })).ms);
        gaps.push(await b.call('traceGaps'));
      }
      console.error(`[stall] bulk A ${JSON.stringify(await a.call('bulkStats'))} B ${JSON.stringify(await b.call('bulkStats'))}`);
      console.error(`[stall] arrival gaps at the receiver (ms, message index): ${JSON.stringify(gaps)}`);
      stalls.push(ms[0]! - Math.min(ms[1]!, ms[2]!));
      console.error(`[stall] warm-up ${w} MiB pair ${i}: ${ms.map((x) => x.toFixed(0)).join(', ')} ms`);
      await s.close();
    }
    console.log(JSON.stringify({ warmupMiB: w, stallsMs: stalls.map((x) => Math.round(x)) }));
  }
} finally {
  await browser.close();
  await relay.stop();
}
process.exit(0);
