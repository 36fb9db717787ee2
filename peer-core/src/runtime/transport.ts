/**
 * Job transports: the gossip algorithms' GossipTransport, plus the job roster a training loop
 * needs (which peers announce this job and in what state), in two implementations:
 *
 *  - `SwarmTransport` over a real SwarmNode: each gossip frame (gossip/frame.ts) travels as one
 *    u8 tensor (`sendTensor`, direct WebRTC on the node's default data path, the simple-peer bulk
 *    channel unless SwarmNodeInit.bulkChannel is 'libp2p'; relayed only when `allowRelayed`) tagged with the
 *    job's u32 wire id; received tensors of this job go into a Mailbox (timeouts, duplicates,
 *    stale steps). The roster comes from the heartbeat capability records: a training peer
 *    publishes `job` and `jobState` there, so membership follows SwarmNode's join/leave
 *    detection and the topology re-forms when a peer joins, pauses or disappears. A peer that
 *    stops training (paused, done) also tells the peers it trains with at once, with a small
 *    `job-state` frame on the data path the rounds use: neighbours stop waiting for it without
 *    waiting for a heartbeat (and do not depend on its heartbeat stream being healthy). States
 *    are ordered by a per-peer sequence number (`jobStateSeq` in the capability record and the
 *    frame's step field), so a stale heartbeat never undoes a newer job-state frame.
 *  - `MemoryJobNetwork`: the same roster over gossip's InMemoryNetwork (fault injection), for
 *    unit tests of the runtime.
 *
 * Membership rule (both): `members()` is this peer plus the peers whose state is 'training'.
 * While this peer itself is not training (joining, paused), `members()` is just itself, so
 * nobody waits on it and it waits on nobody.
 *
 * Byte counting: every gossip frame is recorded in the ByteLedger (per peer, step and kind) at
 * its wire size: the gossip frame plus the tensor-frame headers of its chunks (net/frame.ts).
 * Not counted: the 16-byte tensor ack, and libp2p/yamux/noise/SCTP framing below the stream.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { RealClock, type Clock } from '../gossip/clock.ts';
import { decodeFrame, encodeFrame, type GossipMessage, type MessageKind, type Outgoing } from '../gossip/frame.ts';
import { ByteLedger } from '../gossip/ledger.ts';
import type { InMemoryNetwork, InMemoryTransport } from '../gossip/memory.ts';
import { type GossipTransport, Mailbox, type MembershipEvent, type MessageMatch, type PeerId } from '../gossip/transport.ts';
import { headerBytes } from '../net/frame.ts';
import type { SwarmNode } from '../net/swarm-node.ts';
import { fnv1a32 } from '../util/hash.ts';
import { CAP_JOB, CAP_JOB_STATE, CAP_JOB_STATE_SEQ, RUNTIME_DEFAULTS } from './constants.ts';

/** A peer's state in a job, as announced to the others. */
export type PeerJobState = 'joining' | 'training' | 'paused' | 'done';
const STATES: readonly PeerJobState[] = ['joining', 'training', 'paused', 'done'];

/** Message kinds of the synchronous algorithms (their step numbers are the swarm's step). */
const SYNC_KINDS: ReadonlySet<MessageKind> = new Set(['params', 'delta', 'choco-q']);

export interface JobTransport extends GossipTransport {
  /** Announce this peer's state in the job. */
  setState(state: PeerJobState): void;
  readonly state: PeerJobState;
  /** The other peers announcing this job, with their states. */
  roster(): Map<PeerId, PeerJobState>;
  /** Highest synchronous-round step received from a current member (-1 if none). */
  highestStep(): number;
  close(): void;
}

/** Shared roster logic: members() from states, join/leave events on every change. */
abstract class RosterMembership {
  state: PeerJobState = 'joining';
  protected listeners = new Set<(ev: MembershipEvent) => void>();
  private last = new Set<PeerId>();
  private top = new Map<PeerId, number>();

  constructor(readonly self: PeerId) {}

  abstract roster(): Map<PeerId, PeerJobState>;

  members(): PeerId[] {
    if (this.state !== 'training') return [this.self];
    const out = [this.self];
    for (const [p, s] of this.roster()) if (s === 'training' && p !== this.self) out.push(p);
    return out;
  }

