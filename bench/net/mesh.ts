/**
 * Mesh and soak measurements of the swarm, run inside the hermetic namespace
 * (test/netns/run.sh): a relay in its own process, N headless Chromium peers (one browser,
 * one context + page each, the default e2e peer page), all on one machine. Invoked by
 * bench/suites/mesh.ts and bench/suites/soak.ts; writes `{chromium, rows}` JSON to --out.
 *
 *   mesh (default): launch N peers, wait until all N(N-1) directed links are direct WebRTC
 *     connections (not relayed), then report the links, every dial's time (incl. retries) and
 *     the time to the full mesh.
 *   soak (--soak): launch N idle peers (heartbeats only: no training, no warm-up transfers),
 *     wait for the full mesh, then sample every page every --sample-s seconds for --minutes:
 *     direct links, direct connections that closed, members, JS heap, machine CPU.
 *
 * The relay runs in a child process (relay-child.ts): the driver process also runs Playwright, which receives
 * every relay WebSocket frame of every page as a CDP event; a relay in the same process
 * competes with that for one event loop.
 *
 * Pages are polled with a lean evaluate (direct peers and dial records), each call bounded by
 * a timeout: a page that does not answer counts as having no links in that sample.
 *
 * What it is not: a throughput benchmark (bench/net/measure.ts) or a test.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchBrowser, launchSwarm, type SwarmPeer } from '../../peer-core/src/harness/index.ts';
import { spawnRelayChild } from './relay-child.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    peers: { type: 'string' },
    soak: { type: 'boolean' },
    'warmup-bytes': { type: 'string' },
    start: { type: 'string' },
    'dials-out': { type: 'string' },
    minutes: { type: 'string' },
    'sample-s': { type: 'string' },
    'mesh-timeout-s': { type: 'string' },
    'start-concurrency': { type: 'string' },
    'relay-in-process': { type: 'boolean' },
    'pc-trace': { type: 'boolean' },
    'start-while-loading': { type: 'boolean' },
  },
});

const soak = values.soak === true;
const N = Number(values.peers ?? (soak ? 16 : 8));
const minutes = Number(values.minutes ?? 5);
const sampleMs = Number(values['sample-s'] ?? 5) * 1000;
const meshTimeoutMs = Number(values['mesh-timeout-s'] ?? (soak ? 300 : 150)) * 1000;
const log = (m: string) => console.error(`[${soak ? 'soak' : 'mesh'}] ${m}`);
const tag = soak ? `soak${N}` : `mesh${N}`;

interface Row {
  name: string;
  value: number;
  unit: string;
  anchor?: string;
  anchorValue?: number;
  ratio?: number;
}
/** SwarmNode's DialRecord: `ms` first attempt -> connection open (retries included),
 *  `attemptMs` successful attempt -> open, `waitMs` queued -> first attempt. */
interface DialRec {
  peerId: string;
  ok: boolean;
  attempts: number;
  ms: number;
  attemptMs?: number;
  waitMs?: number;
  phases?: string[];
  errors: string[];
}
interface Sample {
  direct: string[];
  dials: DialRec[];
  members: number;
  closes: number;
  heap: number;
  /** Peers whose warm-up (this page's sending direction) finished. */
  warmed: string[];
  /** Times the page lost its relay connection and dialled it again. */
  relayReconnects: number;
}

async function startRelayChild(): Promise<{ url: string; stop: () => void }> {
  if (values['relay-in-process']) {
    // A/B switch: the relay in the driver process, as bench/net/measure.ts and the e2e test run it.
    const { startRelay } = await import('../../relay/src/relay.ts');
    const dir = mkdtempSync(join(tmpdir(), 'sg-mesh-relay-'));
    const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
    return { url: relay.http.url, stop: () => void relay.stop() };
  }
  return spawnRelayChild();
}

const timeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]).catch(() => undefined);

