/**
 * Peer discovery with an adaptive broadcast period: @libp2p/pubsub-peer-discovery (same topic,
 * same record, so relays and older peers interoperate) whose fixed broadcast interval is
 * replaced by
 *   - the fast period (`fastIntervalMs`) until the node is settled, the slow period
 *     (`slowIntervalMs`) after that. SwarmNode calls a node settled once it knows a member: its
 *     presence then reaches the swarm through its heartbeats (on the gossip topic while some
 *     member has no direct link to it, and they trigger dials as a record does);
 *   - an answer to every newly seen peer: our own record goes out `replyDelayMs` (with jitter)
 *     after a peer we had not seen broadcasts, so a joiner learns of a settled swarm at once
 *     instead of after one slow period.
 * Why: every discovery record is a signed gossipsub message that each page verifies and
 * forwards; at 2 s per peer, an idle 8-page mesh spent ~0.6 of the 2 cores on discovery alone,
 * and a forming 16-page mesh ~a quarter of each page's main thread on gossip
 * (bench/net/idle-profile.ts, docs/NETWORK.md "Idle and formation CPU").

 * What it is not: membership (membership.ts) or the dial rules (dial.ts); it only says who exists.
 */
import type { PeerDiscovery } from '@libp2p/interface';
import { PubSubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';

export interface AdaptiveDiscoveryInit {
  /** Broadcast period while the node is not settled (ms). */
  fastIntervalMs: number;
  /** Broadcast period once it is settled (ms). */
  slowIntervalMs: number;
  /** Answer a newly seen peer within this long (ms; uniform jitter from a quarter of it). */
  replyDelayMs: number;
  /** True once the node needs discovery only for newcomers (SwarmNode: it knows a member). */
  settled: () => boolean;
}

/** The delay before the next periodic broadcast (ms). */
export function discoveryDelay(settled: boolean, init: Pick<AdaptiveDiscoveryInit, 'fastIntervalMs' | 'slowIntervalMs'>): number {
  return settled ? init.slowIntervalMs : init.fastIntervalMs;
}

type Components = ConstructorParameters<typeof PubSubPeerDiscovery>[0];

/** PubSubPeerDiscovery whose broadcasts follow AdaptiveDiscoveryInit instead of a fixed interval. */
export class AdaptiveDiscovery extends PubSubPeerDiscovery {
  private readonly adaptive: AdaptiveDiscoveryInit;
  private readonly seen = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reply: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  /** Broadcasts sent (periodic and replies), for tests and diagnostics. */
  broadcasts = 0;

  constructor(components: Components, init: AdaptiveDiscoveryInit) {
    super(components, { interval: init.fastIntervalMs });
    this.adaptive = init;
    this.addEventListener('peer', (e) => {
      const id = e.detail.id.toString();
      if (this.seen.has(id)) return;
      this.seen.add(id);
      this.replySoon();
    });
  }

  override afterStart(): void {
    // The parent subscribes, broadcasts once and starts its fixed interval; its interval handle
    // is also its "started" flag (isStarted), so the adaptive timer takes that handle's place.
    super.afterStart();
    this.running = true;
    clearInterval(this.handle);
    this.schedule();
  }

  override stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.reply);
    this.timer = this.reply = undefined;
    super.stop();
  }

  /** A peer that left: if it comes back, it is answered again. */
  forget(peerId: string): void {
    this.seen.delete(peerId);
  }

  override _broadcast(): void {
    this.broadcasts++;
    super._broadcast();
  }

  private get handle(): ReturnType<typeof setTimeout> | undefined {
    return (this as unknown as { intervalId?: ReturnType<typeof setTimeout> }).intervalId;
  }

  private set handle(h: ReturnType<typeof setTimeout> | undefined) {
    (this as unknown as { intervalId?: ReturnType<typeof setTimeout> }).intervalId = h;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.broadcastSafely();
      this.schedule();
    }, discoveryDelay(this.adaptive.settled(), this.adaptive));
    this.handle = this.timer;
  }

  private replySoon(): void {
    if (!this.running || this.reply) return;
    const d = this.adaptive.replyDelayMs;
    this.reply = setTimeout(() => {
      this.reply = undefined;
      this.broadcastSafely();
    }, d / 4 + Math.random() * (d * 0.75));
  }

  private broadcastSafely(): void {
    if (!this.running) return;
    try {
      this._broadcast();
    } catch {
      // no public key yet or pubsub stopping: the next period tries again
    }
  }
}

/** The libp2p `peerDiscovery` factory. */
export function adaptiveDiscovery(init: AdaptiveDiscoveryInit): (components: Components) => PeerDiscovery & AdaptiveDiscovery {
  return (components) => new AdaptiveDiscovery(components, init);
}
