/**
 * The net benchmark's peer page: the e2e peer API plus the measurements that need page-side
 * code: the simple-peer channel (connect + transfers) and sends over the relayed path.
 */
import type { Stream } from '@libp2p/interface';
import { crc32, isDirectConnection, type WireTensor } from '../../peer-core/src/net/index.ts';
import { makePeerApi, seededBytes } from '../../test/e2e/pages/peer-api.ts';
import { acceptSimplePeer, connectSimplePeer, SP_SIGNAL_PROTOCOL, type SimplePeerChannel, type SpChannelOptions } from './sp-channel.ts';

const base = makePeerApi();
const channels = new Map<string, SimplePeerChannel>();
const spOpts: SpChannelOptions = {};

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
  async start(opts: Parameters<typeof base.start>[0]) {
    const r = await base.start(opts);
    await base._node().libp2p.handle(
      SP_SIGNAL_PROTOCOL,
      (stream: Stream, conn) => {
        acceptSimplePeer(stream, spOpts).then((ch) => channels.set(conn.remotePeer.toString(), ch));
      },
      { runOnLimitedConnection: true },
    );
    return r;
  },
  /** Connect a simple-peer channel to `peerId` (signalling over the direct libp2p connection). */
  async spConnect(peerId: string, o: SpChannelOptions = {}) {
    Object.assign(spOpts, o);
    const conn = await base._node().connectDirect(peerId);
    const t0 = performance.now();
    channels.set(peerId, await connectSimplePeer(conn, spOpts));
    return { ms: performance.now() - t0 };
  },
  async spSend(peerId: string, o: { bytes: number; seed: number; tensorId?: number }) {
    const ch = channels.get(peerId);
    if (!ch) throw new Error(`no simple-peer channel to ${peerId}`);
    const t = tensor(o.bytes, o.seed, o.tensorId ?? 0);
    const r = await ch.send(t);
    return { ms: r.ms, mibPerS: o.bytes / 1048576 / (r.ms / 1000), crc: crc32(t.data) };
  },
  spReceived(peerId: string) {
    return (channels.get(peerId)?.received ?? []).map((t) => ({ tensorId: t.tensorId, bytes: t.data.length, crc: crc32(t.data) }));
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