  onMembership(cb: (ev: MembershipEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Recompute members() and emit the differences. */
  refresh(): void {
    const now = new Set(this.members());
    for (const p of now) if (!this.last.has(p)) this.emit({ type: 'join', peer: p });
    for (const p of this.last) if (!now.has(p)) this.emit({ type: 'leave', peer: p });
    this.last = now;
  }

  protected emit(ev: MembershipEvent): void {
    for (const cb of [...this.listeners]) cb(ev);
  }

  protected noteStep(from: PeerId, kind: MessageKind, step: number): void {
    if (SYNC_KINDS.has(kind)) this.top.set(from, Math.max(this.top.get(from) ?? -1, step));
  }

  highestStep(): number {
    let h = -1;
    const live = new Set(this.members());
    for (const [p, s] of this.top) if (live.has(p)) h = Math.max(h, s);
    return h;
  }
}

/** u32 wire id of a job id string (FNV-1a), carried in every tensor frame of the job. */
export function wireJobId(jobId: string): number {
  // 0xfffffffe/0xffffffff are the net layer's probe and warm-up ids.
  return fnv1a32(jobId) % 0xfffffff0;
}

export interface SwarmTransportInit {
  node: SwarmNode;
  /** The job id (announcement id); peers with the same id form the job. */
  jobId: string;
  /** Use a relayed connection when no direct one is open (default false: direct only). */
  allowRelayed?: boolean;
  /** Abandon a send after this long (ms). Default 20 000. */
  sendTimeoutMs?: number;
  /** Roster refresh period (ms). Default 250. */
  rosterPollMs?: number;
}

export interface SwarmTransportStats {
  sent: number;
  sendFailures: number;
  lastSendError?: string;
}

export class SwarmTransport extends RosterMembership implements JobTransport {
  readonly clock: Clock = new RealClock();
  readonly ledger = new ByteLedger();
  readonly mailbox: Mailbox;
  readonly wireId: number;
  readonly stats: SwarmTransportStats = { sent: 0, sendFailures: 0 };
  private readonly node: SwarmNode;
  private readonly init: SwarmTransportInit;
  private readonly off: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private readonly dials = new Map<PeerId, Promise<void>>();
  /** Changes of this peer's state so far (CAP_JOB_STATE_SEQ). */
  private stateSeq = 0;
  /** Job-state frames received: a peer's state and sequence number, newer than its heartbeat's. */
  private readonly told = new Map<PeerId, { state: PeerJobState; seq: number }>();

  constructor(init: SwarmTransportInit) {
    super(init.node.peerId);
    this.node = init.node;
    this.init = init;
    this.wireId = wireJobId(init.jobId);
    this.mailbox = new Mailbox(this.clock);
    this.off.push(init.node.onTensor((t, from) => this.onTensor(t.jobId, t.data, from)));
    const onPeers = () => this.refresh();
    init.node.addEventListener('peer:join', onPeers);
    init.node.addEventListener('peer:leave', onPeers);
    this.off.push(() => {
      init.node.removeEventListener('peer:join', onPeers);
      init.node.removeEventListener('peer:leave', onPeers);
    });
    this.timer = setInterval(() => this.refresh(), init.rosterPollMs ?? RUNTIME_DEFAULTS.rosterPollMs);
    this.publish();
  }

  roster(): Map<PeerId, PeerJobState> {
    const out = new Map<PeerId, PeerJobState>();
    for (const m of this.node.peers()) {
      const c = m.capabilities;
      if (!c || c[CAP_JOB] !== this.init.jobId) continue;
      const s = c[CAP_JOB_STATE];
      if (typeof s !== 'string' || !(STATES as readonly string[]).includes(s)) continue;
      const seq = typeof c[CAP_JOB_STATE_SEQ] === 'number' ? c[CAP_JOB_STATE_SEQ] : -1;
      const told = this.told.get(m.peerId);
      out.set(m.peerId, told && told.seq >= seq ? told.state : (s as PeerJobState));
    }
    return out;
  }

  setState(state: PeerJobState): void {
    const was = this.state;
    this.state = state;
    this.stateSeq++;
    this.publish();
    // Leaving the rounds: tell the peers that train with us now, on the data path (best effort;
    // the heartbeat says the same within heartbeatIntervalMs).
    if (was === 'training' && state !== 'training') {
      const body = new Uint8Array([STATES.indexOf(state)]);
      for (const [p, s] of this.roster()) if (s === 'training') this.send(p, { kind: 'job-state', step: this.stateSeq, tensor: '', flags: 0, body });
    }
    this.refresh();
  }

  private publish(): void {
    const base = this.node.init.capabilities ?? { backend: 'unknown' };
    this.node.setCapabilities({ ...base, [CAP_JOB]: this.init.jobId, [CAP_JOB_STATE]: this.state, [CAP_JOB_STATE_SEQ]: this.stateSeq });
  }

  /** A peer's job-state frame: one byte, the index of its new state (anything else is rejected). */
  private onJobState(m: GossipMessage): void {
    const state = m.body.byteLength === 1 ? STATES[m.body[0]!] : undefined;
    if (!state) {
      this.mailbox.stats.rejectedFrames++;
      return;
    }
    const prev = this.told.get(m.from);
    if (prev && prev.seq >= m.step) return;
    this.told.set(m.from, { state, seq: m.step });
    this.refresh();
  }

  send(to: PeerId, msg: Outgoing): void {
    if (this.closed) return;
    const frame = encodeFrame(msg);
    const chunk = this.node.cfg.chunkBytes;
    const wire = frame.byteLength + Math.max(1, Math.ceil(frame.byteLength / chunk)) * headerBytes(1);
    this.ledger.record('sent', to, msg.step, msg.kind, wire);
    this.stats.sent++;
    const t = { jobId: this.wireId, step: msg.step >>> 0, tensorId: 0, codec: 'none' as const, dtype: 'u8' as const, shape: [frame.byteLength], data: frame };
    const allowRelayed = this.init.allowRelayed ?? false;
    const signal = AbortSignal.timeout(this.init.sendTimeoutMs ?? RUNTIME_DEFAULTS.sendTimeoutMs);
    const go = allowRelayed ? this.ensureConnection(to, signal).then(() => this.node.sendTensor(to, t, { allowRelayed, signal })) : this.node.sendTensor(to, t, { signal });
    go.catch((e: unknown) => {
      this.stats.sendFailures++;
      this.stats.lastSendError = `${(e as Error).name}: ${(e as Error).message}`;
    });
  }

  /** With relayed links allowed: open a circuit-relay connection to `peer` when none is open. */
  private async ensureConnection(peer: PeerId, signal: AbortSignal): Promise<void> {
    const open = this.node.libp2p.getConnections().some((c) => c.remotePeer.toString() === peer && c.status === 'open');
    if (open) return;
    let pending = this.dials.get(peer);
    if (!pending) {
      const relays = Array.isArray(this.node.init.relay) ? this.node.init.relay : [this.node.init.relay];
      pending = this.node.libp2p
        .dial(multiaddr(`${relays[0]}/p2p-circuit/p2p/${peer}`), { signal })
        .then(() => undefined)
        .finally(() => this.dials.delete(peer));
      this.dials.set(peer, pending);
    }
    await pending;
  }

  private onTensor(jobId: number, data: Uint8Array, from: PeerId): void {
    if (jobId !== this.wireId || this.closed) return;
    let m: GossipMessage;
    try {
      m = decodeFrame(from, data);
    } catch {
      this.mailbox.stats.rejectedFrames++;
      return;
    }
    const chunk = this.node.cfg.chunkBytes;
    this.ledger.record('received', from, m.step, m.kind, data.byteLength + Math.max(1, Math.ceil(data.byteLength / chunk)) * headerBytes(1));
    if (m.kind === 'job-state') {
      this.onJobState(m);
      return;
    }
    this.noteStep(from, m.kind, m.step);
    this.mailbox.push(m);
  }

  recv(match: MessageMatch, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return this.mailbox.recv(match, timeoutMs, signal);
  }

  discardBelow(kind: MessageKind, step: number): void {
    this.mailbox.discardBelow(kind, step);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const f of this.off) f();
    this.mailbox.close();
  }
}

/**
 * In-memory job network for tests: a roster shared by every peer over gossip's
 * InMemoryNetwork (latency, drops, kills: see gossip/memory.ts).
 */
export class MemoryJobNetwork {
  readonly states = new Map<PeerId, PeerJobState>();
  private readonly transports = new Set<MemoryJobTransport>();

