/**
 * The net benchmark's peer page: the e2e peer API plus the measurements that need page-side
 * code: sends over a chosen data path (the libp2p stream or the simple-peer bulk channel of
 * peer-core/src/net/bulk, whichever SwarmNode's default is), sends over the relayed path, and
 * bulk-channel statistics.
 */
import { type BulkChannelKind, crc32, isDirectConnection, type WireTensor } from '../../peer-core/src/net/index.ts';
import { makePeerApi, seededBytes } from '../../test/e2e/pages/peer-api.ts';

const base = makePeerApi();
const trace: number[] = [];

/**
 * The probe's raw data channel (the anchor of the channel comparison): a bare RTCPeerConnection
 * with one ordered, reliable RTCDataChannel, signalled by the bench itself (no libp2p, no
 * framing, no checksum): 64 KiB messages with HIGH 1 MiB / LOW 256 KiB backpressure, the
 * receiver counts bytes and answers 'ok' (../shared/reference/webrtc-swarm-probe, step 3 (b)).
 */
const RAW_CHUNK = 64 * 1024;
const RAW_HIGH = 1024 * 1024;
const RAW_LOW = 256 * 1024;
let rawPc: RTCPeerConnection | undefined;
let rawCh: RTCDataChannel | undefined;
let rawOpen: Promise<void> | undefined;
let rawAck: (() => void) | undefined;

function rawWire(ch: RTCDataChannel): void {
  rawCh = ch;
  ch.binaryType = 'arraybuffer';
  ch.bufferedAmountLowThreshold = RAW_LOW;
  let expect = 0;
  let got = 0;
  rawOpen = ch.readyState === 'open' ? Promise.resolve() : new Promise((ok) => ch.addEventListener('open', () => ok(), { once: true }));
  ch.addEventListener('message', (e) => {
    if (typeof e.data === 'string') {
      if (e.data === 'ok') rawAck?.();
      else {
        expect = Number(e.data);
        got = 0;
      }
      return;
    }
    got += (e.data as ArrayBuffer).byteLength;
    if (expect > 0 && got >= expect) {
      expect = 0;
      ch.send('ok');
    }
  });
}

async function rawGathered(pc: RTCPeerConnection): Promise<RTCSessionDescriptionInit> {
  if (pc.iceGatheringState !== 'complete') await new Promise<void>((ok) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && ok()));
  return pc.localDescription!.toJSON();
}

const tensor = (bytes: number, seed: number, tensorId: number): WireTensor => ({
  jobId: 2,
  step: 0,
  tensorId,
  codec: 'none',
  dtype: 'u8',
  shape: [bytes],
  data: seededBytes(bytes, seed),
});

