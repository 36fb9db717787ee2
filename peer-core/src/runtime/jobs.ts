/**
 * Jobs on the swarm: the host publishes a signed job announcement on the gossipsub topic
 * JOBS_TOPIC; the relay verifies and persists it (relay/src/jobs.ts) and serves it at
 * `/api/jobs`, and republishes it, so late joiners get it either way.
 *
 * Envelope (the same as the web app's `SignedJob`, web/src/lib/authority.ts):
 *   { kind: 'job', payload: { jobId, spec, createdAt }, signer, signature }
 * `signer` is the base64 protobuf Ed25519 public key, `signature` base64 over
 * `swarmgrad/v1/job\n` + canonical JSON of the payload (keys sorted, no whitespace); the jobId is
 * `<signer peer id>/<hex>`, so a job names its host and nobody else can announce it.
 * `verifyJobEnvelope` also validates the spec (parseJobSpec). It never throws on network input.
 *
 * Not here: control messages (pause/stop), which the web app signs and gates itself.
 */
import { generateKeyPair, publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { parseJobSpec } from '../job/index.ts';
import type { JobSpec, JobSpecInput } from '../job/schema.ts';
import type { SwarmNode } from '../net/swarm-node.ts';
import { JOBS_TOPIC } from './constants.ts';

export interface JobAnnouncement<S = unknown> {
  jobId: string;
  spec: S;
  createdAt: number;
}

export interface JobEnvelope<S = unknown> {
  kind: 'job';
  payload: JobAnnouncement<S>;
  signer: string;
  signature: string;
}

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

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
}

function signedBytes(payload: unknown): Uint8Array {
  return new TextEncoder().encode(`swarmgrad/v1/job\n${canonicalJson(payload)}`);
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A fresh host key (Ed25519). */
export function generateHostKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519');
}

/** Sign a job announcement with the host's key; the job id is `<host peer id>/<16 hex>`. */
export async function signJob(key: PrivateKey, spec: JobSpecInput | JobSpec, createdAt = Date.now()): Promise<JobEnvelope> {
  const rnd = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
  const payload: JobAnnouncement = { jobId: `${key.publicKey.toString()}/${rnd}`, spec: JSON.parse(JSON.stringify(spec)), createdAt };
  const signature = await key.sign(signedBytes(payload));
  return { kind: 'job', payload, signer: toBase64(publicKeyToProtobuf(key.publicKey)), signature: toBase64(signature) };
}

/** Check shape, signature, job id ownership and the spec. Never throws. */
export async function verifyJobEnvelope(env: unknown): Promise<JobVerdict> {
  if (!env || typeof env !== 'object') return { ok: false, reason: 'not an object' };
  const e = env as Partial<JobEnvelope>;
  if (e.kind !== 'job') return { ok: false, reason: `expected kind 'job', got '${String(e.kind)}'` };
  if (typeof e.signer !== 'string' || typeof e.signature !== 'string') return { ok: false, reason: 'missing signer or signature' };
  const p = e.payload;
  if (!p || typeof p !== 'object' || typeof p.jobId !== 'string' || typeof p.createdAt !== 'number') return { ok: false, reason: 'payload needs jobId (string) and createdAt (number)' };
  let host: string;
  try {
    const pub = publicKeyFromProtobuf(fromBase64(e.signer));
    if (pub.type !== 'Ed25519') return { ok: false, reason: `signer key must be Ed25519, got ${pub.type}` };
    if (!(await pub.verify(signedBytes(p), fromBase64(e.signature)))) return { ok: false, reason: 'bad signature' };
    host = pub.toString();
  } catch (err) {
    return { ok: false, reason: `malformed envelope: ${(err as Error).message}` };
  }
  const slash = p.jobId.lastIndexOf('/');
  if (slash <= 0 || p.jobId.slice(0, slash) !== host) return { ok: false, reason: `job ${p.jobId} is not under its signer's peer id ${host}` };
  let spec: JobSpec;
  try {
    spec = parseJobSpec(p.spec);
  } catch (err) {
    return { ok: false, reason: `bad spec: ${(err as Error).message}` };
  }
  return { ok: true, job: { jobId: p.jobId, host, createdAt: p.createdAt, spec, envelope: e as JobEnvelope } };
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
