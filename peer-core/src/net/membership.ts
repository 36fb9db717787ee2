/**
 * Swarm membership of one node: who is alive, their capability records, and how a member
 * leaves. Two ways out, one event path ('peer:leave' in SwarmNode, with the reason):
 *  - 'announced': the member said so (a leave message on its heartbeat stream or the gossip
 *    topic, sent by SwarmNode.stop() and on page unload): dropped at once;
 *  - 'timeout': no heartbeat for leaveTimeoutMs (a crashed tab, a lost network): dropped by
 *    sweep(), which SwarmNode runs every heartbeatIntervalMs / 2.
 * After an announced leave, messages from that peer are ignored for leaveTimeoutMs: heartbeats
 * and discovery records still in flight through gossip must not bring it back as a new member.
 *
 * What it is not: the heartbeat transport or its wire format (heartbeats.ts, constants.ts), or
 * the relay's roster that keeps members without a direct link alive (heartbeats.ts onRoster).
 */

export type LeaveReason = 'announced' | 'timeout';

export interface LeaveDetail {
  peerId: string;
  reason: LeaveReason;
  /** Time since the member was last heard from (ms). */
  silentMs: number;
  /** The leaver's own words, for 'announced' (e.g. 'stopped', 'page unload'). */
  message?: string;
}

export interface MemberEntry<C> {
  peerId: string;
  /** Last sign of life (Date.now() ms). */
  lastSeen: number;
  capabilities?: C;
}

export interface MembershipInit {
  leaveTimeoutMs: number;
  onJoin?(peerId: string): void;
  onLeave?(d: LeaveDetail): void;
  /** Clock (ms); default Date.now. */
  now?(): number;
}

export class Membership<C> {
  private readonly members = new Map<string, MemberEntry<C>>();
  /** Peers that announced their leave, and when (ignored for leaveTimeoutMs after it). */
  private readonly departed = new Map<string, number>();

  constructor(private readonly init: MembershipInit) {}

  private now(): number {
    return this.init.now?.() ?? Date.now();
  }

  /** A sign of life from `peerId` (heartbeat, discovery, a tensor). Returns false when it is
   *  ignored because the peer announced its leave less than leaveTimeoutMs ago. */
  touch(peerId: string, caps?: C): boolean {
    const now = this.now();
    const gone = this.departed.get(peerId);
    if (gone !== undefined) {
      if (now - gone < this.init.leaveTimeoutMs) return false;
      this.departed.delete(peerId);
    }
    const m = this.members.get(peerId);
    if (m) {
      m.lastSeen = now;
      if (caps) m.capabilities = caps;
      return true;
    }
    this.members.set(peerId, { peerId, lastSeen: now, capabilities: caps });
    this.init.onJoin?.(peerId);
    return true;
  }

  /** `peerId` is back for certain (e.g. a new direct connection from it): forget its leave. */
  rejoin(peerId: string): void {
    this.departed.delete(peerId);
  }

  /** The member announced its leave: drop it now. False if it was not a member. */
  leave(peerId: string, message?: string): boolean {
    const now = this.now();
    this.departed.set(peerId, now);
    const m = this.members.get(peerId);
    if (!m) return false;
    this.members.delete(peerId);
    this.init.onLeave?.({ peerId, reason: 'announced', silentMs: now - m.lastSeen, ...(message !== undefined ? { message } : {}) });
    return true;
  }

  /** Drop every member silent for more than leaveTimeoutMs; returns them. */
  sweep(): LeaveDetail[] {
    const now = this.now();
    const out: LeaveDetail[] = [];
    for (const [id, m] of this.members) {
      if (now - m.lastSeen > this.init.leaveTimeoutMs) {
        this.members.delete(id);
        const d: LeaveDetail = { peerId: id, reason: 'timeout', silentMs: now - m.lastSeen };
        out.push(d);
        this.init.onLeave?.(d);
      }
    }
    for (const [id, at] of this.departed) if (now - at >= this.init.leaveTimeoutMs) this.departed.delete(id);
    return out;
  }

  has(peerId: string): boolean {
    return this.members.has(peerId);
  }

  get(peerId: string): MemberEntry<C> | undefined {
    return this.members.get(peerId);
  }

  values(): MemberEntry<C>[] {
    return [...this.members.values()];
  }

  get size(): number {
    return this.members.size;
  }
}

/**
 * Whether this node's heartbeat must also go out on the gossip topic: only for members without
 * a direct link (they get no direct heartbeat stream). Links are symmetric, so a member that has
 * no direct link to us is one we have none to, and it publishes too. In a fully connected,
 * idle swarm the topic stays quiet: its signed, relay-carried messages had been most of an idle
 * page's CPU (docs/NETWORK.md, "Idle CPU").
 */
export function needsTopicHeartbeat(members: Iterable<string>, directPeers: ReadonlySet<string>): boolean {
  for (const id of members) if (!directPeers.has(id)) return true;
  return false;
}