/** One lean look at a page: its direct peers, dial records, members, closed direct connections, JS heap. */
function sample(p: SwarmPeer, ms = 15_000): Promise<Sample | undefined> {
  return timeout(
    p.page.evaluate(() => {
      type N = {
        directPeers(): string[];
        peers(): unknown[];
        stats: { dials: unknown[]; warmupMs: Record<string, number>; relayReconnects?: number };
        libp2p: { addEventListener(t: string, f: (e: { detail: { remoteAddr: { toString(): string }; limits?: unknown } }) => void): void };
      };
      const w = window as unknown as { swarmgradPeer: { _node(): N }; __sgCloses?: number };
      const n = w.swarmgradPeer._node();
      if (w.__sgCloses === undefined) {
        w.__sgCloses = 0;
        // Direct WebRTC connections that closed (the matcher's test: /webrtc without a circuit hop after it).
        n.libp2p.addEventListener('connection:close', (e) => {
          const a = e.detail.remoteAddr.toString();
          if (a.endsWith(`/webrtc/p2p/${a.split('/p2p/').pop()}`) && e.detail.limits === undefined) w.__sgCloses! += 1;
        });
      }
      const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return { direct: n.directPeers(), dials: n.stats.dials as DialRec[], members: n.peers().length, closes: w.__sgCloses, heap: mem?.usedJSHeapSize ?? 0, warmed: Object.keys(n.stats.warmupMs), relayReconnects: n.stats.relayReconnects ?? 0 };
    }),
    ms,
  );
}

