/**
 * Averaging model parameters with the other volunteers of a job, over the swarm, with the job's
 * own algorithm from peer-core's gossip/ (the same classes the PeerRuntime and the benchmarks
 * use) on a `gossip.SwarmGossipTransport` over this page's SwarmNode:
 *  - `adpsgd` (AD-PSGD, Lian et al. 2018): no rounds, each peer averages with one neighbour after
 *    its local step and never waits for slow peers, so volunteers at different steps (late
 *    joiners, compute limits) still mix. The neighbour is chosen among all participants
 *    (topology 'full'): volunteers come and go.
 *  - `dpsgd`, `choco`, `allreduce`: synchronous rounds over the job's topology. Rounds are the
 *    swarm's round numbers, not the local step count: before each round a volunteer jumps to the
 *    highest round it has seen from a participant (as the PeerRuntime does), so a late joiner or
 *    a slow device re-aligns instead of timing out every round. A neighbour that does not answer
 *    is left out after the job's `algorithm.timeoutMs`; CHOCO re-syncs public copies itself.
 *
 * The worker owns training; this page owns the live parameter vector `x` that the averager mixes.
 * After a local step the worker hands over its new parameters; the step's update (new − what the
 * worker started from) is added to `x` (keeping passive AD-PSGD averagings that happened
 * meanwhile), `x` is mixed, and a copy goes back to the worker.
 *
 * Membership is the job's participants only (peers that reported progress for this job), not
 * every swarm member: a JobLink wraps SwarmNode and filters them.
 */
import { gossip, runtime, type SwarmNode } from '@swarmgrad/peer-core';
import type { JobSpec } from './jobspec.ts';

type LinkTensor = gossip.LinkTensor;

/** SwarmNode seen through the job's participants. */
export class JobLink extends EventTarget implements gossip.TensorLink {
  private readonly participants = new Set<string>();

  constructor(private readonly node: SwarmNode) {
    super();
    node.addEventListener('peer:leave', (e) => {
      const id = (e as CustomEvent<{ peerId: string }>).detail.peerId;
      if (this.participants.delete(id)) this.dispatchEvent(new CustomEvent('peer:leave', { detail: { peerId: id } }));
    });
  }

  get peerId(): string {
    return this.node.peerId;
  }

  /** A peer reported progress on this job: it takes part in averaging from now on. */
  admit(peerId: string): void {
    if (peerId === this.peerId || this.participants.has(peerId)) return;
    this.participants.add(peerId);
    this.dispatchEvent(new CustomEvent('peer:join', { detail: { peerId } }));
  }

  /** A peer stopped training this job (paused, stopped, left). */
  dismiss(peerId: string): void {
    if (this.participants.delete(peerId)) this.dispatchEvent(new CustomEvent('peer:leave', { detail: { peerId } }));
  }

  peers(): Array<{ peerId: string }> {
    const members = new Set(this.node.peers().map((m) => m.peerId));
    return [...this.participants].filter((p) => members.has(p)).map((peerId) => ({ peerId }));
  }

  sendTensor(peerId: string, t: LinkTensor): Promise<unknown> {
    return this.node.sendTensor(peerId, t);
  }

  onTensor(handler: (t: { jobId: number; step: number; tensorId: number; data: Uint8Array }, from: string) => void): () => void {
    return this.node.onTensor(handler);
  }
}

/** Message kinds that carry no vector (left out of the compression ratio's fp32 bytes). */
const VECTORLESS_KINDS = ['model-pull', 'adpsgd-req'] as const;

/**
 * 32-bit job number on the wire (the transport's jobId) from the job id string: the runtime's
 * own rule, so browser pages and Node `PeerRuntime` peers of one job use the same id.
 */
export const wireJobId: (jobId: string) => number = runtime.wireJobId;

export interface AveragingStats {
  rounds: number;
  mixed: number;
  missing: number;
  rejected: number;
  /** Bytes the transport sent and received (compressed, on the wire). */
  bytesSent: number;
  bytesReceived: number;
  /** Raw fp32 bytes of what was sent / bytes actually sent (1 = no compression). */
  compressionRatio: number | null;
}

/** Display names of the algorithms, for the volunteer's status line. */
export const ALGORITHM_LABELS: Record<JobSpec['algorithm']['name'], string> = {
  adpsgd: 'AD-PSGD',
  dpsgd: 'D-PSGD',
  choco: 'CHOCO-SGD',
  allreduce: 'all-reduce',
};

export class JobAveraging {
  readonly link: JobLink;
  readonly algorithm: JobSpec['algorithm']['name'];
  private readonly transport: gossip.SwarmGossipTransport;
  private readonly averager: gossip.Averager;
  private readonly synchronous: boolean;
  /** Next round of a synchronous algorithm (the swarm's round number). */
  private round = 0;
  /** Highest round seen in a frame of this job, per sender. */
  private readonly seen = new Map<string, number>();
  private readonly detach: () => void;
  private x: Float32Array | null = null;
  /** What the worker started its current step from (x as last handed to it). */
  private base: Float32Array | null = null;
  readonly stats: AveragingStats = { rounds: 0, mixed: 0, missing: 0, rejected: 0, bytesSent: 0, bytesReceived: 0, compressionRatio: null };

