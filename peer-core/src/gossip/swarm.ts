/**
 * GossipTransport over the real swarm: an adapter for SwarmNode (peer-core/src/net), typed
 * structurally (`TensorLink`: the few SwarmNode members it uses) so the gossip layer does not
 * depend on the networking module's internals.
 *
 * Each gossip frame (frame.ts) travels as one opaque tensor: dtype 'u8', shape [frame bytes],
 * codec 'none' (the codec id inside the frame is the gossip codec), jobId = the job, step = the
 * gossip step, tensorId = the message kind. Membership is SwarmNode's view (peer:join /
 * peer:leave events, heartbeats with a leave timeout), so a crashed peer is removed after the
 * failure detector fires and the gossip topology is re-formed then; until then rounds time out.
 * Not here: retries (a failed send is counted and treated like a lost message).
 */
import { type Clock, RealClock } from './clock.ts';
import { encodeFrame, type GossipMessage, MESSAGE_KINDS, type MessageKind, type Outgoing } from './frame.ts';
import { ByteLedger } from './ledger.ts';
import { type GossipTransport, Mailbox, type MembershipEvent, type MessageMatch, type PeerId } from './transport.ts';

export interface LinkTensor {
  jobId: number;
  step: number;
  tensorId: number;
  codec: 'none';
  dtype: 'u8';
  shape: number[];
  data: Uint8Array;
}

/** The subset of SwarmNode this adapter needs. */
export interface TensorLink extends EventTarget {
  readonly peerId: string;
  peers(): Array<{ peerId: string }>;
  sendTensor(peerId: string, t: LinkTensor): Promise<unknown>;
  onTensor(handler: (t: { jobId: number; step: number; tensorId: number; data: Uint8Array }, from: string) => void): () => void;
}

export interface SwarmTransportInit {
  link: TensorLink;
  /** Only tensors of this job are gossip frames for us. */
  jobId: number;
  clock?: Clock;
}

export class SwarmGossipTransport implements GossipTransport {
  readonly ledger = new ByteLedger();
  readonly clock: Clock;
  readonly mailbox: Mailbox;
  /** Sends that failed (peer gone, stream error): counted, not retried. */
  sendFailures = 0;
  private readonly link: TensorLink;
  private readonly jobId: number;
  private readonly listeners = new Set<(ev: MembershipEvent) => void>();
  private readonly detach: Array<() => void> = [];

  constructor(init: SwarmTransportInit) {
    this.link = init.link;
    this.jobId = init.jobId >>> 0;
    this.clock = init.clock ?? new RealClock();
    this.mailbox = new Mailbox(this.clock);
    this.detach.push(
      this.link.onTensor((t, from) => {
        if (t.jobId !== this.jobId) return;
        const kind: MessageKind | undefined = MESSAGE_KINDS[t.tensorId];
        this.ledger.record('received', from, t.step, kind ?? 'params', t.data.byteLength);
        this.mailbox.pushFrame(from, t.data);
      }),
    );
    for (const type of ['peer:join', 'peer:leave'] as const) {
      const h = (e: Event) => {
        const peer = (e as CustomEvent<{ peerId?: string }>).detail?.peerId;
        if (typeof peer !== 'string') return;
        for (const cb of this.listeners) cb({ type: type === 'peer:join' ? 'join' : 'leave', peer });
      };
      this.link.addEventListener(type, h);
      this.detach.push(() => this.link.removeEventListener(type, h));
    }
  }

  get self(): PeerId {
    return this.link.peerId;
  }

  members(): PeerId[] {
    return [this.self, ...this.link.peers().map((m) => m.peerId)];
  }

  send(to: PeerId, msg: Outgoing): void {
    const data = encodeFrame(msg);
    this.ledger.record('sent', to, msg.step, msg.kind, data.byteLength);
    const t: LinkTensor = { jobId: this.jobId, step: msg.step >>> 0, tensorId: MESSAGE_KINDS.indexOf(msg.kind), codec: 'none', dtype: 'u8', shape: [data.byteLength], data };
    this.link.sendTensor(to, t).catch(() => {
      this.sendFailures++;
    });
  }

  recv(match: MessageMatch, timeoutMs: number, signal?: AbortSignal): Promise<GossipMessage | undefined> {
    return this.mailbox.recv(match, timeoutMs, signal);
  }

  discardBelow(kind: MessageKind, step: number): void {
    this.mailbox.discardBelow(kind, step);
  }

  onMembership(cb: (ev: MembershipEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  close(): void {
    for (const d of this.detach.splice(0)) d();
    this.mailbox.close();
  }
}