  constructor(readonly net: InMemoryNetwork) {}

  join(id: PeerId): MemoryJobTransport {
    const t = new MemoryJobTransport(this.net.join(id), this);
    this.transports.add(t);
    this.changed();
    return t;
  }

  /** Crash a peer (survivors notice after the network's failureDetectMs). */
  kill(id: PeerId): void {
    this.net.kill(id);
  }

  changed(): void {
    for (const t of this.transports) t.refresh();
  }

  detach(t: MemoryJobTransport): void {
    this.transports.delete(t);
  }
}

export class MemoryJobTransport extends RosterMembership implements JobTransport {
  private readonly off: () => void;

  constructor(
    readonly inner: InMemoryTransport,
    private readonly jobNet: MemoryJobNetwork,
  ) {
    super(inner.self);
    this.off = inner.onMembership(() => this.refresh());
    jobNet.states.set(this.self, this.state);
  }

  get clock(): Clock {
    return this.inner.clock;
  }

  get ledger(): ByteLedger {
    return this.inner.ledger;
  }

  roster(): Map<PeerId, PeerJobState> {
    const live = new Set(this.inner.members());
    const out = new Map<PeerId, PeerJobState>();
    for (const [p, s] of this.jobNet.states) if (p !== this.self && live.has(p)) out.set(p, s);
    return out;
  }

  setState(state: PeerJobState): void {
    this.state = state;
    this.jobNet.states.set(this.self, state);
    this.jobNet.changed();
  }

  send(to: PeerId, msg: Outgoing): void {
    this.inner.send(to, msg);
  }

  recv(match: MessageMatch, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined> {
    return this.inner.recv(match, timeoutMs, signal);
  }

  override highestStep(): number {
    // The in-memory network records every delivery in the receiver's ledger.
    for (const e of this.inner.ledger.list({ dir: 'received' })) this.noteStep(e.peer, e.kind, e.step);
    return super.highestStep();
  }

  discardBelow(kind: MessageKind, step: number): void {
    this.inner.discardBelow(kind, step);
  }

  close(): void {
    this.off();
    this.jobNet.detach(this);
  }
}
