/**
 * The heartbeats of one SwarmNode: what it sends to say it is alive (and leaving), and what it
 * does with what others send.
 *
 * Sending (beat(), every heartbeatIntervalMs): a line `{"v":1,"seq":n,"caps":{...}}\n` on one
 * long-lived HEARTBEAT_PROTOCOL stream per open direct connection (opened on demand, dropped
 * with its connection), and the same body on the gossipsub HEARTBEAT_TOPIC every
 * `gossipHeartbeatEvery`-th beat while some member has no direct link
 * (membership.ts needsTopicHeartbeat). announceLeave() sends `{"v":1,"leave":true,"reason":...}`
 * both ways.
 *
 * Receiving: lines of direct heartbeat streams (onStream) and signed topic messages (onMessage)
 * end in onBody. A body from a relay is its roster (onRoster): every listed peer counts as
 * discovered. A body from a member carries its capability record (Membership.touch, then a dial
 * if this node is its dialer) or its announced leave (Membership.leave). Bad input is counted
 * (stats.badHeartbeats), never thrown.
 *
 * What it is not: the membership table or the leave timeout (membership.ts), the dial rules
 * (dial.ts, SwarmNode), or discovery (discovery.ts); those come in through HeartbeatsInit.
 */
import type { GossipSub } from '@libp2p/gossipsub';
import type { Connection, Stream } from '@libp2p/interface';
import type { Libp2p } from 'libp2p';
import { HEARTBEAT_PROTOCOL, HEARTBEAT_TOPIC, MAX_HEARTBEAT_BYTES, MAX_ROSTER_BYTES, MAX_ROSTER_PEERS } from './constants.ts';
import { isDirectConnection } from './direct.ts';
import { type Membership, needsTopicHeartbeat } from './membership.ts';
import { sleep } from '../util/sleep.ts';

/** What a peer can do, published in every heartbeat (the scheduler's input). */
export interface CapabilityRecord {
  /** 'webgpu' | 'wasm' | 'cpu' | 'cuda' ... */
  backend: string;
  /** GPU adapter description (vendor / architecture / device), if any. */
  adapter?: string;
  /** Measured matmul throughput (GFLOP/s). */
  gflops?: number;
  /** Usable memory for training state (bytes). */
  memoryBytes?: number;
  /** Largest single GPU buffer (bytes). */
  maxBufferBytes?: number;
  /** 'browser' | 'node' */
  runtime?: string;
  [k: string]: string | number | boolean | undefined;
}

export interface HeartbeatsInit {
  /** The libp2p node while it runs (undefined before start and after stop: nothing is sent). */
  node(): Libp2p<{ pubsub: GossipSub }> | undefined;
  /** Peer ids of the relays: their topic messages are rosters, not heartbeats. */
  relayIds: ReadonlySet<string>;
  members: Membership<CapabilityRecord>;
  /** This peer's capability record, read at every beat. */
  caps(): CapabilityRecord;
  /** Topic heartbeat every this many beats while some member has no direct link (0: never). */
  gossipHeartbeatEvery: number;
  /** Counters, updated in place (SwarmNodeStats). */
  stats: { badHeartbeats: number; rosters: number };
  /** A peer listed in a relay roster (SwarmNode.onDiscovered). */
  onDiscovered(peerId: string): void;
  /** A live member sent a heartbeat: dial it if this node is its dialer and no direct link or
   *  dial exists. Runs inside the heartbeat's error handling (a throw counts as a bad one). */
  dialIfDialer(peerId: string): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Heartbeats {
  /** One heartbeat stream per direct connection id ('opening' while newStream runs). */
  private readonly streams = new Map<string, Stream | 'opening'>();
  private seq = 0;

  constructor(private readonly init: HeartbeatsInit) {}

  /** Send one heartbeat: on every direct connection's stream, and on the topic when due. */
  beat(): void {
    const node = this.init.node();
    if (!node) return;
    const body = enc.encode(JSON.stringify({ v: 1, seq: this.seq++, caps: this.init.caps() }));
    const line = enc.encode(`${dec.decode(body)}\n`);
    const live = new Set<string>();
    const directPeers = new Set<string>();
    for (const c of node.getConnections()) {
      if (c.status !== 'open' || !isDirectConnection(c)) continue;
      live.add(c.id);
      directPeers.add(c.remotePeer.toString());
      const s = this.streams.get(c.id);
      if (s === 'opening') continue;
      if (s && s.status === 'open' && s.writeStatus === 'writable') {
        try {
          s.send(line);
        } catch {
          this.streams.delete(c.id);
        }
        continue;
      }
      this.streams.set(c.id, 'opening');
      c.newStream(HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(5_000) }).then(
        (st) => {
          this.streams.set(c.id, st);
          st.send(line);
        },
        () => this.streams.delete(c.id),
      );
    }
    for (const id of this.streams.keys()) if (!live.has(id)) this.streams.delete(id);
    const every = this.init.gossipHeartbeatEvery;
    if (every <= 0 || this.seq % every !== 1 % every) return;
    if (!needsTopicHeartbeat(this.init.members.values().map((m) => m.peerId), directPeers)) return;
    node.services.pubsub.publish(HEARTBEAT_TOPIC, body).catch(() => {
      // no topic peers yet: the next heartbeat goes out when the mesh has formed
    });
  }

