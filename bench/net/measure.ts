/**
 * The net benchmark's measurements, run inside the hermetic namespace (test/netns/run.sh):
 * a relay, pairs of headless Chromium peers (one shared browser, one context per peer), and
 * an 8-peer mesh. Writes a JSON array of results to --out. Invoked by bench/suites/net.ts.
 *
 * Per pair, A sends 16 MiB tensors to B (seeded bytes, CRC32 checked on arrival):
 *  - libp2p stream on the direct WebRTC connection (SwarmNode's default path; its warm-up on);
 *  - the same with the warm-up off (anchor of the first-transfer stall);
 *  - simple-peer (a second RTCDataChannel, offer/answer over a libp2p stream);
 *  - libp2p stream over the relayed circuit connection.
 * first transfer = the first tensor on a fresh connection; warm = median of the next ones.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type LaunchSwarmInit, launchBrowser, launchSwarm, type SwarmPeer } from '../../peer-core/src/harness/index.ts';
import { startRelay } from '../../relay/src/relay.ts';

const { values } = parseArgs({
  options: { out: { type: 'string' }, mib: { type: 'string' }, warm: { type: 'string' }, mesh: { type: 'string' } },
});
const MiB = 1024 * 1024;
const size = Number(values.mib ?? 16) * MiB;
const warmRuns = Number(values.warm ?? 3);
const meshN = Number(values.mesh ?? 8);
const page = fileURLToPath(new URL('./peer.page.ts', import.meta.url));
const log = (m: string) => console.error(`[net] ${m}`);

interface Row {
  name: string;
  value: number;
  unit: string;
  anchor?: string;
  anchorValue?: number;
  ratio?: number;
}
const rows: Row[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mibps = (ms: number) => size / MiB / (ms / 1000);

const dir = mkdtempSync(join(tmpdir(), 'sg-bench-relay-'));
const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
const browser = await launchBrowser({ swiftshader: false });
const chromium = browser.version();

async function pair(start: Record<string, unknown> = {}): Promise<{ a: SwarmPeer; b: SwarmPeer; close: () => Promise<void> }> {
  const init: LaunchSwarmInit = { relay: relay.http.url, peers: 2, page, nodeShims: true, browser, start };
  const s = await launchSwarm(init);
  await s.waitForMesh(60_000);
  const [a, b] = s.peers as [SwarmPeer, SwarmPeer];
  return { a, b, close: () => s.close() };
}

type Sent = { ms: number; crc: number };
async function series(send: (seed: number) => Promise<Sent>, check: (crc: number) => Promise<boolean>) {
  const first = await send(1);
  if (!(await check(first.crc))) throw new Error('first transfer arrived with a wrong checksum');
  const warm: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    const r = await send(100 + i);
    if (!(await check(r.crc))) throw new Error('warm transfer arrived with a wrong checksum');
    warm.push(r.ms);
  }
  return { firstMs: first.ms, warmMs: median(warm) };
}

try {
  // ---- 0. anchor of the stall: a fresh pair without the warm-up. Measured FIRST, so that the
  // default pair is not the one that pays for the browser's own cold start.
  const p0 = await pair({ warmupBytes: 0 });
  const rx0 = async (crc: number) => (await p0.b.call<{ crc: number }[]>('received')).some((r) => r.crc === crc);
  const cold = await series((seed) => p0.a.call<Sent>('sendTensor', p0.b.peerId, { bytes: size, seed, tensorId: seed }), rx0);
  log(`libp2p direct, no warm-up: first ${cold.firstMs.toFixed(0)} ms, warm ${cold.warmMs.toFixed(0)} ms`);
  await p0.close();

  // ---- 1. SwarmNode default (libp2p stream on direct WebRTC, warm-up on)
  const p1 = await pair();
  const infoA = (await p1.a.info()) as unknown as { stats: { dials: { ms: number }[]; warmupMs: Record<string, number> } };
  const infoB = (await p1.b.info()) as unknown as { stats: { dials: { ms: number }[]; warmupMs: Record<string, number> } };
  const t = [p1.a.timings, p1.b.timings];
  const dial = [...infoA.stats.dials, ...infoB.stats.dials][0]?.ms ?? Number.NaN;
  const warmup = Math.max(...Object.values(infoA.stats.warmupMs), ...Object.values(infoB.stats.warmupMs));
  const rxB = async (crc: number) => (await p1.b.call<{ crc: number }[]>('received')).some((r) => r.crc === crc);
  const libp2p = await series((seed) => p1.a.call<Sent>('sendTensor', p1.b.peerId, { bytes: size, seed, tensorId: seed }), rxB);
  log(`libp2p direct: first ${libp2p.firstMs.toFixed(0)} ms, warm ${libp2p.warmMs.toFixed(0)} ms`);

  // ---- 2. relayed path on the same pair (the circuit connection that carried the signalling)
  const relayed: number[] = [];
  const relayErrors: string[] = [];
  for (let i = 0; i < 3 && relayed.length < 2; i++) {
    try {
      relayed.push((await p1.a.call<{ ms: number }>('sendRelayed', p1.b.peerId, { bytes: size, seed: 500 + i })).ms);
    } catch (e) {
      relayErrors.push((e as Error).message.replace(/^.*page\.evaluate: /, '').split('\n')[0]!);
    }
  }
  log(`relayed: ${relayed.map((x) => x.toFixed(0)).join(', ')} ms${relayErrors.length ? `; failed attempts: ${relayErrors.join(' | ')}` : ''}`);

  // ---- 3. simple-peer on the same pair
  const spSetup = await p1.a.call<{ ms: number }>('spConnect', p1.b.peerId, { highBytes: 1 * MiB, lowBytes: 256 * 1024 });
  const spRx = async (crc: number) => (await p1.b.call<{ crc: number }[]>('spReceived', p1.a.peerId)).some((r) => r.crc === crc);
  const sp = await series((seed) => p1.a.call<Sent>('spSend', p1.b.peerId, { bytes: size, seed, tensorId: seed }), spRx);
  log(`simple-peer: setup ${spSetup.ms.toFixed(0)} ms, first ${sp.firstMs.toFixed(0)} ms, warm ${sp.warmMs.toFixed(0)} ms`);
  await p1.close();

  // ---- 4. libp2p's own data channel buffer (16 MiB) instead of SwarmNode's 4 MiB, fresh pair.
  // Chromium's RTCDataChannel send queue also holds 16 MiB: a full queue throws and kills the
  // stream, which is why SwarmNode lowers the buffer. Recorded, not fatal.
  let b16: { firstMs: number; warmMs: number } | undefined;
  let b16Error = '';
  const p16 = await pair({ dataChannel: { maxBufferedAmount: 16 * MiB } });
  try {
    const rx16 = async (crc: number) => (await p16.b.call<{ crc: number }[]>('received')).some((r) => r.crc === crc);
    b16 = await series((seed) => p16.a.call<Sent>('sendTensor', p16.b.peerId, { bytes: size, seed, tensorId: seed }), rx16);
    log(`libp2p direct, 16 MiB buffer: first ${b16.firstMs.toFixed(0)} ms, warm ${b16.warmMs.toFixed(0)} ms`);
  } catch (e) {
    b16Error = (e as Error).message.split('\n')[0]!.replace(/^.*page\.evaluate: /, '');
    log(`libp2p direct, 16 MiB buffer: failed: ${b16Error}`);
  }
  await p16.close();

  const dLibp2p = mibps(libp2p.warmMs);
  const dSp = mibps(sp.warmMs);
  const dRelay = relayed.length ? mibps(median(relayed)) : Number.NaN;
  const best = Math.max(dLibp2p, dSp);
  const stall = Math.max(0, libp2p.firstMs - libp2p.warmMs);
  const stallCold = Math.max(0, cold.firstMs - cold.warmMs);
  rows.push(
    { name: 'direct_mib_per_s_libp2p', value: dLibp2p, unit: 'MiB/s (higher is better), 16 MiB, warm median', anchor: 'simple-peer RTCDataChannel, same pair', anchorValue: dSp, ratio: dLibp2p / dSp },
    { name: 'direct_mib_per_s_simple_peer', value: dSp, unit: 'MiB/s (higher is better), 16 MiB, warm median', anchor: 'libp2p stream, same pair', anchorValue: dLibp2p, ratio: dSp / dLibp2p },
    { name: 'relay_mib_per_s', value: dRelay, unit: `MiB/s, 16 MiB over the circuit (direct/relay ratio: higher is better)${relayErrors.length ? `; ${relayErrors.length} failed attempt(s): ${relayErrors[0]}` : ''}`, anchor: 'best direct channel', anchorValue: best, ratio: best / dRelay },
    { name: 'first_transfer_stall_ms', value: stall, unit: 'ms (lower is better): first 16 MiB minus warm, SwarmNode warm-up on', anchor: 'same without warm-up (fresh pair)', anchorValue: stallCold, ratio: stall > 0 ? stallCold / stall : undefined },
    ...(b16
      ? [
          { name: 'direct_mib_per_s_libp2p_buffer16m', value: mibps(b16.warmMs), unit: "MiB/s, libp2p's default 16 MiB data channel buffer (fresh pair)", anchor: 'SwarmNode default (4 MiB)', anchorValue: dLibp2p, ratio: mibps(b16.warmMs) / dLibp2p },
          { name: 'first_transfer_stall_ms_buffer16m', value: Math.max(0, b16.firstMs - b16.warmMs), unit: 'ms (lower is better), 16 MiB buffer, warm-up on' },
        ]
      : [{ name: 'libp2p_buffer16m_failed', value: 1, unit: `16 MiB transfers with libp2p's 16 MiB buffer failed: ${b16Error}` }]),
    { name: 'first_transfer_stall_ms_simple_peer', value: Math.max(0, sp.firstMs - sp.warmMs), unit: 'ms (lower is better), first simple-peer transfer on a fresh channel' },
    { name: 'setup_ms_create', value: Math.max(...t.map((x) => x.create_ms!)), unit: 'ms, createLibp2p (max of 2 pages)' },
    { name: 'setup_ms_dial_relay', value: Math.max(...t.map((x) => x.dial_relay_ms!)), unit: 'ms, WebSockets + noise + yamux to the relay' },
    { name: 'setup_ms_reservation', value: Math.max(...t.map((x) => x.reservation_ms!)), unit: 'ms, until the /p2p-circuit/webrtc address appears' },
    { name: 'setup_ms_direct_dial', value: dial, unit: 'ms, WebRTC dial through the circuit until the direct connection is open' },
    { name: 'setup_ms_warmup', value: warmup, unit: 'ms, 1 MiB warm-up transfer on the new connection' },
    { name: 'setup_ms_simple_peer', value: spSetup.ms, unit: 'ms, simple-peer offer/answer over a libp2p stream until connect' },
  );

  // ---- 6. an N-peer mesh: dial times
  if (meshN > 1) {
    const t0 = performance.now();
    const s = await launchSwarm({ relay: relay.http.url, peers: meshN, page, nodeShims: true, browser, startConcurrency: 4 });
    let incomplete = '';
    await s.waitForMesh(150_000).catch((e: Error) => {
      incomplete = e.message;
      log(`mesh ${meshN}: ${e.message}`);
    });
    const meshMs = performance.now() - t0;
    const timeout = <T>(p: Promise<T>) => Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]).catch(() => undefined);
    const infos = (await Promise.all(s.peers.map((p) => timeout(p.info())))).filter((x) => x !== undefined) as unknown as { direct: string[]; stats: { dials: { ms: number; ok: boolean; attempts: number }[] } }[];
    const links = infos.reduce((a, i) => a + i.direct.length, 0);
    rows.push({ name: `mesh${meshN}_direct_links`, value: links, unit: `of ${meshN * (meshN - 1)} directed links${incomplete ? ` (incomplete: ${incomplete})` : ''}` });
    const dials = infos.flatMap((i) => i.stats.dials);
    const ok = dials.filter((d) => d.ok);
    log(`mesh ${meshN}: ${(meshMs / 1000).toFixed(1)} s, ${ok.length} dials, ${dials.length - ok.length} gave up`);
    rows.push(
      { name: `mesh${meshN}_max_dial_ms`, value: Math.max(...ok.map((d) => d.ms)), unit: 'ms (lower is better): slowest successful direct dial incl. retries' },
      { name: `mesh${meshN}_median_dial_ms`, value: median(ok.map((d) => d.ms)), unit: 'ms' },
      { name: `mesh${meshN}_dials_over_2s`, value: ok.filter((d) => d.ms > 2000).length, unit: `of ${ok.length} dials` },
      { name: `mesh${meshN}_dials_retried`, value: dials.filter((d) => d.attempts > 1 || !d.ok).length, unit: `of ${dials.length} dial records` },
      { name: `mesh${meshN}_setup_s`, value: meshMs / 1000, unit: 's, launch + full direct mesh' },
    );
    await s.close();
  }
  writeFileSync(values.out ?? '/dev/stdout', JSON.stringify({ chromium, rows }));
} finally {
  await browser.close();
  await relay.stop();
}
process.exit(0);
