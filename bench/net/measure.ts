/**
 * The net benchmark's measurements, run inside the hermetic namespace (test/netns/run.sh):
 * a relay and pairs of headless Chromium peers (one shared browser, one context per peer).
 * Writes a JSON array of results to --out. Invoked by bench/suites/net.ts. (The N-peer mesh is
 * the `mesh` suite, bench/net/mesh.ts.)
 *
 * Per pair, A sends 16 MiB tensors to B (seeded bytes, CRC32 checked on arrival) over the two
 * data paths of a direct connection, side by side:
 *  - libp2p: one libp2p stream per tensor on the direct WebRTC connection;
 *  - simple-peer: the bulk channel of peer-core/src/net/bulk (a second RTCPeerConnection whose
 *    offer/answer went over a libp2p stream);
 *  - default: SwarmNode.sendTensor (whichever of the two is the default), warm-up on;
 *  - raw: the probe's bare RTCDataChannel on its own RTCPeerConnection (no libp2p, framing or
 *    checksum), the anchor of what the browser itself moves on this machine;
 *  - the default with the warm-up off, on a fresh pair (anchor of the first-transfer stall);
 *  - a libp2p stream over the relayed circuit connection.
 * first transfer = the first tensor on a fresh connection; warm = median of the next ones,
 * the paths interleaved.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type LaunchSwarmInit, launchBrowser, launchSwarm, type SwarmPeer } from '../../peer-core/src/harness/index.ts';
import { startRelay } from '../../relay/src/relay.ts';

const { values } = parseArgs({
  options: { out: { type: 'string' }, mib: { type: 'string' }, warm: { type: 'string' }, mesh: { type: 'string' }, start: { type: 'string' } },
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
/** Bytes of the small-tensor latency probe (a compressed gradient chunk). */
const SMALL = 64 * 1024;
const mibps = (ms: number) => size / MiB / (ms / 1000);

const dir = mkdtempSync(join(tmpdir(), 'sg-bench-relay-'));
const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
const browser = await launchBrowser({ swiftshader: false });
const chromium = browser.version();

/** Extra SwarmNode options for every pair (JSON, e.g. '{"bulkChannel":"libp2p"}'): experiments. */
/** SG_NET_CPU_BREAKDOWN=1: log CPU ms per MiB per browser process for every warm transfer. */
const breakdown = process.env.SG_NET_CPU_BREAKDOWN === '1';
const startExtra = JSON.parse(values.start ?? '{}') as Record<string, unknown>;

/** Wait until both peers finished the warm-up of their sending direction (SwarmNode reports a
 *  connection ready only then, but waitForMesh only waits for the connection). */