  /** Heartbeat lines from a direct peer, for as long as its stream lives (HEARTBEAT_PROTOCOL handler). */
  async onStream(stream: Stream, conn: Connection): Promise<void> {
    const from = conn.remotePeer.toString();
    let buf = '';
    try {
      for await (const chunk of stream) {
        buf += dec.decode(chunk instanceof Uint8Array ? chunk : chunk.subarray(), { stream: true });
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          this.onBody(from, enc.encode(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
        if (buf.length > MAX_HEARTBEAT_BYTES) throw new Error('heartbeat line too long');
      }
    } catch (e) {
      this.init.stats.badHeartbeats++;
      stream.abort(e as Error);
    }
  }

  /** A gossipsub message on HEARTBEAT_TOPIC: only signed ones count (`from` is their signer). */
  onMessage(msg: { type: string; from?: { toString(): string }; data: Uint8Array }): void {
    if (msg.type !== 'signed' || !msg.from) return;
    this.onBody(msg.from.toString(), msg.data);
  }

  /** One heartbeat body from an authenticated sender (direct stream peer or topic signer). */
  onBody(from: string, data: Uint8Array): void {
    if (from === this.init.node()?.peerId.toString()) return;
    if (this.init.relayIds.has(from)) {
      this.onRoster(data);
      return;
    }
    try {
      if (data.length > MAX_HEARTBEAT_BYTES) throw new Error('heartbeat too large');
      const j = JSON.parse(dec.decode(data)) as { v?: unknown; caps?: unknown; leave?: unknown; reason?: unknown };
      if (j.v !== 1) throw new Error('bad heartbeat');
      if (j.leave === true) {
        // An announced leave ({"v":1,"leave":true,"reason":"..."}); `from` is authenticated
        // (the direct connection's peer, or the gossip message's signer).
        this.init.members.leave(from, typeof j.reason === 'string' ? j.reason.slice(0, 64) : undefined);
        return;
      }
      if (typeof j.caps !== 'object' || j.caps === null) throw new Error('bad heartbeat');
      const caps: CapabilityRecord = { backend: 'unknown' };
      for (const [k, v] of Object.entries(j.caps as Record<string, unknown>)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') caps[k] = v;
      }
      if (!this.init.members.touch(from, caps)) return; // sent before its leave, arrived after it
      this.init.dialIfDialer(from);
    } catch {
      this.init.stats.badHeartbeats++;
    }
  }

  /**
   * The relay's roster (`{"v":1,"roster":[peer ids]}` on the heartbeat topic, signed by the
   * relay, relay/src/relay.ts): the peers that hold a reservation over an open connection to
   * it. Each listed peer counts as alive (Membership.touch) and as discovered (a dial if this
   * node is its dialer). Members without a direct link stay alive through it, so their own
   * topic heartbeats can be rare (gossipHeartbeatEvery).
   */
  onRoster(data: Uint8Array): void {
    try {
      if (data.length > MAX_ROSTER_BYTES) throw new Error('roster too large');
      const j = JSON.parse(dec.decode(data)) as { v?: unknown; roster?: unknown };
      if (j.v !== 1 || !Array.isArray(j.roster) || j.roster.length > MAX_ROSTER_PEERS) throw new Error('bad roster');
      this.init.stats.rosters++;
      for (const id of j.roster) if (typeof id === 'string' && id.length <= 128) this.init.onDiscovered(id);
    } catch {
      this.init.stats.badHeartbeats++;
    }
  }

  /**
   * Tell the swarm this peer is leaving: a leave line on every open direct heartbeat stream and
   * a leave message on the gossip topic (for members without a direct link). Waits up to
   * `flushMs` for the gossip publish (0: fire and forget, as on page unload, where nothing can
   * be awaited).
   */
  async announceLeave(reason: string, flushMs = 0): Promise<void> {
    const node = this.init.node();
    if (!node) return;
    const body = enc.encode(JSON.stringify({ v: 1, leave: true, reason }));
    const line = enc.encode(`${dec.decode(body)}\n`);
    for (const s of this.streams.values()) {
      if (s === 'opening' || s.status !== 'open' || s.writeStatus !== 'writable') continue;
      try {
        s.send(line);
      } catch {
        // the stream is going away anyway
      }
    }
    const published = node.services.pubsub.publish(HEARTBEAT_TOPIC, body).catch(() => {});
    if (flushMs > 0) await Promise.race([published.then(() => sleep(Math.min(100, flushMs))), sleep(flushMs)]);
  }
}
