/**
 * Shared machinery of the gossip algorithms: the Averager interface, the topology view that is
 * re-formed on membership events, synchronous neighbour exchange with timeouts, and decoding of
 * neighbours' updates with rejection of anything non-finite or malformed (NonFiniteUpdateError,
 * never mixed in).
 */
import { createCodec, type CodecSpec } from '../codecs/index.ts';
import type { Codec, CodecName } from '../codecs/types.ts';
import { packWire, unpackWire } from '../codecs/wire.ts';
import { fnv1a32 } from '../util/hash.ts';
import { DEFAULT_LEAVE_GRACE_MS, DEFAULT_ROUND_TIMEOUT_MS, DEFAULT_TENSOR } from './constants.ts';
import { NonFiniteUpdateError } from './errors.ts';
import type { GossipMessage, MessageKind } from './frame.ts';
import { buildTopology, metropolisHastings, type Topology, type TopologyKind, type TopologyOptions } from './topology.ts';
import type { GossipTransport, MessageMatch, PeerId } from './transport.ts';

export type AlgorithmName = 'allreduce' | 'dpsgd' | 'choco' | 'adpsgd';
export const ALGORITHM_NAMES: readonly AlgorithmName[] = ['allreduce', 'dpsgd', 'choco', 'adpsgd'];

export interface GossipInit {
  transport: GossipTransport;
  /** Codec for what is sent (default 'none'). A name/spec builds a fresh instance. */
  codec?: Codec | CodecSpec | CodecName;
  /** Default 'ring' (allreduce always uses 'full'). */
  topology?: TopologyKind;
  topologyOptions?: TopologyOptions;
  /** How long a round waits for a neighbour before proceeding without it (ms). Default 5000. */
  timeoutMs?: number;
  /** Tensor name on the wire (default 'params'). */
  tensor?: string;
  /**
   * How long a wait for a neighbour's message goes on after that neighbour leaves the membership
   * (ms, default 1000; capped by the timeout): its last messages may still be in flight.
   */
  leaveGraceMs?: number;
  /** Called for every rejected neighbour update (also listed in the round report). */
  onReject?: (err: NonFiniteUpdateError) => void;
  /**
   * Add the lossless raw-DEFLATE stage to what this peer sends, where it makes a message smaller
   * (codecs/wire.ts packWire; counted at its compressed size). Receivers always accept both.
   * Default false.
   */
  deflate?: boolean;
}

export interface RoundReport {
  step: number;
  /** Neighbours this round expected to hear from. */
  neighbours: PeerId[];
  /** Neighbours whose update was mixed in. */
  mixed: PeerId[];
  /** Neighbours that did not answer before the timeout. */
  missing: PeerId[];
  rejected: NonFiniteUpdateError[];
  /** Weights actually used (self included), summing to 1 where the algorithm averages. */
  weights: Map<PeerId, number>;
}

export interface InitOptions {
  /** The swarm has been mixing before this peer (re)entered it. Default false (fresh start). */
  joining?: boolean;
}

export interface Averager {
  readonly name: AlgorithmName;
  /**
   * Set up state from the initial parameters (all peers start from the same x0). `joining`: this
   * peer enters a swarm that has already been mixing (a late joiner, or a resume after a pause),
   * so state that assumes a common start (CHOCO's zero public copies) must be re-synchronised.
   */
  init(x: Float32Array, opts?: InitOptions): void;
  /** Communicate and mix `x` in place after the local step of iteration `step`. */
  mix(x: Float32Array, step: number): Promise<RoundReport>;
  /** Stop background work (responders). */
  stop(): void;
}

/** Small stable hash of a peer id (for per-peer seeds). */
export function peerHash(id: string): number {
  return fnv1a32(id);
}

export function toCodec(c: Codec | CodecSpec | CodecName | undefined, overrides: Partial<CodecSpec> = {}): Codec {
  if (c === undefined) return createCodec('none');
  if (typeof c === 'string') return createCodec({ name: c, ...overrides });
  if ('compress' in c) return c;
  return createCodec({ ...overrides, ...c });
}

export abstract class GossipPeer implements Averager {
  abstract readonly name: AlgorithmName;
  readonly transport: GossipTransport;
  readonly codec: Codec;
  readonly tensor: string;
  readonly timeoutMs: number;
  readonly deflate: boolean;
  readonly leaveGraceMs: number;
  protected readonly topologyKind: TopologyKind;
  protected readonly topologyOptions: TopologyOptions;
  private readonly onReject?: (err: NonFiniteUpdateError) => void;
  private readonly decoders = new Map<CodecName, Codec>();
  private topo: Topology | undefined;
  private unsubscribe: () => void;
  /** Incremented on every membership event; the topology is rebuilt lazily. */
  membershipVersion = 0;

  constructor(init: GossipInit, topology: TopologyKind, codec: Codec) {
    this.transport = init.transport;
    this.codec = codec;
    this.tensor = init.tensor ?? DEFAULT_TENSOR;
    this.timeoutMs = init.timeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS;
    this.deflate = init.deflate ?? false;
    this.leaveGraceMs = init.leaveGraceMs ?? DEFAULT_LEAVE_GRACE_MS;
    this.topologyKind = topology;
    this.topologyOptions = init.topologyOptions ?? {};
    this.onReject = init.onReject;
    this.unsubscribe = this.transport.onMembership(() => {
      this.membershipVersion++;
      this.topo = undefined;
    });
  }

