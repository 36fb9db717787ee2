/**
 * When the warm-up transfers of new direct connections run (SwarmNode).
 *
 * Every new direct connection is warmed up with one transfer on the default data path before
 * it is reported ready: the first bulk transfer on a fresh WebRTC association stalls
 * (docs/NETWORK.md, "first-transfer stall"). A warm-up is CPU work (opening the bulk channel's
 * RTCPeerConnection, then 4 MiB through SCTP/DTLS on both ends), and warm-ups that ran at once
 * with the mesh's dials were most of the 8-peer mesh's dial time (median 18 s with them,
 * 1.6 s without). So WarmupScheduler runs them:
 *  - one at a time per node;
 *  - only while this node's dialing is idle (no attempt in flight, no queued target due) and no
 *    direct connection opened on this node in the last `quietMs` (inbound dials are invisible
 *    until they open; a burst of openings means the mesh is still forming);
 *  - at the latest `maxDelayMs` after the connection opened (a target that keeps failing must
 *    not keep the other links cold forever);
 *  - at once, ahead of the others, when a send needs the link (`urgent`: sendTensor waits for
 *    the warm-up of its peer).
 *
 * What it is not: the warm-up transfer itself (SwarmNode.warmup) or the dial scheduler
 * (dial.ts).
 */

export interface WarmupSchedulerInit<C> {
  /** True when this node's dialing is idle: nothing in flight, no queued target due now. */
  dialIdle(): boolean;
  /** Run the warm-up of `conn` (to `peerId`); a rejection counts as done. */
  run(peerId: string, conn: C): Promise<void>;
  /** Is `conn` still worth warming up (open)? Skipped otherwise. Default: always. */
  alive?(conn: C): boolean;
  /** No direct connection opened on this node for this long before a warm-up starts (ms). */
  quietMs: number;
  /** A warm-up starts at the latest this long after its connection opened (ms). */
  maxDelayMs: number;
  /** Clock (ms); default performance.now. */
  now?(): number;
  /** Poll period while waiting for quiet (ms); default 50. */
  pollMs?: number;
}

interface Pending<C> {
  peerId: string;
  conn: C;
  addedAt: number;
  urgent: boolean;
  done: () => void;
}

export class WarmupScheduler<C> {
  /** Order in which warm-ups ran (peer ids), for tests and diagnostics. */
  readonly order: string[] = [];
  private readonly queue: Pending<C>[] = [];
  private readonly promises = new Map<string, Promise<void>>();
  private lastOpen = Number.NEGATIVE_INFINITY;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly init: WarmupSchedulerInit<C>) {}

  private now(): number {
    return this.init.now?.() ?? performance.now();
  }

  /** A direct connection opened on this node (either direction): the quiet period restarts. */
  noteConnectionOpen(): void {
    this.lastOpen = this.now();
  }

  /** Queue the warm-up of `conn`; resolves when it ran (or was dropped or skipped). A second
   *  add for the same peer replaces the first (a newer connection). */
  add(peerId: string, conn: C): Promise<void> {
    this.drop(peerId);
    let done!: () => void;
    const p = new Promise<void>((ok) => {
      done = ok;
    });
    this.queue.push({ peerId, conn, addedAt: this.now(), urgent: false, done });
    this.promises.set(peerId, p);
    this.kick();
    return p;
  }

  /** The warm-up of `peerId` if one is queued or running (undefined otherwise). */
  pending(peerId: string): Promise<void> | undefined {
    return this.promises.get(peerId);
  }

  /** A send waits for `peerId`: run its warm-up next, without waiting for quiet. */
  urgent(peerId: string): void {
    const p = this.queue.find((x) => x.peerId === peerId);
    if (!p) return;
    p.urgent = true;
    this.kick();
  }

  /** Forget a queued warm-up (its connection closed, the peer left): resolves its promise. */
  drop(peerId: string): void {
    const i = this.queue.findIndex((x) => x.peerId === peerId);
    if (i < 0) return;
    const [p] = this.queue.splice(i, 1);
    this.promises.delete(peerId);
    p!.done();
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.done();
    this.promises.clear();
    this.kick();
  }

  /** The entry that may start now, if any. */
  private next(): Pending<C> | undefined {
    const urgent = this.queue.find((x) => x.urgent);
    if (urgent) return urgent;
    const now = this.now();
    const overdue = this.queue.find((x) => now - x.addedAt >= this.init.maxDelayMs);
    if (overdue) return overdue;
    if (now - this.lastOpen < this.init.quietMs || !this.init.dialIdle()) return undefined;
    return this.queue[0];
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.queue.length) {
        const p = this.next();
        if (!p) {
          await new Promise<void>((ok) => {
            const t = setTimeout(ok, this.init.pollMs ?? 50);
            this.wake = () => {
              clearTimeout(t);
              ok();
            };
          });
          continue;
        }
        this.queue.splice(this.queue.indexOf(p), 1);
        try {
          if (this.init.alive?.(p.conn) ?? true) {
            this.order.push(p.peerId);
            await this.init.run(p.peerId, p.conn);
          }
        } catch {
          // a failed warm-up leaves the link cold, not broken: the send path reports real errors
        } finally {
          if (this.promises.get(p.peerId) && !this.queue.some((x) => x.peerId === p.peerId)) this.promises.delete(p.peerId);
          p.done();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
