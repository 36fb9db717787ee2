/**
 * The web app on the swarm: one SwarmNode (peer-core/net) per page, found through the relay
 * that served the page (`/api/relay`), plus two gossipsub topics of this app:
 *  - JOBS_TOPIC: signed job announcements and signed control messages from hosts
 *    (authority.ts); every receiver checks them with a ControlGate before acting;
 *  - PROGRESS_TOPIC: what each volunteer reports about its training (step, loss, tokens/s,
 *    state), which the host dashboard charts and tabulates.
 * Messages are JSON; anything malformed is counted and dropped, never thrown.
 *
 * What it is not: model averaging. Exchanging model updates between peers needs a gossip
 * transport over SwarmNode, which this build does not have yet (see the volunteer notice).
 */
import { type CapabilityRecord, createSwarmNode, fetchRelayInfo, type SwarmNode } from '@swarmgrad/peer-core';
import type { HostKey, SignedControl, SignedJob } from '@swarmgrad/peer-core/job';

export const JOBS_TOPIC = 'swarmgrad/web/jobs/1';
export const PROGRESS_TOPIC = 'swarmgrad/web/progress/1';

export type JobsMessage = { type: 'job'; signed: SignedJob } | { type: 'control'; signed: SignedControl };

export interface ProgressReport {
  jobId: string;
  peerId: string;
  state: 'loading' | 'training' | 'paused' | 'stopped' | 'error';
  step: number;
  loss: number | null;
  heldoutLoss: number | null;
  tokensPerSecond: number | null;
  bytesUp: number;
  bytesDown: number;
  /** Averaging traffic rates and compression (raw fp32 bytes / bytes sent), when averaging. */
  bytesUpPerSecond?: number;
  bytesDownPerSecond?: number;
  compressionRatio?: number | null;
  /** Averagings applied so far (active + passive). */
  averagings?: number;
  /** Next averaging round, for synchronous algorithms (dpsgd, choco, allreduce): late peers align to it. */
  round?: number;
  time: number;
}

export interface WebSwarmEvents {
  onJobs?(m: JobsMessage, from: string): void;
  onProgress?(p: ProgressReport, from: string): void;
  onJoin?(peerId: string): void;
  onLeave?(peerId: string): void;
}

type PubsubLike = {
  subscribe(topic: string): void;
  publish(topic: string, data: Uint8Array): Promise<unknown>;
  addEventListener(type: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array; from?: { toString(): string } }>) => void): void;
};

export class WebSwarm {
  rejected = 0;
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder();

  private constructor(
    readonly node: SwarmNode,
    private readonly events: WebSwarmEvents,
  ) {}

  /** Join the swarm of the relay that served this page. Throws when there is none. */
  static async connect(key: HostKey, capabilities: CapabilityRecord, events: WebSwarmEvents, origin = location.origin): Promise<WebSwarm> {
    const info = await fetchRelayInfo(origin);
    const node = await createSwarmNode({ relay: info.multiaddrs, privateKey: key, capabilities });
    const s = new WebSwarm(node, events);
    const ps = s.pubsub;
    ps.subscribe(JOBS_TOPIC);
    ps.subscribe(PROGRESS_TOPIC);
    ps.addEventListener('message', (e) => s.receive(e.detail.topic, e.detail.data, e.detail.from?.toString() ?? '?'));
    node.addEventListener('peer:join', (e) => events.onJoin?.((e as CustomEvent<{ peerId: string }>).detail.peerId));
    node.addEventListener('peer:leave', (e) => events.onLeave?.((e as CustomEvent<{ peerId: string }>).detail.peerId));
    return s;
  }

  private get pubsub(): PubsubLike {
    return (this.node.libp2p.services as unknown as { pubsub: PubsubLike }).pubsub;
  }

  private receive(topic: string, data: Uint8Array, from: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(this.dec.decode(data));
    } catch {
      this.rejected++;
      return;
    }
    if (!msg || typeof msg !== 'object') {
      this.rejected++;
      return;
    }
    const m = msg as Record<string, unknown>;
    if (topic === JOBS_TOPIC && (m.type === 'job' || m.type === 'control')) this.events.onJobs?.(m as unknown as JobsMessage, from);
    else if (topic === PROGRESS_TOPIC && typeof m.jobId === 'string' && typeof m.step === 'number') this.events.onProgress?.(m as unknown as ProgressReport, from);
    else this.rejected++;
  }

  async publish(topic: string, value: unknown): Promise<void> {
    try {
      await this.pubsub.publish(topic, this.enc.encode(JSON.stringify(value)));
    } catch {
      // No subscribed peer yet: the next periodic publish reaches late joiners.
    }
  }

  get peerId(): string {
    return this.node.peerId;
  }

  /** Other members (relay excluded), with their capability records. */
  members(): ReturnType<SwarmNode['peers']> {
    return this.node.peers();
  }

  setCapabilities(c: CapabilityRecord): void {
    this.node.setCapabilities(c);
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}

/**
 * Whether the page was served by a relay: its /api/health names the relay's peer id (a plain
 * static server answers without it). /api/health exists on every Swarmgrad HTTP server, so
 * asking never logs a failed request.
 */
export async function relayAvailable(origin = location.origin): Promise<boolean> {
  try {
    const r = await fetch(new URL('/api/health', origin), { cache: 'no-store' });
    if (!r.ok) return false;
    const j = (await r.json()) as { relay?: unknown };
    return typeof j.relay === 'string' && j.relay.length > 0;
  } catch {
    return false;
  }
}
