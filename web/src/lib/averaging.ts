/**
 * Averaging model parameters with the other volunteers of a job, over the swarm: peer-core's
 * AD-PSGD (`gossip.Adpsgd`, Lian et al. 2018) on a `gossip.SwarmGossipTransport` over this
 * page's SwarmNode. AD-PSGD is the algorithm of the job spec that fits browsers: no rounds, each
 * peer averages with one neighbour after its local step and never waits for slow peers, so
 * volunteers at different steps (late joiners, compute limits) still mix.
 *
 * The worker owns training; this page owns the live parameter vector `x` that the AD-PSGD
 * responder averages into at any time. After a local step the worker hands over its new
 * parameters; the step's update (new − what the worker started from) is added to `x` (keeping
 * passive averagings that happened meanwhile), `x` is mixed with one neighbour, and a copy goes
 * back to the worker.
 *
 * Membership is the job's participants only (peers that reported progress for this job), not
 * every swarm member: a JobLink wraps SwarmNode and filters them.
 */
import { gossip, type SwarmNode } from '@swarmgrad/peer-core';
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

/** 32-bit job number on the wire (the transport's jobId) from the job id string. */
export function wireJobId(jobId: string): number {
  let h = 2166136261;
  for (let i = 0; i < jobId.length; i++) h = Math.imul(h ^ jobId.charCodeAt(i), 16777619);
  // Keep clear of the transport's reserved ids (0xffffffff, 0xfffffffe).
  return (h >>> 0) % 0xfffff000;
}

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

export class JobAveraging {
  readonly link: JobLink;
  private readonly transport: gossip.SwarmGossipTransport;
  private readonly averager: gossip.Adpsgd;
  private x: Float32Array | null = null;
  /** What the worker started its current step from (x as last handed to it). */
  private base: Float32Array | null = null;
  readonly stats: AveragingStats = { rounds: 0, mixed: 0, missing: 0, rejected: 0, bytesSent: 0, bytesReceived: 0, compressionRatio: null };
  private requests = 0;

  constructor(node: SwarmNode, jobId: string, spec: JobSpec) {
    this.link = new JobLink(node);
    this.transport = new gossip.SwarmGossipTransport({ link: this.link, jobId: wireJobId(jobId) });
    const { codec, topologyOptions, maxStaleness } = (() => {
      const o = jobOptions(spec);
      return { codec: o.codec, topologyOptions: o.topologyOptions, maxStaleness: o.maxStaleness };
    })();
    // A neighbour is chosen among everyone (full topology): volunteers come and go.
    this.averager = new gossip.Adpsgd({ transport: this.transport, codec, topology: 'full', topologyOptions, maxStaleness, timeoutMs: spec.algorithm.timeoutMs });
  }

  /** After local step `step`: fold the worker's update into x, mix with a neighbour, return a copy. */
  async mix(step: number, params: Float32Array): Promise<Float32Array> {
    if (!this.x || !this.base || this.x.length !== params.length) {
      this.x = params.slice();
      this.base = params.slice();
      this.averager.init(this.x);
    } else {
      const x = this.x;
      const base = this.base;
      for (let i = 0; i < x.length; i++) x[i] += params[i]! - base[i]!;
    }
    const r = await this.averager.mix(this.x, step);
    this.stats.rounds++;
    this.stats.mixed += r.mixed.length;
    this.stats.missing += r.missing.length;
    this.stats.rejected += r.rejected.length;
    if (r.neighbours.length) this.requests++;
    this.updateBytes(this.x.length);
    this.base = this.x.slice();
    return this.x.slice();
  }

  private updateBytes(n: number): void {
    const sent = this.transport.ledger.total({ dir: 'sent' }).bytes;
    const received = this.transport.ledger.total({ dir: 'received' }).bytes;
    this.stats.bytesSent = sent;
    this.stats.bytesReceived = received;
    // Everything sent is one fp32 vector per request or reply, before compression.
    const raw = (this.requests + this.averager.served) * n * 4;
    this.stats.compressionRatio = sent > 0 && raw > 0 ? raw / sent : null;
  }

  stop(): void {
    this.averager.stop();
    this.transport.close();
  }
}

function jobOptions(spec: JobSpec): { codec: { name: JobSpec['codec']['name']; fraction?: number; blockSize?: number; errorFeedback?: boolean }; topologyOptions: { seed: number }; maxStaleness?: number } {
  const { name, fraction, blockSize, errorFeedback } = spec.codec;
  return { codec: { name, fraction, blockSize, errorFeedback }, topologyOptions: { seed: spec.topology.seed }, maxStaleness: spec.algorithm.maxStaleness };
}