  abstract init(x: Float32Array, opts?: InitOptions): void;
  abstract mix(x: Float32Array, step: number): Promise<RoundReport>;

  stop(): void {
    this.unsubscribe();
  }

  /** The current topology, re-formed after membership changes. */
  topology(): Topology {
    this.topo ??= buildTopology(this.topologyKind, this.transport.members(), this.topologyOptions);
    return this.topo;
  }

  neighbours(): PeerId[] {
    return this.topology().neighbours.get(this.transport.self) ?? [];
  }

  weights(): Map<PeerId, number> {
    return metropolisHastings(this.topology(), this.transport.self);
  }

  /** Send one message per neighbour (body and flags may differ per neighbour). */
  protected sendAll(kind: MessageKind, step: number, peers: PeerId[], bodyFor: (peer: PeerId) => { body: Uint8Array; flags?: number }): void {
    for (const p of peers) {
      const { body, flags = 0 } = bodyFor(p);
      this.transport.send(p, { kind, step, tensor: this.tensor, flags, body });
    }
  }

  /**
   * Receive the message matching `match` from `peer`: undefined after `timeoutMs`, on `signal`, or
   * as soon as `peer` leaves the membership (a neighbour that finished, paused or was dropped is
   * not waited for until the timeout).
   */
  protected recvFrom(peer: PeerId, match: Omit<MessageMatch, 'from'>, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    // A peer's last messages may still be in flight when its leave is seen (a peer that finished
    // sent its final round first): wait `leaveGraceMs` more, then give up on it.
    let grace: { cancel(): void } | undefined;
    const left = () => {
      if (grace) return;
      const t = this.transport.clock.timer(this.leaveGraceMs);
      grace = t;
      void t.promise.then(() => ac.abort());
    };
    const off = this.transport.onMembership((ev) => {
      if (ev.type === 'leave' && ev.peer === peer) left();
    });
    if (!this.transport.members().includes(peer)) left();
    return this.transport.recv({ ...match, from: peer }, timeoutMs, ac.signal).finally(() => {
      off();
      grace?.cancel();
      signal?.removeEventListener('abort', onAbort);
    });
  }

  /**
   * Wait (up to the timeout, all in parallel; not for peers that leave) for each peer's message of
   * this step. A peer whose message of a LATER step arrives first is not waited for: it is ahead
   * (after a topology change a new neighbour can be a round further, and its message of this
   * round went to its old neighbours), so this round goes on without it and its newer message
   * stays queued for the round it belongs to (the runtime's round jump takes this peer there
   * next). Without that, two new neighbours one round apart each waited the whole timeout for
   * a message the other never sent.
   */
  protected async gather(kind: MessageKind, step: number, peers: PeerId[]): Promise<Map<PeerId, GossipMessage>> {
    const got = await Promise.all(peers.map((p) => this.recvRound(p, kind, step)));
    this.transport.discardBelow(kind, step + 1);
    const out = new Map<PeerId, GossipMessage>();
    peers.forEach((p, i) => {
      const m = got[i];
      if (m) out.set(p, m);
    });
    return out;
  }

  /** `peer`'s message of `step`; undefined when it timed out, left, or is already past `step`. */
  private async recvRound(peer: PeerId, kind: MessageKind, step: number): Promise<GossipMessage | undefined> {
    const ac = new AbortController();
    const exact = this.recvFrom(peer, { kind, step, tensor: this.tensor }, this.timeoutMs, ac.signal);
    const newer = this.transport.recv({ kind, from: peer, stepAbove: step, tensor: this.tensor, peek: true }, this.timeoutMs, ac.signal);
    await Promise.race([exact, newer.then((m) => (m ? m : exact))]);
    ac.abort();
    // The message of this step wins whenever it is there, even if a newer one arrived with it.
    return exact;
  }

  /** Encode with this peer's codec (plus the DEFLATE stage when `deflate`). */
  protected async encode(x: Float32Array, step: number, key = this.tensor): Promise<{ body: Uint8Array; decoded: Float32Array }> {
    const enc = this.codec.compress(x, { key, seed: (peerHash(this.transport.self) ^ Math.imul(step + 1, 0x9e3779b1)) >>> 0 });
    const decoded = this.decoder(enc.codec).decompress(enc);
    return { body: await packWire(enc, { deflate: this.deflate }), decoded };
  }

  /**
   * Decode a neighbour's body of `n` values; anything malformed or non-finite becomes a
   * NonFiniteUpdateError (returned, reported via onReject), never an exception or a mixed value.
   */
  protected async decode(m: GossipMessage, n: number): Promise<Float32Array | NonFiniteUpdateError> {
    let y: Float32Array;
    try {
      const enc = await unpackWire(m.body);
      if (enc.n !== n) throw new Error(`carries ${enc.n} values, expected ${n}`);
      y = this.decoder(enc.codec).decompress(enc);
    } catch (e) {
      return this.reject(m, (e as Error).message);
    }
    for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) return this.reject(m, `value ${i} is ${y[i]}`);
    return y;
  }

  private reject(m: GossipMessage, detail: string): NonFiniteUpdateError {
    const err = new NonFiniteUpdateError(m.from, m.step, detail);
    this.onReject?.(err);
    return err;
  }

  private decoder(name: CodecName): Codec {
    let d = this.decoders.get(name);
    if (!d) {
      d = createCodec(name);
      this.decoders.set(name, d);
    }
    return d;
  }
}
