/**
 * SwarmNode: one Swarmgrad peer on libp2p, the same code in the browser and in Node (where
 * @libp2p/webrtc runs on node-datachannel).
 *
 * Lifecycle: start() creates the libp2p node (libp2p-node.ts: WebSockets + circuit relay
 * transport + WebRTC, noise, yamux, identify, gossipsub, pubsub peer discovery), dials the
 * relay, waits for the reservation (a `/p2p-circuit/webrtc` address appears), and starts
 * heartbeats. Every discovered peer (the relay excluded) becomes a member; the side with the
 * smaller peer id dials the direct WebRTC connection (so two peers never dial each other at
 * once: the probe saw such dials hang for 6 s). Dials are dial.ts's Dialer: one target at a time
 * in ring order from this node's id (no herd on one target), a new node's first dials held until
 * the members it knows stop growing (dialHoldMs), one immediate retry of a failed target,
 * jittered back-off, an attempt timeout and an ICE-stage limit; every dial is recorded with its
 * phases (DialRecord). A new direct connection is warmed up with one transfer before it is
 * reported ready, once this node's dials are done (direct.ts WarmupScheduler). A lost relay connection
 * is dialled again (the reservation keeps the peer dialable); the first relay dial and the
 * re-dials are relay-link.ts.
 *
 * Membership (membership.ts): every peer sends a heartbeat with its capability record every
 * heartbeatIntervalMs (1 s) on its direct heartbeat streams, and every second one on a gossipsub
 * topic (for members without a direct link). A member that announces its leave (stop(), page
 * unload) is dropped at once; one silent for leaveTimeoutMs (6 s) is dropped by the sweep: both
 * raise 'peer:leave' with `{peerId, reason: 'announced' | 'timeout', silentMs}`. Sending and
 * reading heartbeats, the relay's roster and leave announcements are heartbeats.ts.
 *
 * Data: sendTensor/onTensor move tensors over the default data path of the direct connection
 * (the simple-peer bulk channel of bulk/, or one libp2p stream per tensor: frames of frame.ts,
 * backpressure, ack). probeLink measures RTT (echo) and throughput. setLinkShape emulates a
 * slower WAN link to one peer (token bucket + delay).
 *
 * What it is not: a training loop, an averaging protocol or a scheduler; those use this API.
 */