async function warmedUp(a: SwarmPeer, b: SwarmPeer, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const [ia, ib] = (await Promise.all([a.info(), b.info()])) as unknown as { stats: { warmupMs: Record<string, number> } }[];
    if (ia!.stats.warmupMs[b.peerId] !== undefined && ib!.stats.warmupMs[a.peerId] !== undefined) return;
    if (Date.now() > end) throw new Error(`warm-up of the pair not finished after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pair(start: Record<string, unknown> = {}): Promise<{ a: SwarmPeer; b: SwarmPeer; close: () => Promise<void> }> {
  const init: LaunchSwarmInit = { relay: relay.http.url, peers: 2, page, browser, start: { ...startExtra, ...start } };
  const s = await launchSwarm(init);
  await s.waitForMesh(60_000);
  const [a, b] = s.peers as [SwarmPeer, SwarmPeer];
  if ((start.warmupBytes ?? startExtra.warmupBytes) !== 0) await warmedUp(a, b);
  return { a, b, close: () => s.close() };
}

type Sent = { ms: number; crc: number };

/** CPU time (ms, user + system) of this process's descendants: the browser, its renderers and
 *  network service. Unlike wall time it barely moves when other work shares the machine, so
 *  CPU ms per MiB compares data paths fairly on a busy 2-core box. Linux /proc only. */
function childCpuMs(byType?: Record<string, number>): number {
  const tick = 10; // USER_HZ = 100 on Linux
  const ppid = new Map<number, number>();
  const cpu = new Map<number, number>();
  const kind = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ppid.set(Number(d), Number(f[1]));
      cpu.set(Number(d), (Number(f[11]) + Number(f[12])) * tick);
      if (byType) kind.set(Number(d), /--type=(\S+)/.exec(readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' '))?.[1] ?? 'main');
    } catch {
      // the process exited meanwhile
    }
  }
  let sum = 0;
  for (const [pid, ms] of cpu) {
    for (let p = ppid.get(pid); p !== undefined && p > 1; p = ppid.get(p)) {
      if (p === process.pid) {
        sum += ms;
        if (byType) byType[`${kind.get(pid)}:${pid}`] = ms;
        break;
      }
    }
  }
  return sum;
}

try {
  // All transfers: A sends 16 MiB to B; B checks the CRC32 of what arrived.
  type Kind = 'libp2p' | 'simple-peer';
  const rx = (p: { b: SwarmPeer }) => async (crc: number) => (await p.b.call<{ crc: number }[]>('received')).some((r) => r.crc === crc);
  const via = (p: { a: SwarmPeer; b: SwarmPeer }, kind: Kind) => (seed: number) => p.a.call<Sent>('sendVia', p.b.peerId, { kind, bytes: size, seed, tensorId: seed });
  const dflt = (p: { a: SwarmPeer; b: SwarmPeer }) => (seed: number) => p.a.call<Sent>('sendTensor', p.b.peerId, { bytes: size, seed, tensorId: seed });
  const cpuPerMib: Record<Kind | 'default' | 'raw', number[]> = { libp2p: [], 'simple-peer': [], default: [], raw: [] };
  const once = async (p: { b: SwarmPeer }, send: (seed: number) => Promise<Sent>, seed: number, cpuOf?: Kind | 'default') => {
    const b0: Record<string, number> = {};
    const c0 = childCpuMs(breakdown ? b0 : undefined);
    const r = await send(seed);
    const b1: Record<string, number> = {};
    if (cpuOf) cpuPerMib[cpuOf].push((childCpuMs(breakdown ? b1 : undefined) - c0) / (size / MiB));
    if (cpuOf && breakdown) log(`${cpuOf} CPU ms/MiB by process: ${Object.keys(b1).map((k) => `${k} ${((b1[k]! - (b0[k] ?? 0)) / (size / MiB)).toFixed(1)}`).filter((x) => !x.endsWith(' 0.0')).join(', ')}`);
    if (!(await rx(p)(r.crc))) throw new Error(`transfer ${seed} arrived with a wrong checksum`);
    return r.ms;
  };

  // ---- 0. anchor of the stall: a fresh pair without the warm-up. Measured FIRST, so that the
  // default pair is not the one that pays for the browser's own cold start. The first transfer
  // on each data path of a fresh connection (each path has its own RTCPeerConnection), then
  // warm ones.
  const p0 = await pair({ warmupBytes: 0 });
  const coldFirst: Record<Kind, number> = { 'simple-peer': await once(p0, via(p0, 'simple-peer'), 1), libp2p: await once(p0, via(p0, 'libp2p'), 2) };
  const coldWarm: Record<Kind, number[]> = { libp2p: [], 'simple-peer': [] };
  for (let i = 0; i < warmRuns; i++) for (const k of ['libp2p', 'simple-peer'] as const) coldWarm[k].push(await once(p0, via(p0, k), 10 + i));
  const stallNoWarmup = (k: Kind) => Math.max(0, coldFirst[k] - median(coldWarm[k]));
  log(`no warm-up: first libp2p ${coldFirst.libp2p.toFixed(0)} ms / simple-peer ${coldFirst['simple-peer'].toFixed(0)} ms; warm ${median(coldWarm.libp2p).toFixed(0)} / ${median(coldWarm['simple-peer']).toFixed(0)} ms`);
  await p0.close();

  // ---- 1. SwarmNode as configured by default (warm-up on): first transfer, then warm rounds of
  // both data paths and the default one, interleaved so load changes hit them alike.
  const p1 = await pair();
  const defaultKind = await p1.a.call<Kind>('defaultChannel', p1.b.peerId);
  const defaults = await p1.a.call<{ warmupBytes: number }>('defaults');
  const infoA = (await p1.a.info()) as unknown as { stats: { dials: { ms: number }[]; warmupMs: Record<string, number> } };
  const infoB = (await p1.b.info()) as unknown as { stats: { dials: { ms: number }[]; warmupMs: Record<string, number> } };
  const t = [p1.a.timings, p1.b.timings];
  const dial = [...infoA.stats.dials, ...infoB.stats.dials][0]?.ms ?? Number.NaN;
  const warmup = Math.max(...Object.values(infoA.stats.warmupMs), ...Object.values(infoB.stats.warmupMs));
  const firstDefault = await once(p1, dflt(p1), 1);
  // SwarmNode warmed up only its default path; warm the other one the same way (untimed).
  await once(p1, via(p1, defaultKind === 'libp2p' ? 'simple-peer' : 'libp2p'), 2);
  // The anchor: the probe's raw RTCDataChannel on the same pair (its own RTCPeerConnection,
  // signalled by the bench), warmed by one untimed transfer.
  const rawOffer = await p1.a.call<RTCSessionDescriptionInit>('rawOffer');
  await p1.a.call('rawAccept', await p1.b.call<RTCSessionDescriptionInit>('rawAnswer', rawOffer));
  await Promise.all([p1.a.call('rawReady'), p1.b.call('rawReady')]);
  const rawOnce = async (seed: number, timed: boolean) => {
    const c0 = childCpuMs();
    const r = await p1.a.call<{ ms: number }>('rawSend', size, seed);
    if (timed) cpuPerMib.raw.push((childCpuMs() - c0) / (size / MiB));
    return r.ms;
  };
  const rawFirst = await rawOnce(1, false);
  const warm: Record<Kind | 'default' | 'raw', number[]> = { libp2p: [], 'simple-peer': [], default: [], raw: [] };
  for (let i = 0; i < warmRuns; i++) {
    warm.default.push(await once(p1, dflt(p1), 100 + i, 'default'));
    warm.libp2p.push(await once(p1, via(p1, 'libp2p'), 200 + i, 'libp2p'));
    warm['simple-peer'].push(await once(p1, via(p1, 'simple-peer'), 300 + i, 'simple-peer'));
    warm.raw.push(await rawOnce(400 + i, true));
  }
  log(`raw data channel (the probe's method): first ${rawFirst.toFixed(0)} ms, warm ${warm.raw.map((x) => x.toFixed(0)).join(', ')} ms; CPU ms/MiB ${cpuPerMib.raw.map((x) => x.toFixed(1)).join(', ')}`);
  // Small tensors (a compressed update): per-tensor latency from first frame to ack, where the
  // libp2p path also opens a stream (data channel + protocol negotiation + ready marker).
  const small: Record<Kind, number[]> = { libp2p: [], 'simple-peer': [] };
  for (let i = 0; i < 7; i++) {
    for (const k of ['libp2p', 'simple-peer'] as const) {
      const c0 = performance.now();
      await p1.a.call<Sent>('sendVia', p1.b.peerId, { kind: k, bytes: SMALL, seed: 700 + i, tensorId: 700 + i });
      small[k].push(performance.now() - c0);
    }
  }
  log(`${SMALL / 1024} KiB tensors, ms per send incl. stream open: libp2p ${small.libp2p.map((x) => x.toFixed(0)).join(', ')}; simple-peer ${small['simple-peer'].map((x) => x.toFixed(0)).join(', ')}`);
  type BulkStats = { service?: { setupMs: number[] }; fallbacks: number; errors: Record<string, string> };
  const bulkA = await p1.a.call<BulkStats>('bulkStats');
  const bulkB = await p1.b.call<BulkStats>('bulkStats');
  const bulkSetup = [...(bulkA.service?.setupMs ?? []), ...(bulkB.service?.setupMs ?? [])];
  log(`default (${defaultKind}): first ${firstDefault.toFixed(0)} ms, warm ${median(warm.default).toFixed(0)} ms; libp2p warm ${warm.libp2p.map((x) => x.toFixed(0)).join(', ')}; simple-peer warm ${warm['simple-peer'].map((x) => x.toFixed(0)).join(', ')} ms; CPU ms/MiB libp2p ${cpuPerMib.libp2p.map((x) => x.toFixed(1)).join(', ')}, simple-peer ${cpuPerMib['simple-peer'].map((x) => x.toFixed(1)).join(', ')}; bulk ${JSON.stringify(bulkA)}`);

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
  const rxErrors = ((await p1.b.info()) as unknown as { frameErrors: { name: string; message: string }[] }).frameErrors;
  log(`relayed: ${relayed.map((x) => x.toFixed(0)).join(', ')} ms${relayErrors.length ? `; failed attempts: ${relayErrors.join(' | ')}; receiver's frame errors: ${JSON.stringify(rxErrors)}` : ''}`);
  await p1.close();

  const dLibp2p = mibps(median(warm.libp2p));
  const dSp = mibps(median(warm['simple-peer']));
  // sendTensor and sendVia(default kind) are the same data path: pool their samples.
  const dDefault = mibps(median([...warm.default, ...warm[defaultKind]]));
  const dRaw = mibps(median(warm.raw));
  const other: Kind = defaultKind === 'libp2p' ? 'simple-peer' : 'libp2p';
  const dOther = other === 'libp2p' ? dLibp2p : dSp;
  const dRelay = relayed.length ? mibps(median(relayed)) : Number.NaN;
  const best = Math.max(dLibp2p, dSp);
  const stall = Math.max(0, firstDefault - median(warm.default));
  const stallCold = stallNoWarmup(defaultKind);
  const unit = `MiB/s (higher is better), ${size / MiB} MiB, median of ${warmRuns} warm, interleaved`;
  rows.push(
    { name: 'direct_mib_per_s_libp2p', value: dLibp2p, unit: `${unit}; libp2p stream per tensor`, anchor: 'simple-peer bulk channel, same pair', anchorValue: dSp, ratio: dLibp2p / dSp },
    { name: 'direct_mib_per_s_simple_peer', value: dSp, unit: `${unit}; simple-peer bulk channel`, anchor: 'libp2p stream, same pair', anchorValue: dLibp2p, ratio: dSp / dLibp2p },
    { name: 'direct_mib_per_s_default', value: dDefault, unit: `MiB/s (higher is better), ${size / MiB} MiB, median of ${2 * warmRuns} warm: SwarmNode.sendTensor samples pooled with the ${defaultKind} ones (the same path)`, anchor: `${other}, same pair`, anchorValue: dOther, ratio: dDefault / dOther },
    { name: 'direct_mib_per_s_raw_datachannel', value: dRaw, unit: `${unit}; the probe's raw RTCDataChannel (64 KiB messages, HIGH 1 MiB / LOW 256 KiB, no framing or checksum): what this machine's Chromium moves at most`, anchor: `default (${defaultKind}), same pair`, anchorValue: dDefault, ratio: dRaw / dDefault },
    { name: 'cpu_ms_per_mib_raw_datachannel', value: median(cpuPerMib.raw), unit: 'CPU ms per MiB (lower is better), as below', anchor: `${defaultKind}`, anchorValue: median(cpuPerMib[defaultKind]), ratio: median(cpuPerMib[defaultKind]) / median(cpuPerMib.raw) },
    { name: 'cpu_ms_per_mib_libp2p', value: median(cpuPerMib.libp2p), unit: 'CPU ms per MiB (lower is better): browser + renderers + network service, warm median; insensitive to other load', anchor: 'simple-peer bulk channel', anchorValue: median(cpuPerMib['simple-peer']), ratio: median(cpuPerMib['simple-peer']) / median(cpuPerMib.libp2p) },
    { name: 'cpu_ms_per_mib_simple_peer', value: median(cpuPerMib['simple-peer']), unit: 'CPU ms per MiB (lower is better), as above', anchor: 'libp2p stream', anchorValue: median(cpuPerMib.libp2p), ratio: median(cpuPerMib.libp2p) / median(cpuPerMib['simple-peer']) },
    { name: 'small_tensor_ms_libp2p', value: median(small.libp2p), unit: `ms per ${SMALL / 1024} KiB tensor (lower is better), sendVia call incl. stream open, median of 7`, anchor: 'simple-peer bulk channel', anchorValue: median(small['simple-peer']), ratio: median(small['simple-peer']) / median(small.libp2p) },
    { name: 'small_tensor_ms_simple_peer', value: median(small['simple-peer']), unit: `ms per ${SMALL / 1024} KiB tensor (lower is better), as above`, anchor: 'libp2p stream', anchorValue: median(small.libp2p), ratio: median(small.libp2p) / median(small['simple-peer']) },
    { name: 'relay_mib_per_s', value: dRelay, unit: `MiB/s, ${size / MiB} MiB over the circuit (direct/relay ratio: higher is better)${relayErrors.length ? `; ${relayErrors.length} failed attempt(s): ${relayErrors[0]}` : ''}`, anchor: 'best direct channel', anchorValue: best, ratio: best / dRelay },
    { name: 'first_transfer_stall_ms', value: stall, unit: `ms (lower is better): first ${size / MiB} MiB minus warm median, default channel (${defaultKind}), SwarmNode warm-up on`, anchor: 'same channel without warm-up (fresh pair)', anchorValue: stallCold, ratio: stall > 0 ? stallCold / stall : undefined },
    { name: 'first_transfer_stall_ms_libp2p', value: stallNoWarmup('libp2p'), unit: 'ms (lower is better), first libp2p-stream transfer on a fresh connection, no warm-up' },
    { name: 'first_transfer_stall_ms_simple_peer', value: stallNoWarmup('simple-peer'), unit: 'ms (lower is better), first transfer on a fresh simple-peer channel, no warm-up' },
    { name: 'setup_ms_create', value: Math.max(...t.map((x) => x.create_ms!)), unit: 'ms, createLibp2p (max of 2 pages)' },
    { name: 'setup_ms_dial_relay', value: Math.max(...t.map((x) => x.dial_relay_ms!)), unit: 'ms, WebSockets + noise + yamux to the relay' },
    { name: 'setup_ms_reservation', value: Math.max(...t.map((x) => x.reservation_ms!)), unit: 'ms, until the /p2p-circuit/webrtc address appears' },
    { name: 'setup_ms_direct_dial', value: dial, unit: 'ms, WebRTC dial through the circuit until the direct connection is open' },
    { name: 'setup_ms_warmup', value: warmup, unit: `ms, warm-up transfer (${defaults.warmupBytes / MiB} MiB) on the new connection, slower side (${defaultKind}${defaultKind === 'simple-peer' ? ', incl. opening the bulk channel' : ''})` },
    ...(bulkSetup.length ? [{ name: 'setup_ms_simple_peer', value: bulkSetup[0]!, unit: 'ms, bulk channel: offer/answer over a libp2p stream until the data channel is open' }] : []),
  );

  // ---- 6. the N-peer mesh moved to its own suite, `npm run bench -- mesh` (bench/net/mesh.ts),
  // so that it runs without the throughput part; --mesh is accepted and ignored here.
  if (meshN > 1) log(`the ${meshN}-peer mesh is measured by \`npm run bench -- mesh\`, not here`);
  writeFileSync(values.out ?? '/dev/stdout', JSON.stringify({ chromium, rows }));
} finally {
  await browser.close();
  await relay.stop();
}
process.exit(0);