const api = {
  ...base,
  /** Raw channel, offerer side: create the connection and its channel, return the full offer. */
  async rawOffer() {
    rawPc = new RTCPeerConnection();
    rawWire(rawPc.createDataChannel('raw', { ordered: true }));
    await rawPc.setLocalDescription(await rawPc.createOffer());
    return rawGathered(rawPc);
  },
  /** Raw channel, answerer side. */
  async rawAnswer(offer: RTCSessionDescriptionInit) {
    rawPc = new RTCPeerConnection();
    rawPc.addEventListener('datachannel', (e) => rawWire(e.channel), { once: true });
    await rawPc.setRemoteDescription(offer);
    await rawPc.setLocalDescription(await rawPc.createAnswer());
    return rawGathered(rawPc);
  },
  async rawAccept(answer: RTCSessionDescriptionInit) {
    await rawPc!.setRemoteDescription(answer);
  },
  /** Resolves once this side's raw channel is open. */
  async rawReady(ms = 20_000) {
    const end = performance.now() + ms;
    while (!rawOpen) {
      if (performance.now() > end) throw new Error('raw data channel never arrived');
      await new Promise((r) => setTimeout(r, 20));
    }
    await rawOpen;
  },
  /** Send `bytes` on the raw channel; ms from the first message to the receiver's 'ok'. */
  async rawSend(bytes: number, seed: number) {
    const ch = rawCh!;
    const buf = seededBytes(RAW_CHUNK, seed) as Uint8Array<ArrayBuffer>;
    const acked = new Promise<void>((ok) => (rawAck = ok));
    const t0 = performance.now();
    ch.send(String(bytes));
    for (let off = 0; off < bytes; off += RAW_CHUNK) {
      ch.send(off + RAW_CHUNK <= bytes ? buf : buf.subarray(0, bytes - off));
      if (ch.bufferedAmount > RAW_HIGH) await new Promise<void>((ok) => ch.addEventListener('bufferedamountlow', () => ok(), { once: true }));
    }
    await acked;
    const ms = performance.now() - t0;
    return { ms, mibPerS: bytes / 1048576 / (ms / 1000) };
  },
  /** Send over one data path of the direct connection to `peerId`, whatever the default is. */
  async sendVia(peerId: string, o: { kind: BulkChannelKind; bytes: number; seed: number; tensorId?: number }) {
    const node = base._node();
    const conn = await node.connectDirect(peerId);
    const t = tensor(o.bytes, o.seed, o.tensorId ?? 0);
    let r: { ms: number };
    if (o.kind === 'libp2p') r = await node.sendOn(conn, t);
    else {
      if (!node.bulk) throw new Error('SwarmNode has no bulk service');
      r = await node.bulk.send(peerId, conn, node.isDialerFor(peerId), t);
    }
    return { ms: r.ms, mibPerS: o.bytes / 1048576 / (r.ms / 1000), crc: crc32(t.data) };
  },
  /** sendVia, returning the error's class name and message instead of throwing (Playwright
   *  keeps only the message of a page error). */
  async trySendVia(peerId: string, o: { kind: BulkChannelKind; bytes: number; seed: number; tensorId?: number }) {
    try {
      return { ok: true, ...(await api.sendVia(peerId, o)) };
    } catch (e) {
      return { ok: false, name: (e as Error).name, message: (e as Error).message };
    }
  },
  /** Diagnostics: record the arrival time of every bulk-channel message from `peerId`. */
  traceBulk(peerId: string) {
    const node = base._node();
    for (const ch of node.bulk?.channels(peerId) ?? []) {
      const w = ch.wire as { deliver?: (d: Uint8Array) => void };
      if (!w.deliver || (w as { traced?: boolean }).traced) continue;
      const orig = w.deliver.bind(w);
      (w as { traced?: boolean }).traced = true;
      w.deliver = (d) => {
        trace.push(performance.now());
        orig(d);
      };
    }
    trace.length = 0;
    return node.bulk?.channels(peerId).length ?? 0;
  },
  /** The largest gaps between consecutive traced arrivals: [gap ms, message index]. */
  traceGaps() {
    const gaps: [number, number][] = [];
    for (let i = 1; i < trace.length; i++) gaps.push([trace[i]! - trace[i - 1]!, i]);
    gaps.sort((x, y) => y[0] - x[0]);
    return { messages: trace.length, spanMs: trace.length ? trace[trace.length - 1]! - trace[0]! : 0, top: gaps.slice(0, 5).map(([g, i]) => [Math.round(g), i]) };
  },
  /** The data path SwarmNode.sendTensor takes to `peerId`. */
  async defaultChannel(peerId: string) {
    const node = base._node();
    return node.channelFor(await node.connectDirect(peerId));
  },
  bulkStats() {
    const node = base._node();
    return { service: node.bulk?.stats, fallbacks: node.stats.bulkFallbacks, errors: node.stats.bulkErrors };
  },
  /** Send over the relayed (circuit) connection to `peerId`, bypassing the direct one. */
  async sendRelayed(peerId: string, o: { bytes: number; seed: number }) {
    const node = base._node();
    const conn = await node.connectRelayed(peerId);
    if (isDirectConnection(conn)) throw new Error(`connectRelayed gave a direct connection to ${peerId}`);
    const t = tensor(o.bytes, o.seed, 0);
    const r = await node.sendOn(conn, t);
    return { ms: r.ms, mibPerS: o.bytes / 1048576 / (r.ms / 1000), remoteAddr: conn.remoteAddr.toString() };
  },
};

(window as unknown as { swarmgradPeer: unknown }).swarmgradPeer = api;
