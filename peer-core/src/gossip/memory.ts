/**
 * In-memory network for tests and the in-process simulation: N transports in one process,
 * messages delivered after latency + size/bandwidth on a shared Clock (SimClock for virtual
 * time), with fault injection:
 *  - drop: a predicate or a seeded probability per message;
 *  - delay: extra per-link latency;
 *  - partition(a, b) / heal(): no delivery across the cut;
 *  - corrupt: rewrite a frame's body (e.g. `nanBody` puts a NaN into the codec payload);
 *  - duplicate: deliver a message twice; replay: deliver a copy again later (stale);
 *  - kill(peer): the peer stops sending/receiving at once; the others get a `leave` event only
 *    after `failureDetectMs` (like a real failure detector), so they must survive on timeouts.
 * Every frame's bytes are counted in the sender's and the receiver's ByteLedger.
 * Not here: congestion (links are independent), reordering beyond what delays imply.
 */
import { decodeWire, encodeWire } from '../codecs/wire.ts';
import type { Clock } from './clock.ts';
import { encodeFrame, type GossipMessage, type MessageKind, type Outgoing } from './frame.ts';
import { ByteLedger } from './ledger.ts';
import { type GossipTransport, Mailbox, type MembershipEvent, type MessageMatch, type PeerId } from './transport.ts';
import { mulberry32 } from '../util/random.ts';

export interface LinkFaults {
  /** Drop this message (evaluated per message). */
  drop?: (from: PeerId, to: PeerId, msg: Outgoing) => boolean;
  /** Drop each message with this probability (seeded by `seed`). */
  dropProbability?: number;
  /** Extra latency for a link (ms). */
  extraDelayMs?: (from: PeerId, to: PeerId) => number;
  /** Replace the body of this message (return undefined to leave it). */
  corrupt?: (from: PeerId, to: PeerId, msg: Outgoing) => Uint8Array | undefined;
  /** Deliver this message twice. */
  duplicate?: (from: PeerId, to: PeerId, msg: Outgoing) => boolean;
  /** Deliver a copy again this many ms later (a stale replay), or undefined for no replay. */
  replayAfterMs?: (from: PeerId, to: PeerId, msg: Outgoing) => number | undefined;
}

export interface InMemoryNetworkInit {
  clock: Clock;
  /** One-way latency per message (ms). Default 0. */
  latencyMs?: number;
  /** Link bandwidth in bytes per ms (20 Mbit/s = 2500). Default Infinity. */
  bytesPerMs?: number;
  /** Delay before survivors are told that a killed peer left (ms). Default 1000. */
  failureDetectMs?: number;
  faults?: LinkFaults;
  seed?: number;
  /**
   * Transfer time is computed for frame bytes × timingScale (default 1): lets a small simulated
   * problem emulate the link time of a larger model's messages. The ledger counts real bytes.
   */
  timingScale?: number;
}

export class InMemoryNetwork {
  readonly clock: Clock;
  readonly latencyMs: number;
  readonly bytesPerMs: number;
  readonly failureDetectMs: number;
  readonly timingScale: number;
  faults: LinkFaults;
  private readonly nodes = new Map<PeerId, InMemoryTransport>();
  private readonly dead = new Set<PeerId>();
  private cuts: Array<[Set<PeerId>, Set<PeerId>]> = [];
  private readonly rand: () => number;
  /** Serialisation of each sender's uplink: when its last queued byte leaves (ms). */
  private readonly uplinkFree = new Map<PeerId, number>();

  constructor(init: InMemoryNetworkInit) {
    this.clock = init.clock;
    this.latencyMs = init.latencyMs ?? 0;
    this.bytesPerMs = init.bytesPerMs ?? Number.POSITIVE_INFINITY;
    this.failureDetectMs = init.failureDetectMs ?? 1000;
    this.faults = init.faults ?? {};
    this.timingScale = init.timingScale ?? 1;
    this.rand = mulberry32(init.seed ?? 1);
  }

  /** Add a peer; existing members get a `join` event. */
  join(id: PeerId): InMemoryTransport {
    const t = new InMemoryTransport(id, this);
    for (const other of this.nodes.values()) other.emit({ type: 'join', peer: id });
    this.nodes.set(id, t);
    return t;
  }

  /** Members as a live peer would see them (killed peers stay until detected). */
  members(): PeerId[] {
    return [...this.nodes.keys()];
  }

  /** Crash `id`: no more delivery; survivors see `leave` after failureDetectMs. */
  kill(id: PeerId): void {
    if (this.dead.has(id)) return;
    this.dead.add(id);
    this.nodes.get(id)?.mailbox.close();
    void this.clock.sleep(this.failureDetectMs).then(() => this.remove(id));
  }