  constructor(node: SwarmNode, jobId: string, spec: JobSpec) {
    this.link = new JobLink(node);
    const wire = wireJobId(jobId);
    this.transport = new gossip.SwarmGossipTransport({ link: this.link, jobId: wire });
    this.algorithm = spec.algorithm.name;
    this.synchronous = spec.algorithm.name !== 'adpsgd';
    const { codec, topologyOptions, maxStaleness, gamma } = jobOptions(spec);
    this.averager = gossip.createAverager(spec.algorithm.name, {
      transport: this.transport,
      codec,
      // AD-PSGD picks its neighbour among everyone (full topology): volunteers come and go.
      topology: this.synchronous ? spec.topology.kind : 'full',
      topologyOptions,
      timeoutMs: spec.algorithm.timeoutMs,
      maxStaleness,
      gamma,
    });
    this.detach = this.link.onTensor((t, from) => {
      if (t.jobId === wire) this.noteRound(from, t.step);
    });
  }

  /** A participant was seen at `round` (a frame of this job, or its progress report). */
  noteRound(peerId: string, round: number): void {
    if (round > (this.seen.get(peerId) ?? -1)) this.seen.set(peerId, round);
  }

  /** The round this peer mixes in next (synchronous algorithms; undefined for AD-PSGD). */
  get nextRound(): number | undefined {
    return this.synchronous ? this.round : undefined;
  }

  /** Highest round a current participant has been seen in (-1: none). */
  highestRound(): number {
    let h = -1;
    for (const { peerId } of this.link.peers()) h = Math.max(h, this.seen.get(peerId) ?? -1);
    return h;
  }

  /** After local step `step`: fold the worker's update into x, mix with a neighbour, return a copy. */
  async mix(step: number, params: Float32Array): Promise<Float32Array> {
    if (!this.x || !this.base || this.x.length !== params.length) {
      this.x = params.slice();
      this.base = params.slice();
      // Joining a job whose participants have already mixed (or resuming): re-sync state.
      this.averager.init(this.x, { joining: this.highestRound() > 0 });
    } else {
      const x = this.x;
      const base = this.base;
      for (let i = 0; i < x.length; i++) x[i] += params[i]! - base[i]!;
    }
    let round = step;
    if (this.synchronous) {
      round = Math.max(this.round, this.highestRound());
      this.round = round + 1;
    }
    const r = await this.averager.mix(this.x, round);
    if (this.synchronous) {
      // A neighbour that did not answer while it was seen at this round or later has timed out
      // on us in that round too and moved on: go one past it instead of lagging one behind.
      const seen = this.highestRound();
      if (r.missing.length > 0 && seen >= round) this.round = Math.max(this.round, seen + 1);
    }
    this.stats.rounds++;
    this.stats.mixed += r.mixed.length;
    this.stats.missing += r.missing.length;
    this.stats.rejected += r.rejected.length;
    this.updateBytes(this.x.length);
    this.base = this.x.slice();
    return this.x.slice();
  }

  private updateBytes(n: number): void {
    const sent = this.transport.ledger.total({ dir: 'sent' }).bytes;
    const received = this.transport.ledger.total({ dir: 'received' }).bytes;
    this.stats.bytesSent = sent;
    this.stats.bytesReceived = received;
    // Every message but a model-pull request and an AD-PSGD request (bare headers) carries one
    // vector, fp32 before compression.
    const sentAll = this.transport.ledger.total({ dir: 'sent' }).messages;
    const bare = VECTORLESS_KINDS.reduce((k, kind) => k + this.transport.ledger.total({ dir: 'sent', kind }).messages, 0);
    const raw = (sentAll - bare) * n * 4;
    this.stats.compressionRatio = sent > 0 && raw > 0 ? raw / sent : null;
  }

  stop(): void {
    this.detach();
    this.averager.stop();
    this.transport.close();
  }
}

function jobOptions(spec: JobSpec): {
  codec: { name: JobSpec['codec']['name']; fraction?: number; blockSize?: number; errorFeedback?: boolean };
  topologyOptions: { seed: number; degree?: number };
  maxStaleness?: number;
  gamma?: number;
} {
  const { name, fraction, blockSize, errorFeedback } = spec.codec;
  return {
    codec: { name, fraction, blockSize, errorFeedback },
    topologyOptions: { seed: spec.topology.seed, degree: spec.topology.degree },
    maxStaleness: spec.algorithm.maxStaleness,
    gamma: spec.algorithm.gamma,
  };
}