import type { Connection, PrivateKey, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from 'libp2p';
import { HEARTBEAT_PROTOCOL, HEARTBEAT_TOPIC, NET_DEFAULTS, PROBE_PROTOCOL, TENSOR_PROTOCOL } from './constants.ts';
import { type AdaptiveDiscovery, adaptiveDiscovery } from './discovery.ts';
import { FrameError, PeerNotConnectedError, RelayConnectError, SwarmNodeStateError } from './errors.ts';
import type { FrameLimits, WireTensor } from './frame.ts';
import { Dialer, dialAttemptTimeout, dialHoldMs, LagMonitor } from './dial.ts';
import { DirectPaths, isDirectConnection, PROBE_JOB_ID, WARMUP_JOB_ID, WarmupScheduler } from './direct.ts';
import { type CapabilityRecord, Heartbeats } from './heartbeats.ts';
import { createSwarmLibp2p, type SwarmLibp2pInit, type SwarmServices } from './libp2p-node.ts';
import { type LeaveDetail, Membership } from './membership.ts';
import { RelayLink } from './relay-link.ts';
import { type LinkShape, LinkShaper } from './shaper.ts';
import { type ByteStream, receiveTensors, type SendResult } from './stream.ts';
import { BULK_SIGNAL_PROTOCOL, BulkChannelClosedError, type BulkChannelKind, BulkService, type BulkServiceInit, bulkAvailable } from './bulk/index.ts';
import { installInitChannelRaceFix } from './webrtc-init-race.ts';
import { sleep } from '../util/sleep.ts';

export { type DialFailure, type DialRecord, dialAttemptTimeout, dialBackoff, nextDialTarget, ringBefore } from './dial.ts';
import type { DialRecord } from './dial.ts';
export type { CapabilityRecord } from './heartbeats.ts';
export { fetchRelayInfo } from './relay-link.ts';

export interface SwarmNodeInit {
  /** Relay multiaddr(s) with /p2p/<id> (see fetchRelayInfo for finding them over HTTP). */
  relay: string | string[];
  capabilities?: CapabilityRecord;
  /** Identity; default a fresh Ed25519 key. */
  privateKey?: PrivateKey;
  /** Dial every discovered peer (full mesh); default true. */
  autoConnect?: boolean;
  heartbeatIntervalMs?: number;
  leaveTimeoutMs?: number;
  /** Discovery broadcast period until the node knows a member (ms). */
  discoveryIntervalMs?: number;
  /** Discovery broadcast period after that (ms); discovery.ts. */
  discoverySlowIntervalMs?: number;
  /** Heartbeats also go out on the gossip topic every this many heartbeat intervals while some
   *  member has no direct link (0: never); default NET_DEFAULTS.gossipHeartbeatEvery. */
  gossipHeartbeatEvery?: number;
  dialTimeoutMs?: number;
  dialAttempts?: number;
  dialRetryBaseMs?: number;
  /** Bytes of the warm-up transfer on each new direct connection; 0 disables it. */
  warmupBytes?: number;
  /** A dial attempt that reports no progress (libp2p dial stage) for this long is aborted (ms);
   *  0 (default) disables it. */
  dialStallMs?: number;
  /** A dial attempt whose connection is not up this long after its last ICE candidate is
   *  aborted (ms); 0 disables it. */
  dialIceStallMs?: number;
  /** A node that has just joined holds its first dials until the members it knows stopped
   *  growing for this long (ms), at most `dialSettleMaxMs` after it reached the relay
   *  (dial.ts dialHoldMs). 0 disables the hold. */
  dialSettleMs?: number;
  dialSettleMaxMs?: number;
  /** Warm-ups wait until no direct connection opened on this node for this long (ms). */
  warmupQuietMs?: number;
  /** ...but start at the latest this long after their connection opened (ms). */
  warmupMaxDelayMs?: number;
  chunkBytes?: number;
  limits?: FrameLimits;
  /** Options of the WebRTC data channels (see @libp2p/webrtc DataChannelOptions). */
  dataChannel?: SwarmLibp2pInit['dataChannel'];
  /** Initial per-peer link shapes (WAN emulation); see setLinkShape. */
  linkShapes?: Record<string, LinkShape>;
  /** Data path of tensors on direct connections: 'simple-peer' (a second RTCDataChannel, the
   *  bulk channel of bulk/) or 'libp2p' (one libp2p stream per tensor). Default
   *  DEFAULT_BULK_CHANNEL; docs/NETWORK.md says why. Relayed sends always use libp2p streams. */
  bulkChannel?: BulkChannelKind;
  /** Options of the simple-peer bulk channel (water marks, timeouts, `wrtc` for Node). */
  bulk?: Omit<BulkServiceInit, 'onTensor' | 'onError' | 'limits'>;
  /** Low-water mark of the data channel under a libp2p tensor stream (stream.ts STREAM_DEFAULTS). */
  streamLowWaterBytes?: number;
}

export interface Member {
  peerId: string;
  /** Last heartbeat (Date.now() ms). */
  lastSeen: number;
  capabilities?: CapabilityRecord;
  /** A direct WebRTC connection is open and warmed up. */
  direct: boolean;
}

export interface LinkProbe {
  peerId: string;
  rttMs: number;
  mibPerS: number;
  bytes: number;
}

export interface ConnectionSummary {
  peerId: string;
  remoteAddr: string;
  direct: boolean;
  multiplexer?: string;
  encryption?: string;
  limited: boolean;
  status: string;
}

export interface SwarmNodeStats {
  tensorsIn: number;
  tensorsOut: number;
  bytesIn: number;
  bytesOut: number;
  frameErrors: Record<string, number>;
  badHeartbeats: number;
  /** Relay rosters received (heartbeats.ts Heartbeats.onRoster). */
  rosters: number;
  dials: DialRecord[];
  /** Warm-up transfer time per peer (ms). */
  warmupMs: Record<string, number>;
  /** Sends that went over a libp2p stream because the bulk channel could not be opened. */
  bulkFallbacks: number;
  /** Last bulk channel error per peer (open failures, bad messages). */
  bulkErrors: Record<string, string>;
  /** Times the relay connection was lost and dialled again (relay-link.ts RelayLink.reconnect). */
  relayReconnects: number;
}

export type TensorHandler = (t: WireTensor, from: string) => void;



export function summarizeConnection(c: Connection): ConnectionSummary {
  return {
    peerId: c.remotePeer.toString(),
    remoteAddr: c.remoteAddr.toString(),
    direct: isDirectConnection(c),
    multiplexer: c.multiplexer,
    encryption: c.encryption,
    limited: c.limits !== undefined,
    status: c.status,
  };
}

export class SwarmNode extends EventTarget {
  readonly init: SwarmNodeInit;
  readonly cfg: {
    heartbeatIntervalMs: number;
    leaveTimeoutMs: number;
    discoveryIntervalMs: number;
    discoverySlowIntervalMs: number;
    gossipHeartbeatEvery: number;
    dialTimeoutMs: number;
    dialAttempts: number;
    dialRetryBaseMs: number;
    warmupBytes: number;
    chunkBytes: number;
    dialStallMs: number;
    dialIceStallMs: number;
    dialSettleMs: number;
    dialSettleMaxMs: number;
  };
  readonly stats: SwarmNodeStats = { tensorsIn: 0, tensorsOut: 0, bytesIn: 0, bytesOut: 0, frameErrors: {}, badHeartbeats: 0, rosters: 0, dials: [], warmupMs: {}, bulkFallbacks: 0, bulkErrors: {}, relayReconnects: 0 };
  /** The simple-peer bulk channels (after start()). */
  bulk: BulkService | undefined;
  /** The data paths of direct connections (bulk channel or libp2p streams; direct.ts). */
  private readonly paths: DirectPaths;
  /** Setup phase times of start() (ms). */
  readonly timings: Record<string, number> = {};
  private node: Libp2p<SwarmServices> | undefined;
  /** The relay(s): addresses, ids, the first dial and re-dials (relay-link.ts). */
  private readonly relay: RelayLink;
  /** Heartbeats sent and received, rosters, leave announcements (heartbeats.ts). */
  private readonly heartbeats: Heartbeats;
  private readonly members: Membership<CapabilityRecord>;
  private discovery: AdaptiveDiscovery | undefined;
  /** Removes the page-unload listener that announces the leave (browsers). */
  private unloadOff: (() => void) | undefined;
  private readonly handlers = new Set<TensorHandler>();
  private readonly shapers = new Map<string, LinkShaper>();
  /** Direct dials of this node: the queue, its one worker, retries and the records (dial.ts). */
  private readonly dialer: Dialer<Connection>;
  private readonly ready = new Map<string, Promise<void>>();
  /** Warm-ups of new direct connections: one at a time, when this node's dialing is idle (direct.ts). */
  private readonly warmups: WarmupScheduler<Connection>;
  /** Event-loop lag of this runtime (recorded with every dial attempt). */
  private readonly lag = new LagMonitor();
  /** When this node reached the relay, and when the members it knows last grew (performance.now()). */
  private startedAt: number | undefined;
  private lastMemberGrowthAt = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private caps: CapabilityRecord;

  constructor(init: SwarmNodeInit) {
    super();
    this.init = init;
    this.caps = init.capabilities ?? { backend: 'unknown' };
    this.cfg = {
      heartbeatIntervalMs: init.heartbeatIntervalMs ?? NET_DEFAULTS.heartbeatIntervalMs,
      leaveTimeoutMs: init.leaveTimeoutMs ?? NET_DEFAULTS.leaveTimeoutMs,
      discoveryIntervalMs: init.discoveryIntervalMs ?? NET_DEFAULTS.discoveryIntervalMs,
      discoverySlowIntervalMs: init.discoverySlowIntervalMs ?? NET_DEFAULTS.discoverySlowIntervalMs,
      gossipHeartbeatEvery: init.gossipHeartbeatEvery ?? NET_DEFAULTS.gossipHeartbeatEvery,
      dialTimeoutMs: init.dialTimeoutMs ?? NET_DEFAULTS.dialTimeoutMs,
      dialAttempts: init.dialAttempts ?? NET_DEFAULTS.dialAttempts,
      dialRetryBaseMs: init.dialRetryBaseMs ?? NET_DEFAULTS.dialRetryBaseMs,
      warmupBytes: init.warmupBytes ?? NET_DEFAULTS.warmupBytes,
      chunkBytes: init.chunkBytes ?? NET_DEFAULTS.chunkBytes,
      dialStallMs: init.dialStallMs ?? NET_DEFAULTS.dialStallMs,
      dialIceStallMs: init.dialIceStallMs ?? NET_DEFAULTS.dialIceStallMs,
      dialSettleMs: init.dialSettleMs ?? NET_DEFAULTS.dialSettleMs,
      dialSettleMaxMs: init.dialSettleMaxMs ?? NET_DEFAULTS.dialSettleMaxMs,
    };
    for (const [id, s] of Object.entries(init.linkShapes ?? {})) this.shapers.set(id, new LinkShaper(s));
    this.paths = new DirectPaths({
      bulkChannel: init.bulkChannel,
      bulk: () => this.bulk,
      chunkBytes: this.cfg.chunkBytes,
      streamLowWaterBytes: init.streamLowWaterBytes,
      shaper: (peerId) => this.shapers.get(peerId),
      isDialerFor: (peerId) => this.isDialerFor(peerId),
      peerProtocols: async (conn) => (await this.libp2p.peerStore.get(conn.remotePeer)).protocols,
      stats: this.stats,
      onBulkError: (peerId, e) => this.dispatchEvent(new CustomEvent('bulk:error', { detail: { peerId, name: e.name, message: e.message } })),
    });
    this.members = new Membership<CapabilityRecord>({
      leaveTimeoutMs: this.cfg.leaveTimeoutMs,
      onJoin: (peerId) => {
        this.lastMemberGrowthAt = performance.now();
        this.dispatchEvent(new CustomEvent('peer:join', { detail: { peerId } }));
      },
      onLeave: (d) => this.onMemberLeft(d),
    });
    this.relay = new RelayLink({
      relay: init.relay,
      node: () => this.node,
      stats: this.stats,
      onReconnect: (attempt) => this.dispatchEvent(new CustomEvent('relay:reconnect', { detail: { attempt } })),
    });
    this.heartbeats = new Heartbeats({
      node: () => this.node,
      relayIds: this.relay.ids,
      members: this.members,
      caps: () => this.caps,
      gossipHeartbeatEvery: this.cfg.gossipHeartbeatEvery,
      stats: this.stats,
      onDiscovered: (peerId) => this.onDiscovered(peerId),
      dialIfDialer: (from) => {
        if (this.isDialerFor(from) && (this.init.autoConnect ?? true) && !this.directConnection(from) && !this.dialer.has(from)) {
          this.dialDirect(from).catch(() => {});
        }
      },
    });
    this.dialer = new Dialer<Connection>({
      self: () => this.peerId,
      running: () => this.node !== undefined,
      dial: (peerId, { signal, onProgress }) => {
        if (!this.node) throw new SwarmNodeStateError('SwarmNode stopped');
        return this.node.dial(this.dialAddr(peerId), { signal, force: true, onProgress });
      },
      existing: (peerId) => this.directConnection(peerId),
      isDirect: isDirectConnection,
      describe: (c) => c.remoteAddr.toString(),
      lagMs: () => this.lag.recentMaxMs(),
      holdMs: () => (this.startedAt === undefined ? 0 : dialHoldMs(performance.now(), this.startedAt, this.lastMemberGrowthAt, this.cfg.dialSettleMs, this.cfg.dialSettleMaxMs)),
      records: this.stats.dials,
      attempts: this.cfg.dialAttempts,
      timeoutMs: this.cfg.dialTimeoutMs,
      retryBaseMs: this.cfg.dialRetryBaseMs,
      stallMs: this.cfg.dialStallMs,
      iceStallMs: this.cfg.dialIceStallMs,
    });
    this.warmups = new WarmupScheduler<Connection>({
      dialIdle: () => this.dialer.idle(),
      run: (_peerId, c) => this.warmup(c),
      alive: (c) => c.status === 'open',
      quietMs: init.warmupQuietMs ?? NET_DEFAULTS.warmupQuietMs,
      maxDelayMs: init.warmupMaxDelayMs ?? NET_DEFAULTS.warmupMaxDelayMs,
    });
  }

  get libp2p(): Libp2p<SwarmServices> {
    if (!this.node) throw new SwarmNodeStateError('SwarmNode not started');
    return this.node;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** This peer's dialable addresses (`<relay>/p2p-circuit/webrtc/p2p/<me>`). */
  webrtcAddrs(): string[] {
    return this.libp2p
      .getMultiaddrs()
      .map(String)
      .filter((a) => a.includes('/p2p-circuit/webrtc') || a.endsWith('/webrtc'));
  }

  async start(): Promise<void> {
    if (this.node) throw new SwarmNodeStateError('SwarmNode already started');
    const t0 = performance.now();
    this.relay.parse();
    // @libp2p/webrtc's dialer can wait forever on its 'init' channel (webrtc-init-race.ts).
    installInitChannelRaceFix();
    const node = await createSwarmLibp2p({
      privateKey: this.init.privateKey,
      dataChannel: this.init.dataChannel,
      discovery: (components) =>
        (this.discovery = adaptiveDiscovery({
          fastIntervalMs: this.cfg.discoveryIntervalMs,
          slowIntervalMs: this.cfg.discoverySlowIntervalMs,
          replyDelayMs: NET_DEFAULTS.discoveryReplyMs,
          settled: () => this.settled(),
        })(components)),
    });
    this.node = node;
    this.timings.create_ms = performance.now() - t0;
    node.addEventListener('peer:discovery', (e) => this.onDiscovered(e.detail.id.toString()));
    node.addEventListener('connection:open', (e) => this.onConnectionOpen(e.detail));
    node.addEventListener('connection:close', (e) => this.onConnectionClose(e.detail));
    await node.handle(TENSOR_PROTOCOL, (stream, conn) => this.onTensorStream(stream, conn), { runOnLimitedConnection: true, maxInboundStreams: 256 });
    // Only runtimes with WebRTC for simple-peer (browsers; Node with `bulk.wrtc`) offer the bulk
    // protocol; identify tells peers, and they use libp2p streams to the others.
    if (bulkAvailable(this.init.bulk?.wrtc)) this.bulk = new BulkService({
      ...this.init.bulk,
      limits: this.init.limits,
      onTensor: (t, from) => this.deliver(t, from),
      onError: (peerId, e) => {
        this.stats.bulkErrors[peerId] = `${e.name}: ${e.message}`;
        if (e instanceof FrameError) this.stats.frameErrors[e.name] = (this.stats.frameErrors[e.name] ?? 0) + 1;
        this.dispatchEvent(new CustomEvent('bulk:error', { detail: { peerId, name: e.name, message: e.message } }));
      },
    });
    if (this.bulk) {
      await node.handle(
        BULK_SIGNAL_PROTOCOL,
        (stream, conn) => {
          if (!isDirectConnection(conn)) stream.abort(new Error('bulk channels are signalled on direct connections only'));
          else void this.bulk?.accept(stream, conn.remotePeer.toString());
        },
        { maxInboundStreams: 8 },
      );
    }
    await node.handle(PROBE_PROTOCOL, (stream) => this.onProbeStream(stream), { runOnLimitedConnection: true, maxInboundStreams: 32 });
    await node.handle(HEARTBEAT_PROTOCOL, (stream, conn) => this.heartbeats.onStream(stream, conn), { maxInboundStreams: 8 });
    const ps = node.services.pubsub;
    ps.subscribe(HEARTBEAT_TOPIC);
    ps.addEventListener('message', (e) => {
      if (e.detail.topic === HEARTBEAT_TOPIC) this.heartbeats.onMessage(e.detail);
    });
    const t1 = performance.now();
    try {
      await this.relay.dialFirst(node);
    } catch (e) {
      await node.stop();
      if (this.node === node) this.node = undefined;
      throw e;
    }
    const t2 = performance.now();
    this.timings.dial_relay_ms = t2 - t1;
    this.startedAt = t2;
    const deadline = t2 + NET_DEFAULTS.reservationTimeoutMs;
    while (!this.webrtcAddrs().some((a) => a.includes('/p2p-circuit/webrtc'))) {
      if (performance.now() > deadline) {
        await this.stop();
        throw new RelayConnectError('no relay reservation (no /p2p-circuit/webrtc address) in time');
      }
      await sleep(25);
    }
    this.timings.reservation_ms = performance.now() - t2;
    this.timings.start_total_ms = performance.now() - t0;
    this.lag.start();
    this.timers.push(setInterval(() => this.heartbeats.beat(), this.cfg.heartbeatIntervalMs));
    this.timers.push(setInterval(() => this.members.sweep(), Math.max(100, this.cfg.heartbeatIntervalMs / 2)));
    // A closing tab announces its leave too (best effort: what the browser sends before it goes).
    const g = globalThis as { addEventListener?: (t: string, f: () => void) => void; removeEventListener?: (t: string, f: () => void) => void };
    if (typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function' && typeof (globalThis as { document?: unknown }).document !== 'undefined') {
      const onHide = () => this.heartbeats.announceLeave('page unload');
      g.addEventListener('pagehide', onHide);
      this.unloadOff = () => g.removeEventListener?.('pagehide', onHide);
    }
    this.heartbeats.beat();
  }

  /**
   * Leave the swarm. By default the leave is announced first (a leave line on every direct
   * heartbeat stream and on the gossip topic), so members drop this peer at once ('peer:leave'
   * with reason 'announced') instead of after leaveTimeoutMs. `announce: false` leaves silently
   * (the others notice by the timeout), as a crashed tab would.
   */
  async stop(opts: { announce?: boolean } = {}): Promise<void> {
    this.unloadOff?.();
    this.unloadOff = undefined;
    if (this.node && (opts.announce ?? true)) await this.heartbeats.announceLeave('stopped', NET_DEFAULTS.leaveFlushMs);
    this.warmups.stop();
    this.lag.stop();
    this.bulk?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const n = this.node;
    this.node = undefined;
    await n?.stop();
  }

  /** Replace this peer's capability record (sent with the next heartbeat). */
  setCapabilities(caps: CapabilityRecord): void {
    this.caps = caps;
  }

  /** Members currently alive (heard from within leaveTimeoutMs). */
  peers(): Member[] {
    return this.members.values().map((m) => ({ peerId: m.peerId, lastSeen: m.lastSeen, capabilities: m.capabilities, direct: this.directConnection(m.peerId) !== undefined }));
  }

  capabilities(peerId: string): CapabilityRecord | undefined {
    return this.members.get(peerId)?.capabilities;
  }

  connections(): ConnectionSummary[] {
    return this.libp2p.getConnections().map(summarizeConnection);
  }

  /** Peers with an open direct WebRTC connection. */
  directPeers(): string[] {
    return [...new Set(this.libp2p.getConnections().filter((c) => c.status === 'open' && isDirectConnection(c)).map((c) => c.remotePeer.toString()))];
  }

  /** Emulate a WAN link to `peerId` (this direction only); undefined removes the shaping. */
  setLinkShape(peerId: string, shape: LinkShape | undefined): void {
    if (shape) this.shapers.set(peerId, new LinkShaper(shape));
    else this.shapers.delete(peerId);
  }

  onTensor(handler: TensorHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Is this peer the one that dials `peerId`? (The smaller peer id dials.) */
  isDialerFor(peerId: string): boolean {
    return this.peerId < peerId;
  }

  /**
   * Open (or return) the direct WebRTC connection to `peerId`. The smaller id dials; the other
   * side waits for the inbound connection and dials itself only if none arrived in time.
   */
  async connectDirect(peerId: string): Promise<Connection> {
    const have = this.directConnection(peerId);
    if (have) return have;
    if (!this.isDialerFor(peerId)) {
      let ms = 0;
      for (let k = 0; k < this.cfg.dialAttempts; k++) ms += dialAttemptTimeout(k, this.cfg.dialTimeoutMs);
      const waited = await this.waitForDirect(peerId, ms);
      if (waited) return waited;
    }
    return this.dialDirect(peerId);
  }

  /** Open (or return) a connection to `peerId` through the relay: the fallback path when no
   *  direct connection can be made, and the one the benchmark compares against. */
  async connectRelayed(peerId: string): Promise<Connection> {
    const have = this.libp2p.getConnections().find((c) => c.remotePeer.toString() === peerId && c.status === 'open' && !isDirectConnection(c));
    if (have) return have;
    return this.libp2p.dial(this.relay.addrs[0]!.encapsulate(`/p2p-circuit/p2p/${peerId}`), { signal: AbortSignal.timeout(this.cfg.dialTimeoutMs * 2), force: true });
  }

  /** Send a tensor to `peerId` over the direct connection (relayed only if `allowRelayed`). */
  async sendTensor(peerId: string, t: WireTensor, opts: { allowRelayed?: boolean; signal?: AbortSignal } = {}): Promise<SendResult> {
    const conn = opts.allowRelayed ? (this.directConnection(peerId) ?? this.anyConnection(peerId)) : await this.connectDirect(peerId);
    if (!conn) throw new PeerNotConnectedError(`no connection to ${peerId}`);
    // A warm-up still queued behind the mesh's dials runs now: this send needs the link.
    this.warmups.urgent(peerId);
    await this.ready.get(peerId);
    try {
      return await this.sendDirect(conn, t, opts.signal);
    } catch (e) {
      // The bulk channel died but the connection lives: one retry on a libp2p stream.
      if (e instanceof BulkChannelClosedError && conn.status === 'open' && !opts.signal?.aborted) return this.sendOn(conn, t, opts.signal);
      // The connection died under us (e.g. it was the stale half of a retried dial): retry once
      // on the connection that is now the best one, if there is a different one.
      // (A reset without an ack means the receiver did not complete the tensor.)
      const again = this.directConnection(peerId) ?? (opts.allowRelayed ? this.anyConnection(peerId) : undefined);
      if (!again || again === conn || opts.signal?.aborted) throw e;
      return this.sendOn(again, t, opts.signal);
    }
  }

  /** Which data path sends to `conn`'s peer take (direct.ts DirectPaths.channelFor). */
  channelFor(conn: Connection): BulkChannelKind {
    return this.paths.channelFor(conn);
  }

  /** Send on `conn` over the configured data path; a bulk channel that cannot be opened falls
   *  back to a libp2p stream, counted and reported (direct.ts DirectPaths.sendDirect). */
  sendDirect(conn: Connection, t: WireTensor, signal?: AbortSignal): Promise<SendResult> {
    return this.paths.sendDirect(conn, t, signal);
  }

  /** Send on a specific connection over a libp2p stream (direct.ts DirectPaths.sendOn). */
  sendOn(conn: Connection, t: WireTensor, signal?: AbortSignal): Promise<SendResult> {
    return this.paths.sendOn(conn, t, signal);
  }

  /** RTT (median of `rounds` 8-byte echoes) and throughput (one `bytes` transfer) to a peer. */
  async probeLink(peerId: string, opts: { bytes?: number; rounds?: number } = {}): Promise<LinkProbe> {
    const conn = await this.connectDirect(peerId);
    const stream = await conn.newStream(PROBE_PROTOCOL, { signal: AbortSignal.timeout(10_000) });
    const it = stream[Symbol.asyncIterator]();
    const rtts: number[] = [];
    const shaper = this.shapers.get(peerId);
    for (let i = 0; i < (opts.rounds ?? 5); i++) {
      const t = performance.now();
      await shaper?.beforeMessage();
      stream.send(new Uint8Array(8).fill(i));
      let got = 0;
      while (got < 8) {
        const r = await it.next();
        if (r.done) throw new PeerNotConnectedError(`probe stream to ${peerId} closed`);
        got += r.value.byteLength;
      }
      rtts.push(performance.now() - t);
    }
    await stream.close();
    rtts.sort((a, b) => a - b);
    const bytes = opts.bytes ?? NET_DEFAULTS.probeBytes;
    const r = await this.sendDirect(conn, { jobId: PROBE_JOB_ID, step: 0, tensorId: 0, codec: 'none', dtype: 'u8', shape: [bytes], data: new Uint8Array(bytes) });
    return { peerId, rttMs: rtts[rtts.length >> 1]!, mibPerS: bytes / 1048576 / (r.ms / 1000), bytes };
  }

  // ---- internals

  /** The newest open direct connection: after a dial retry the listener can briefly hold the
   *  half-open connection of the timed-out attempt too, and that one is the older. */
  private directConnection(peerId: string): Connection | undefined {
    let best: Connection | undefined;
    for (const c of this.node?.getConnections() ?? []) {
      if (c.remotePeer.toString() !== peerId || c.status !== 'open' || !isDirectConnection(c)) continue;
      if (!best || c.timeline.open > best.timeline.open) best = c;
    }
    return best;
  }

  private anyConnection(peerId: string): Connection | undefined {
    return this.node?.getConnections().find((c) => c.remotePeer.toString() === peerId && c.status === 'open');
  }

  private async waitForDirect(peerId: string, ms: number): Promise<Connection | undefined> {
    const end = performance.now() + ms;
    while (performance.now() < end && this.node) {
      const c = this.directConnection(peerId);
      if (c) return c;
      await sleep(50);
    }
    return undefined;
  }

  private dialAddr(peerId: string): Multiaddr {
    // All peers of a swarm reserve on the relay: <relay>/p2p-circuit/webrtc/p2p/<peer> reaches them.
    return this.relay.addrs[0]!.encapsulate(`/p2p-circuit/webrtc/p2p/${peerId}`);
  }

  /** Queue a direct dial (dial.ts Dialer: one attempt at a time per node, ring order, retries). */
  private dialDirect(peerId: string): Promise<Connection> {
    return this.dialer.dial(peerId);
  }

  /** Discovery slows down once this node knows a member: from then on its presence reaches the
   *  swarm through its topic heartbeats (sent while some member has no direct link to it, and
   *  they trigger dials like a discovery record does) and through its direct links, and
   *  newcomers are answered at once (discovery.ts). */
  private settled(): boolean {
    return this.members.size > 0;
  }

  private onDiscovered(peerId: string): void {
    if (this.relay.ids.has(peerId) || !this.node || peerId === this.peerId) return;
    if (!this.members.touch(peerId)) return; // it announced its leave: a late discovery record
    if ((this.init.autoConnect ?? true) && this.isDialerFor(peerId) && !this.directConnection(peerId) && !this.dialer.has(peerId)) {
      this.dialDirect(peerId).catch((e) => this.dispatchEvent(new CustomEvent('dial:error', { detail: { peerId, error: String(e) } })));
    }
  }

  private onConnectionOpen(c: Connection): void {
    if (!isDirectConnection(c)) return;
    const peerId = c.remotePeer.toString();
    this.members.rejoin(peerId);
    this.members.touch(peerId);
    // Both sides warm their sending direction of a new connection up: the first bulk transfer
    // on a fresh WebRTC connection stalls (measured by `npm run bench -- net`); pay it before
    // the first tensor. The warm-up waits until this node's dials are done (WarmupScheduler,
    // direct.ts), unless a send needs the link first; sendTensor waits for it.
    this.warmups.noteConnectionOpen();
    this.ready.set(peerId, this.cfg.warmupBytes > 0 ? this.warmups.add(peerId, c) : Promise.resolve());
    void this.ready
      .get(peerId)
      ?.then(() => this.dispatchEvent(new CustomEvent('direct:open', { detail: { peerId, remoteAddr: c.remoteAddr.toString() } })));
  }

  /** Heal the mesh: when the last direct connection to a member closes (e.g. the stale half of a
   *  timed-out dial that looked open for a while), the dialer side dials again. */
  private onConnectionClose(c: Connection): void {
    if (!this.node) return;
    if (this.relay.ids.has(c.remotePeer.toString())) {
      this.relay.reconnect();
      return;
    }
    if (!isDirectConnection(c)) return;
    const peerId = c.remotePeer.toString();
    if (!this.directConnection(peerId)) {
      this.bulk?.closePeer(peerId, 'its direct connection closed');
      this.warmups.drop(peerId);
    }
    if (this.directConnection(peerId) || !this.members.has(peerId)) return;
    this.ready.delete(peerId);
    if ((this.init.autoConnect ?? true) && this.isDialerFor(peerId)) this.dialDirect(peerId).catch(() => {});
  }

  private async warmup(c: Connection): Promise<void> {
    const t0 = performance.now();
    const n = this.cfg.warmupBytes;
    await this.sendDirect(c, { jobId: WARMUP_JOB_ID, step: 0, tensorId: 0, codec: 'none', dtype: 'u8', shape: [n], data: new Uint8Array(n) });
    this.stats.warmupMs[c.remotePeer.toString()] = performance.now() - t0;
  }

  private async onTensorStream(stream: Stream, conn: Connection): Promise<void> {
    const from = conn.remotePeer.toString();
    try {
      await receiveTensors(stream as unknown as ByteStream, {
        ...this.init.limits,
        onTensor: (t) => this.deliver(t, from),
      });
    } catch (e) {
      const name = e instanceof FrameError ? e.name : 'StreamError';
      this.stats.frameErrors[name] = (this.stats.frameErrors[name] ?? 0) + 1;
      this.dispatchEvent(new CustomEvent('frame:error', { detail: { from, name, message: (e as Error).message } }));
    }
  }

  /** A tensor arrived (libp2p stream or bulk channel): count it and hand it to onTensor handlers. */
  private deliver(t: WireTensor, from: string): void {
    if (t.jobId === WARMUP_JOB_ID || t.jobId === PROBE_JOB_ID) return;
    this.stats.tensorsIn++;
    this.stats.bytesIn += t.data.length;
    this.members.touch(from);
    for (const h of this.handlers) {
      try {
        h(t, from);
      } catch (e) {
        this.dispatchEvent(new CustomEvent('handler:error', { detail: { error: String(e) } }));
      }
    }
  }

  private async onProbeStream(stream: Stream): Promise<void> {
    try {
      for await (const chunk of stream) stream.send(chunk instanceof Uint8Array ? chunk : chunk.subarray());
      await stream.close();
    } catch (e) {
      stream.abort(e as Error);
    }
  }

  /** One path for every leave (announced or timed out): forget the member's link state, close
   *  its bulk channels, and tell the listeners ('peer:leave', detail {peerId, reason, silentMs,
   *  message?}). */
  private onMemberLeft(d: LeaveDetail): void {
    this.discovery?.forget(d.peerId);
    this.ready.delete(d.peerId);
    this.warmups.drop(d.peerId);
    this.bulk?.closePeer(d.peerId, d.reason === 'announced' ? 'it left' : 'it left (no heartbeat)');
    this.dispatchEvent(new CustomEvent('peer:leave', { detail: d }));
  }
}

/** Create and start a SwarmNode. */
export async function createSwarmNode(init: SwarmNodeInit): Promise<SwarmNode> {
  const n = new SwarmNode(init);
  await n.start();
  return n;
}
