/**
 * Jobs on the swarm: the host publishes a signed job announcement on the gossipsub topic
 * JOBS_TOPIC; the relay verifies and persists it (relay/src/jobs.ts) and serves it at
 * `/api/jobs`, and republishes it, so late joiners get it either way.
 *
 * The envelope, its signature and the job-id ownership rule are job/authority.ts's
 * `SignedJob` (shared with the web app); `verifyJobEnvelope` adds spec validation
 * (parseJobSpec). Nothing here throws on network input.
 *
 * Not here: control messages (pause/stop): job/authority.ts signs them and its ControlGate
 * admits them.
 */
import type { PrivateKey } from '@libp2p/interface';
import { type JobAnnouncement, type SignedJob, signJob as signJobAnnouncement, verifyJob } from '../job/authority.ts';
import { parseJobSpec } from '../job/index.ts';
import type { JobSpec, JobSpecInput } from '../job/schema.ts';
import type { SwarmNode } from '../net/swarm-node.ts';
import { JOBS_TOPIC } from './constants.ts';

export { generateHostKey, type JobAnnouncement } from '../job/authority.ts';

/** A signed job announcement (job/authority.ts `SignedJob`). */
export type JobEnvelope<S = unknown> = SignedJob<S>;

/** A verified job: its announcement with the spec validated and defaults filled in. */
export interface VerifiedJob {
  jobId: string;
  host: string;
  createdAt: number;
  spec: JobSpec;
  envelope: JobEnvelope;
}

export type JobVerdict = { ok: true; job: VerifiedJob } | { ok: false; reason: string };

/** Largest announcement accepted from the network (bytes of JSON). */
export const MAX_JOB_ENVELOPE_BYTES = 64 * 1024;

/** Sign a job announcement with the host's key; the job id is `<host peer id>/<16 hex>`. */
export async function signJob(key: PrivateKey, spec: JobSpecInput | JobSpec, createdAt = Date.now()): Promise<JobEnvelope> {
  return signJobAnnouncement(key, JSON.parse(JSON.stringify(spec)), createdAt);
}

/** Check shape, signature, job id ownership (job/authority.ts) and the spec. Never throws. */
export async function verifyJobEnvelope(env: unknown): Promise<JobVerdict> {
  const v = await verifyJob(env);
  if (!v.ok) return v;
  const p: JobAnnouncement = v.value;
  if (typeof p.createdAt !== 'number') return { ok: false, reason: 'payload needs createdAt (number)' };
  let spec: JobSpec;
  try {
    spec = parseJobSpec(p.spec);
  } catch (err) {
    return { ok: false, reason: `bad spec: ${(err as Error).message}` };
  }
  return { ok: true, job: { jobId: p.jobId, host: v.host, createdAt: p.createdAt, spec, envelope: env as JobEnvelope } };
}

/** Parse and verify announcement bytes from the network. Never throws. */
export async function decodeJobMessage(data: Uint8Array): Promise<JobVerdict> {
  if (data.byteLength > MAX_JOB_ENVELOPE_BYTES) return { ok: false, reason: `announcement is ${data.byteLength} bytes, at most ${MAX_JOB_ENVELOPE_BYTES}` };
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return verifyJobEnvelope(v);
}

type Pubsub = {
  subscribe(topic: string): void;
  publish(topic: string, data: Uint8Array): Promise<unknown>;
  addEventListener(type: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void): void;
  removeEventListener(type: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void): void;
};

/** Publish a signed job on the swarm (through `node`'s gossipsub). */
export async function publishJob(node: SwarmNode, env: JobEnvelope): Promise<void> {
  const ps = node.libp2p.services.pubsub as unknown as Pubsub;
  await ps.publish(JOBS_TOPIC, new TextEncoder().encode(JSON.stringify(env)));
}

/**
 * The jobs a peer has heard of on the swarm (verified), plus those fetched from the relay's
 * `/api/jobs` (`fetchJobs`). Calls `onJob` once per new job.
 */
export class JobBoard {
  readonly jobs = new Map<string, VerifiedJob>();
  rejected = 0;
  private readonly listener: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void;

  constructor(
    private readonly node: SwarmNode,
    private readonly onJob?: (job: VerifiedJob) => void,
  ) {
    const ps = node.libp2p.services.pubsub as unknown as Pubsub;
    this.listener = (e) => {
      if (e.detail.topic === JOBS_TOPIC) void this.accept(e.detail.data);
    };
    ps.subscribe(JOBS_TOPIC);
    ps.addEventListener('message', this.listener);
  }

  private async accept(data: Uint8Array): Promise<void> {
    const v = await decodeJobMessage(data);
    if (!v.ok) {
      this.rejected++;
      return;
    }
    this.add(v.job);
  }

  private add(job: VerifiedJob): void {
    if (this.jobs.has(job.jobId)) return;
    this.jobs.set(job.jobId, job);
    this.onJob?.(job);
  }

  /** Fetch the relay's persisted jobs (`GET <relay>/api/jobs`) and verify each. */
  async fetchJobs(relayHttpUrl: string): Promise<VerifiedJob[]> {
    const r = await fetch(new URL('/api/jobs', relayHttpUrl));
    if (!r.ok) return [];
    const j = (await r.json()) as { jobs?: unknown[] };
    for (const env of j.jobs ?? []) {
      const v = await verifyJobEnvelope(env);
      if (v.ok) this.add(v.job);
      else this.rejected++;
    }
    return [...this.jobs.values()];
  }

  close(): void {
    try {
      (this.node.libp2p.services.pubsub as unknown as Pubsub).removeEventListener('message', this.listener);
    } catch {
      // node already stopped
    }
  }
}