/** Whole-machine CPU busy share since the previous call (/proc/stat). */
let lastCpu: number[] | undefined;
function machineCpu(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  const prev = lastCpu;
  lastCpu = [idle, total];
  if (!prev) return Number.NaN;
  return 1 - (idle - prev[0]!) / Math.max(1, total - prev[1]!);
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : Number.NaN);
const relay = await startRelayChild();
const browser = await launchBrowser({ swiftshader: false });
const chromium = browser.version();
const rows: Row[] = [];
try {
  const t0 = performance.now();
  const s = await launchSwarm({
    relay: relay.url,
    peers: N,
    browser,
    startConcurrency: Number(values['start-concurrency'] ?? 4),
    // --start-while-loading: start each page's node as soon as it is loaded, so early dials share
    // the CPU with pages still loading (the harness default loads all pages first).
    loadBeforeStart: !values['start-while-loading'],
    // --pc-trace: the peer page with every RTCPeerConnection's state changes recorded (pc-trace.ts).
    ...(values['pc-trace'] ? { page: fileURLToPath(new URL('./pc-trace.page.ts', import.meta.url)) } : {}),
    // --warmup-bytes N: SwarmNode's per-connection warm-up (default NET_DEFAULTS.warmupBytes; the soak uses 0).
    // --start JSON: extra SwarmNode options for every page (experiments, e.g. '{"warmupQuietMs":0}').
    start: { ...(soak ? { warmupBytes: 0 } : values['warmup-bytes'] !== undefined ? { warmupBytes: Number(values['warmup-bytes']) } : {}), ...(JSON.parse(values.start ?? '{}') as Record<string, unknown>) },
  });
  const launchedS = (performance.now() - t0) / 1000;
  const launchMode = values['start-while-loading'] ? 'each node started as soon as its page loaded' : 'all pages loaded, then the nodes started';
  log(`${N} peers started in ${launchedS.toFixed(1)} s (${launchMode})`);
  // Each page's start() phases (SwarmNode.timings), to see what a start costs while others dial.
  for (const k of [...new Set(s.peers.flatMap((p) => Object.keys(p.timings)))]) log(`  start ${k}: ${s.peers.map((p) => p.timings[k]?.toFixed(0) ?? '-').join(' ')} ms`);
  const ids = s.peers.map((p) => p.peerId);
  const idx = new Map(ids.map((id, i) => [id, i]));

  // ---- wait for the full direct mesh
  let samples: (Sample | undefined)[] = [];
  let links = 0;
  let fullAt = Number.NaN;
  let polls = 0;
  while (performance.now() - t0 < meshTimeoutMs) {
    samples = await Promise.all(s.peers.map((p) => sample(p)));
    links = samples.reduce((a, x) => a + (x ? x.direct.filter((id) => idx.has(id)).length : 0), 0);
    if (links === N * (N - 1)) {
      fullAt = (performance.now() - t0) / 1000;
      break;
    }
    if (++polls % 10 === 0) log(`t=${((performance.now() - t0) / 1000).toFixed(0)} s: ${links} of ${N * (N - 1)} links, ${samples.filter((x) => !x).length} pages not answering`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const missing = s.peers.flatMap((p, i) => (samples[i] ? ids.filter((id) => id !== p.peerId && !samples[i]!.direct.includes(id)).map((id) => `${i}->${idx.get(id)}`) : [`${i}: no answer`]));
  log(`mesh: ${links} of ${N * (N - 1)} directed links direct${Number.isNaN(fullAt) ? `; missing ${missing.join(' ')}` : ` after ${fullAt.toFixed(1)} s`}`);
  if (values['pc-trace']) {
    // Every RTCPeerConnection that never connected, or connected more than 1 s after it was
    // created: its state changes (pc-trace.ts).
    type T = { id: number; createdAt: number; events: string[]; connected: boolean; closedAt?: number };
    const all = await Promise.all(s.peers.map((p) => timeout(p.page.evaluate(() => (window as unknown as { __pcTrace(): T[] }).__pcTrace()), 15_000)));
    let total = 0;
    for (const [i, list] of all.entries()) {
      for (const t of list ?? []) {
        total++;
        const connAt = Number(/conn:connected@(\d+)/.exec(t.events.join(' '))?.[1] ?? Number.NaN);
        if (!t.connected || connAt > 1000 || t.closedAt !== undefined) log(`  pc page ${i} #${t.id} created ${(t.createdAt / 1000).toFixed(2)} s: ${t.connected ? `connected@${connAt}` : 'NEVER connected'}: ${t.events.join(' ')}`);
      }
    }
    log(`pc-trace: ${total} RTCPeerConnections`);
  }
  const dials = samples.flatMap((x) => x?.dials ?? []);
  const ok = dials.filter((d) => d.ok);
  for (const [i, x] of samples.entries()) {
    for (const d of (x?.dials ?? []).filter((y) => !y.ok || y.attempts > 1 || y.ms > 2000 || (y.attemptMs ?? 0) > 1000)) {
      log(`  slow/failed dial ${i} -> ${idx.get(d.peerId)}: ${d.ok ? 'ok' : 'FAILED'} ${d.attempts} attempt(s) ${d.ms.toFixed(0)} ms (successful attempt ${d.attemptMs?.toFixed(0)} ms, queued ${d.waitMs?.toFixed(0)} ms) phases ${(d.phases ?? []).join(' ')} ${d.errors.join(' | ')}`);
    }
  }
  const attempts = ok.map((d) => d.attemptMs ?? Number.NaN);
  // --dials-out FILE: every page's dial records (diagnostics: line dials of different pages up in time).
  if (values['dials-out']) writeFileSync(values['dials-out'], JSON.stringify(samples.flatMap((x, i) => (x?.dials ?? []).map((d) => ({ from: i, to: idx.get(d.peerId), ...d })))));
  const reconnects = samples.map((x) => x?.relayReconnects ?? 0);
  if (reconnects.some((r) => r > 0)) log(`relay connection lost and re-dialled (per page): ${reconnects.join(' ')}`);
  // ---- the warm-ups of every link (deferred until the mesh's dials are done; not in the dial times)
  let warmAt = Number.NaN; // stays NaN (no row) when the mesh or the warm-ups did not complete
  if (!soak && !Number.isNaN(fullAt) && values['warmup-bytes'] !== '0') {
    const warmEnd = performance.now() + 60_000;
    for (;;) {
      const w = samples.reduce((a, x) => a + (x ? x.warmed.filter((id) => idx.has(id)).length : 0), 0);
      if (w >= N * (N - 1)) {
        warmAt = (performance.now() - t0) / 1000;
        break;
      }
      if (performance.now() > warmEnd) {
        log(`warm-ups: ${w} of ${N * (N - 1)} directions done after 60 s more`);
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
      samples = await Promise.all(s.peers.map((p) => sample(p)));
    }
  }

  rows.push(
    { name: `${tag}_direct_links`, value: links, unit: `of ${N * (N - 1)} directed links direct (WebRTC, not relayed)${Number.isNaN(fullAt) ? `; missing: ${missing.join(' ')}` : ''}` },
    { name: `${tag}_setup_s`, value: Number.isNaN(fullAt) ? (performance.now() - t0) / 1000 : fullAt, unit: `s (lower is better): launch of ${N} pages + full direct mesh${Number.isNaN(fullAt) ? ' (NOT reached: time until giving up)' : ''}; launch alone ${launchedS.toFixed(1)} s (${launchMode})` },
  );
  if (!soak) {
    rows.push(
      { name: `${tag}_max_dial_ms`, value: ok.length ? Math.max(...ok.map((d) => d.ms)) : Number.NaN, unit: 'ms (lower is better): slowest successful direct dial incl. retries (target: 2000)' },
      { name: `${tag}_median_dial_ms`, value: median(ok.map((d) => d.ms)), unit: 'ms: first attempt -> direct connection open, incl. retries' },
      { name: `${tag}_dials_over_2s`, value: ok.filter((d) => d.ms > 2000).length + dials.filter((d) => !d.ok).length, unit: `of ${dials.length} dial records (failed rounds count as over)` },
      { name: `${tag}_max_attempt_ms`, value: attempts.length ? Math.max(...attempts) : Number.NaN, unit: 'ms (lower is better): slowest successful attempt alone (its start -> connection open)' },
      { name: `${tag}_median_attempt_ms`, value: median(attempts), unit: 'ms: successful attempt start -> connection open' },
      { name: `${tag}_max_dial_queue_ms`, value: ok.length ? Math.max(...ok.map((d) => d.waitMs ?? 0)) : Number.NaN, unit: "ms: longest wait in a node's dial queue before the first attempt (not in the dial times)" },
      ...(Number.isNaN(warmAt) ? [] : [{ name: `${tag}_warm_s`, value: warmAt, unit: 's from launch until every direction of every link finished its warm-up' }]),
      { name: `${tag}_dials_retried`, value: dials.filter((d) => d.attempts > 1 || !d.ok).length, unit: `of ${dials.length} dial records` },
    );
  } else {
    // ---- soak: sample the idle mesh for `minutes`
    const closes0 = samples.reduce((a, x) => a + (x?.closes ?? 0), 0);
    let minLinks = links;
    let maxLinks = links;
    let lastLinks = links;
    let silentSamples = 0;
    let n = 0;
    const cpu: number[] = [];
    const heaps: number[] = [];
    machineCpu();
    const end = performance.now() + minutes * 60_000;
    const ts = performance.now();
    let last: (Sample | undefined)[] = samples;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, sampleMs));
      last = await Promise.all(s.peers.map((p) => sample(p)));
      const l = last.reduce((a, x) => a + (x ? x.direct.filter((id) => idx.has(id)).length : 0), 0);
      silentSamples += last.filter((x) => !x).length;
      minLinks = Math.min(minLinks, l);
      maxLinks = Math.max(maxLinks, l);
      lastLinks = l;
      cpu.push(machineCpu());
      heaps.push(...last.filter((x) => x).map((x) => x!.heap));
      n++;
      if (n % 6 === 0 || l < N * (N - 1)) log(`t=${((performance.now() - ts) / 1000).toFixed(0)} s: ${l} links, cpu ${(100 * cpu.at(-1)!).toFixed(0)} %`);
    }
    const soakS = (performance.now() - ts) / 1000;
    const closes = last.reduce((a, x) => a + (x?.closes ?? 0), 0) - closes0;
    const members = Math.min(...last.map((x) => x?.members ?? 0));
    rows.push(
      { name: `${tag}_min_direct_links`, value: minLinks, unit: `of ${N * (N - 1)} directed links, minimum over ${n} samples (every ${sampleMs / 1000} s, incl. the sample that completed the mesh)` },
      { name: `${tag}_max_direct_links`, value: maxLinks, unit: `of ${N * (N - 1)}, maximum over the samples` },
      { name: `${tag}_final_direct_links`, value: lastLinks, unit: `of ${N * (N - 1)}, last sample` },
      { name: `${tag}_disconnects`, value: closes, unit: 'direct WebRTC connections closed during the soak (summed over pages; each link counts on both ends)' },
      { name: `${tag}_unanswered_samples`, value: silentSamples, unit: `page samples that did not answer within 15 s (of ${n * N})` },
      { name: `${tag}_min_members`, value: members, unit: `members seen by the page that sees fewest, at the end (of ${N - 1})` },
      { name: `${tag}_minutes`, value: soakS / 60, unit: 'min the full mesh was held and sampled (after it formed)' },
      { name: `${tag}_machine_cpu`, value: median(cpu), unit: 'share of the whole 2-core machine busy, median of samples (/proc/stat: includes other processes)' },
      { name: `${tag}_js_heap_mib`, value: median(heaps) / 1048576, unit: 'MiB, median JS heap per page (performance.memory)' },
    );
  }
  await s.close();
} finally {
  await browser.close();
  relay.stop();
}
// A value that could not be measured (NaN: e.g. no successful dial) is left out, and said so.
for (const r of rows.filter((x) => !Number.isFinite(x.value))) log(`${r.name}: not measured in this run, left out`);
writeFileSync(values.out ?? '/dev/stdout', JSON.stringify({ chromium, rows: rows.filter((x) => Number.isFinite(x.value)) }));
process.exit(0);
