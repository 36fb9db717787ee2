/**
 * The transport the gossip algorithms run on, kept abstract so the real swarm (SwarmNode's
 * sendTensor/onTensor over direct WebRTC) and the in-memory simulator plug in the same way.
 *
 * A transport frames messages (frame.ts), counts every byte in its ByteLedger, and delivers
 * received frames into a Mailbox, which answers `recv` with a timeout, drops duplicates and
 * stale messages (step below the floor set by `discardBelow`), and never throws on bad input:
 * frames that fail to parse are counted in `rejectedFrames`.
 */
import type { Clock } from './clock.ts';
import { decodeFrame, type GossipMessage, type MessageKind, type Outgoing } from './frame.ts';
import type { ByteLedger } from './ledger.ts';

export type PeerId = string;

export interface MembershipEvent {
  type: 'join' | 'leave';
  peer: PeerId;
}

export interface MessageMatch {
  kind: MessageKind;
  from?: PeerId;
  step?: number;
  /** Only messages with a step above this one. */
  stepAbove?: number;
  tensor?: string;
  /** Resolve with a matching message but leave it queued for a later recv (default false). */
  peek?: boolean;
}

export interface GossipTransport {
  readonly self: PeerId;
  readonly clock: Clock;
  readonly ledger: ByteLedger;
  /** Current membership view, self included (any order). */
  members(): PeerId[];
  /** Fire and forget; bytes are counted as sent even if the link then drops them. */
  send(to: PeerId, msg: Outgoing): void;
  /** First queued or arriving message matching `match`, or undefined after `timeoutMs`. */
  recv(match: MessageMatch, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined>;
  /** Drop queued messages of `kind` with step < `step`, and any that arrive later. */
  discardBelow(kind: MessageKind, step: number): void;
  onMembership(cb: (ev: MembershipEvent) => void): () => void;
}

interface Waiter {
  match: MessageMatch;
  resolve: (m: GossipMessage | undefined) => void;
}

function matches(m: GossipMessage, q: MessageMatch): boolean {
  return (
    m.kind === q.kind &&
    (q.from === undefined || m.from === q.from) &&
    (q.step === undefined || m.step === q.step) &&
    (q.stepAbove === undefined || m.step > q.stepAbove) &&
    (q.tensor === undefined || m.tensor === q.tensor)
  );
}

export interface MailboxStats {
  delivered: number;
  duplicates: number;
  stale: number;
  rejectedFrames: number;
}

/** Receive side shared by transports: matching, timeouts, de-duplication, staleness. */
export class Mailbox {
  private queue: GossipMessage[] = [];
  private waiters: Waiter[] = [];
  private seen = new Map<string, number>();
  private floors = new Map<MessageKind, number>();
  readonly stats: MailboxStats = { delivered: 0, duplicates: 0, stale: 0, rejectedFrames: 0 };

  constructor(private readonly clock: Clock) {}

  /** Parse and deliver raw frame bytes; never throws (bad frames are counted). */
  pushFrame(from: PeerId, bytes: Uint8Array): void {
    let m: GossipMessage;
    try {
      m = decodeFrame(from, bytes);
    } catch {
      this.stats.rejectedFrames++;
      return;
    }
    this.push(m);
  }

  push(m: GossipMessage): void {
    if (m.step < (this.floors.get(m.kind) ?? 0)) {
      this.stats.stale++;
      return;
    }
    const key = `${m.from}\u0000${m.kind}\u0000${m.step}\u0000${m.tensor}`;
    if (this.seen.has(key)) {
      this.stats.duplicates++;
      return;
    }
    this.seen.set(key, m.step);
    this.stats.delivered++;
    // Peeking waiters see the message and leave it; the first consuming waiter takes it.
    for (const w of this.waiters.filter((x) => x.match.peek && matches(m, x.match))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(m);
    }
    const w = this.waiters.findIndex((x) => matches(m, x.match));
    if (w >= 0) {
      const [waiter] = this.waiters.splice(w, 1);
      waiter.resolve(m);
    } else this.queue.push(m);
  }

  async recv(match: MessageMatch, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined> {
    const i = this.queue.findIndex((m) => matches(m, match));
    if (i >= 0) return match.peek ? this.queue[i] : this.queue.splice(i, 1)[0];
    if (timeoutMs <= 0 || signal?.aborted) return undefined;
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? this.clock.timer(timeoutMs) : { promise: new Promise<void>(() => {}), cancel: () => {} };
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          timer.cancel();
          resolve(m);
        },
      };
      this.waiters.push(waiter);
      const expire = () => {
        const k = this.waiters.indexOf(waiter);
        if (k >= 0) {
          this.waiters.splice(k, 1);
          timer.cancel();
          resolve(undefined);
        }
      };
      timer.promise.then(expire);
      signal?.addEventListener('abort', expire, { once: true });
    });
  }

  discardBelow(kind: MessageKind, step: number): void {
    if (step <= (this.floors.get(kind) ?? 0)) return;
    this.floors.set(kind, step);
    this.queue = this.queue.filter((m) => !(m.kind === kind && m.step < step));
    for (const [k, s] of this.seen) if (s < step && k.includes(`\u0000${kind}\u0000`)) this.seen.delete(k);
  }

  /** Resolve every pending recv with undefined (transport closing). */
  close(): void {
    for (const w of this.waiters.splice(0)) w.resolve(undefined);
  }
}
