/**
 * The peer page's API (`window.swarmgradPeer`), shared by the e2e peer page and the net
 * benchmark page: a SwarmNode plus helpers that keep every argument and result JSON-safe so
 * Playwright can drive it. Tensors are generated from a seed on the sending side and checked
 * by CRC32 on the receiving side, so 16 MiB never crosses the Playwright bridge.
 */
import {
  crc32,
  type LinkShape,
  NET_DEFAULTS,
  SwarmNode,
  type SwarmNodeInit,
  TENSOR_PROTOCOL,
  type WireTensor,
} from '../../../peer-core/src/net/index.ts';
import type { SwarmPeerStartOptions } from '../../../peer-core/src/harness/swarm.ts';

export interface ReceivedRecord {
  from: string;
  jobId: number;
  step: number;
  tensorId: number;
  bytes: number;
  crc: number;
  at: number;
}

/** Deterministic bytes from a seed (xorshift32), fast enough for 16 MiB. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const w = new Uint32Array(out.buffer, 0, n >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x >>> 0;
  }
  for (let i = w.length * 4; i < n; i++) out[i] = i & 255;
  return out;
}

export function makePeerApi(extra: { runtime?: string } = {}) {
  let node: SwarmNode | undefined;
  const received: ReceivedRecord[] = [];
  const leaves: { peerId: string; at: number; reason?: string }[] = [];
  const joins: { peerId: string; at: number }[] = [];
  const frameErrors: { from: string; name: string; message: string }[] = [];
  const need = () => {
    if (!node) throw new Error('peer not started');
    return node;
  };
  const api = {
    async start(opts: SwarmPeerStartOptions) {
      const { relay, capabilities, ...rest } = opts;
      node = new SwarmNode({
        ...(rest as Partial<SwarmNodeInit>),
        relay,
        capabilities: { backend: 'cpu', runtime: extra.runtime ?? 'browser', cores: navigator.hardwareConcurrency, ...capabilities },
      });
      node.onTensor((t, from) => received.push({ from, jobId: t.jobId, step: t.step, tensorId: t.tensorId, bytes: t.data.length, crc: crc32(t.data), at: Date.now() }));
      node.addEventListener('peer:leave', (e) => leaves.push({ peerId: (e as CustomEvent).detail.peerId, at: Date.now(), reason: (e as CustomEvent).detail.reason }));
      node.addEventListener('peer:join', (e) => joins.push({ peerId: (e as CustomEvent).detail.peerId, at: Date.now() }));
      node.addEventListener('frame:error', (e) => frameErrors.push((e as CustomEvent).detail));
      await node.start();
      return { peerId: node.peerId, timings: node.timings };
    },
    info() {
      const n = need();
      return {
        peerId: n.peerId,
        direct: n.directPeers(),
        members: n.peers().map((m) => m.peerId),
        capabilities: Object.fromEntries(n.peers().map((m) => [m.peerId, m.capabilities ?? null])),
        connections: n.connections(),
        stats: n.stats,
        timings: n.timings,
        addrs: n.webrtcAddrs(),
        leaves,
        joins,
        frameErrors,
      };
    },
    /** Send `bytes` seeded bytes as a u8 tensor; returns the sender's timing and the CRC. */
    async sendTensor(peerId: string, o: { bytes: number; seed: number; tensorId?: number; step?: number; allowRelayed?: boolean }) {
      const data = seededBytes(o.bytes, o.seed);
      const t: WireTensor = { jobId: 1, step: o.step ?? 0, tensorId: o.tensorId ?? 0, codec: 'none', dtype: 'u8', shape: [o.bytes], data };
      const r = await need().sendTensor(peerId, t, { allowRelayed: o.allowRelayed });
      return { ms: r.ms, mibPerS: o.bytes / 1048576 / (r.ms / 1000), crc: crc32(data), drains: r.drains };
    },
    /** Send the same tensor to many peers at once. */
    async sendToMany(peerIds: string[], o: { bytes: number; seed: number }) {
      const t0 = performance.now();
      const rs = await Promise.all(peerIds.map((id, i) => api.sendTensor(id, { ...o, tensorId: i })));
      return { ms: performance.now() - t0, rs };
    },
    received() {
      return received;
    },
    probeLink(peerId: string, bytes?: number) {
      return need().probeLink(peerId, { bytes });
    },
    setLinkShape(peerId: string, shape: LinkShape | null) {
      need().setLinkShape(peerId, shape ?? undefined);
    },
    connectDirect(peerId: string) {
      return need()
        .connectDirect(peerId)
        .then((c) => c.remoteAddr.toString());
    },
    /** Write raw bytes on a tensor stream over the direct connection (malformed-frame tests). */
    async sendRaw(peerId: string, bytes: number[]) {
      const c = await need().connectDirect(peerId);
      const s = await c.newStream(TENSOR_PROTOCOL);
      s.send(new Uint8Array(bytes));
      await s.close().catch(() => {});
      return s.status;
    },
    defaults() {
      return NET_DEFAULTS;
    },
    /** The SwarmNode itself, for page code that extends this API (not callable from Node). */
    _node() {
      return need();
    },
    async stop() {
      await node?.stop();
      node = undefined;
    },
  };
  return api;
}

export type PeerApi = ReturnType<typeof makePeerApi>;