  /** Graceful leave: removed at once, survivors told at once. */
  leave(id: PeerId): void {
    this.dead.add(id);
    this.nodes.get(id)?.mailbox.close();
    this.remove(id);
  }

  isDead(id: PeerId): boolean {
    return this.dead.has(id);
  }

  partition(a: Iterable<PeerId>, b: Iterable<PeerId>): void {
    this.cuts.push([new Set(a), new Set(b)]);
  }

  heal(): void {
    this.cuts = [];
  }

  private remove(id: PeerId): void {
    if (!this.nodes.delete(id)) return;
    for (const other of this.nodes.values()) other.emit({ type: 'leave', peer: id });
  }

  private cut(a: PeerId, b: PeerId): boolean {
    return this.cuts.some(([x, y]) => (x.has(a) && y.has(b)) || (y.has(a) && x.has(b)));
  }

  /** Called by a transport's send. */
  transmit(from: PeerId, to: PeerId, msg: Outgoing): void {
    if (this.dead.has(from)) return;
    const f = this.faults;
    const corrupted = f.corrupt?.(from, to, msg);
    const frame = encodeFrame(corrupted ? { ...msg, body: corrupted } : msg);
    this.nodes.get(from)?.ledger.record('sent', to, msg.step, msg.kind, frame.byteLength);
    const now = this.clock.now();
    const start = Math.max(now, this.uplinkFree.get(from) ?? 0);
    const txDone = start + (frame.byteLength * this.timingScale) / this.bytesPerMs;
    this.uplinkFree.set(from, txDone);
    if (f.drop?.(from, to, msg) || (f.dropProbability !== undefined && this.rand() < f.dropProbability)) return;
    const delay = txDone - now + this.latencyMs + (f.extraDelayMs?.(from, to) ?? 0);
    const deliver = () => {
      if (this.dead.has(to) || this.dead.has(from) || this.cut(from, to)) return;
      const node = this.nodes.get(to);
      if (!node) return;
      node.ledger.record('received', from, msg.step, msg.kind, frame.byteLength);
      node.mailbox.pushFrame(from, frame);
    };
    void this.clock.sleep(delay).then(deliver);
    if (f.duplicate?.(from, to, msg)) void this.clock.sleep(delay).then(deliver);
    const replay = f.replayAfterMs?.(from, to, msg);
    if (replay !== undefined) void this.clock.sleep(delay + replay).then(deliver);
  }
}

export class InMemoryTransport implements GossipTransport {
  readonly ledger = new ByteLedger();
  readonly mailbox: Mailbox;
  private readonly listeners = new Set<(ev: MembershipEvent) => void>();

  constructor(
    readonly self: PeerId,
    private readonly net: InMemoryNetwork,
  ) {
    this.mailbox = new Mailbox(net.clock);
  }

  get clock(): Clock {
    return this.net.clock;
  }

  members(): PeerId[] {
    return this.net.members();
  }

  send(to: PeerId, msg: Outgoing): void {
    this.net.transmit(this.self, to, msg);
  }

  recv(match: MessageMatch, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined> {
    if (this.net.isDead(this.self)) return Promise.resolve(undefined);
    return this.mailbox.recv(match, timeoutMs, signal);
  }

  discardBelow(kind: MessageKind, step: number): void {
    this.mailbox.discardBelow(kind, step);
  }

  onMembership(cb: (ev: MembershipEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  emit(ev: MembershipEvent): void {
    for (const cb of this.listeners) cb(ev);
  }
}

/**
 * Fault helper: the same codec message with one value turned into NaN (none, fp16, topk,
 * randomk, sign) or an invalid exponent code (int8, which has no NaN encoding).
 */
export function nanBody(body: Uint8Array): Uint8Array {
  if (body.byteLength === 0) return body;
  const enc = decodeWire(body);
  const p = enc.payload.slice();
  const dv = new DataView(p.buffer);
  if (enc.n === 0) return body;
  switch (enc.codec) {
    case 'none':
      dv.setFloat32(0, Number.NaN, true);
      break;
    case 'fp16':
      dv.setUint16(0, 0x7e00, true);
      break;
    case 'int8':
      p[8] = 255;
      break;
    case 'topk':
      dv.setFloat32(4 + 4 * dv.getUint32(0, true), Number.NaN, true);
      break;
    case 'randomk':
      dv.setFloat32(12, Number.NaN, true);
      break;
    case 'sign':
      dv.setFloat32(4, Number.NaN, true);
      break;
  }
  return encodeWire({ ...enc, payload: p });
}
