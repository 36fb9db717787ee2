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
