/**
 * The relay's job store: hosts publish signed job announcements on the gossipsub topic
 * `swarmgrad/jobs/1` (peer-core runtime/jobs.ts); the relay verifies each one (signature, job id
 * under the signer's peer id, spec valid), persists it in `<dataDir>/jobs.json` and republishes
 * the stored ones periodically, so late joiners get them from gossipsub or from HTTP:
 *   GET  /api/jobs        → { jobs: JobEnvelope[] } (newest first)
 *   GET  /api/jobs/<id>   → the envelope (id URL-encoded), 404 if unknown
 *   POST /api/jobs        → store + publish a signed envelope (JSON body, ≤ 64 KiB); 400 with the
 *                           reason when it does not verify.
 * Never throws on network input: bad announcements are counted (`rejected`) and dropped.
 *
 * What it is not: a scheduler or a control channel (pause/stop are signed control messages the
 * peers gate themselves), and not a store of training data or checkpoints.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { runtime } from '@swarmgrad/peer-core';

type JobEnvelope = runtime.JobEnvelope;

export const JOBS_FILE = 'jobs.json';
export const JOB_STORE_DEFAULTS = {
  /** Republish stored jobs this often (ms), so peers that subscribed late hear them. */
  republishMs: 10_000,
  /** Jobs kept; the oldest (by createdAt) are dropped beyond this. */
  maxJobs: 256,
} as const;

interface Pubsub {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, data: Uint8Array): Promise<unknown>;
  addEventListener(type: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void): void;
  removeEventListener(type: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void): void;
}

export interface JobStoreInit {
  dataDir: string;
  /** The relay's gossipsub service (omit for a store without networking, e.g. in tests). */
  pubsub?: unknown;
  republishMs?: number;
  maxJobs?: number;
}

export class JobStore {
  private readonly file: string;
  private readonly jobs = new Map<string, JobEnvelope>();
  private readonly pubsub: Pubsub | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly listener: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void;
  rejected = 0;
  lastRejection: string | undefined;

  constructor(private readonly init: JobStoreInit) {
    this.file = join(resolve(init.dataDir), JOBS_FILE);
    this.pubsub = init.pubsub as Pubsub | undefined;
    this.listener = (e) => {
      if (e.detail.topic === runtime.JOBS_TOPIC) void this.fromNetwork(e.detail.data);
    };
  }

  /** Load persisted jobs, subscribe to the topic, start republishing. */
  async start(): Promise<void> {
    if (existsSync(this.file)) {
      try {
        const j = JSON.parse(readFileSync(this.file, 'utf8')) as { jobs?: unknown[] };
        for (const env of j.jobs ?? []) {
          const v = await runtime.verifyJobEnvelope(env);
          if (v.ok) this.jobs.set(v.job.jobId, v.job.envelope);
          else this.reject(`persisted job dropped: ${v.reason}`);
        }
      } catch (e) {
        this.reject(`${JOBS_FILE} unreadable: ${(e as Error).message}`);
      }
    }
    if (this.pubsub) {
      this.pubsub.subscribe(runtime.JOBS_TOPIC);
      this.pubsub.addEventListener('message', this.listener);
      this.timer = setInterval(() => this.republish(), this.init.republishMs ?? JOB_STORE_DEFAULTS.republishMs);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.pubsub) {
      try {
        this.pubsub.removeEventListener('message', this.listener);
        this.pubsub.unsubscribe(runtime.JOBS_TOPIC);
      } catch {
        // node already stopped
      }
    }
  }

  /** Stored envelopes, newest first. */
  list(): JobEnvelope[] {
    return [...this.jobs.values()].sort((a, b) => b.payload.createdAt - a.payload.createdAt);
  }

  get(jobId: string): JobEnvelope | undefined {
    return this.jobs.get(jobId);
  }

  /** Verify, store, persist and publish an envelope. */
  async add(env: unknown, opts: { publish?: boolean } = {}): Promise<runtime.JobVerdict> {
    const v = await runtime.verifyJobEnvelope(env);
    if (!v.ok) {
      this.reject(v.reason);
      return v;
    }
    const isNew = !this.jobs.has(v.job.jobId);
    if (isNew) {
      this.jobs.set(v.job.jobId, v.job.envelope);
      this.trim();
      this.persist();
    }
    if (isNew && opts.publish !== false) this.publish(v.job.envelope);
    return v;
  }

  /** HTTP routes under /api/jobs; returns false for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname !== '/api/jobs' && !url.pathname.startsWith('/api/jobs/')) return false;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/jobs') {
      if (req.method === 'GET' || req.method === 'HEAD') {
        json(200, { jobs: this.list() });
        return true;
      }
      if (req.method !== 'POST') {
        json(405, { error: 'MethodNotAllowed' });
        return true;
      }
      let body: string;
      try {
        body = await readBody(req, runtime.MAX_JOB_ENVELOPE_BYTES);
      } catch (e) {
        json(413, { error: 'PayloadTooLarge', message: (e as Error).message });
        return true;
      }
      let env: unknown;
      try {
        env = JSON.parse(body);
      } catch {
        json(400, { error: 'BadJson' });
        return true;
      }
      const v = await this.add(env);
      if (!v.ok) json(400, { error: 'BadJobAnnouncement', reason: v.reason });
      else json(201, { jobId: v.job.jobId });
      return true;
    }
    let id: string;
    try {
      id = decodeURIComponent(url.pathname.slice('/api/jobs/'.length));
    } catch {
      json(400, { error: 'BadPath' });
      return true;
    }
    const env = this.jobs.get(id);
    if (!env) json(404, { error: 'NotFound', jobId: id });
    else json(200, env);
    return true;
  }

  private async fromNetwork(data: Uint8Array): Promise<void> {
    const v = await runtime.decodeJobMessage(data);
    if (!v.ok) {
      this.reject(v.reason);
      return;
    }
    await this.add(v.job.envelope, { publish: false });
  }

  private reject(reason: string): void {
    this.rejected++;
    this.lastRejection = reason;
  }

  private trim(): void {
    const max = this.init.maxJobs ?? JOB_STORE_DEFAULTS.maxJobs;
    const all = this.list();
    for (const env of all.slice(max)) this.jobs.delete(env.payload.jobId);
  }

  private persist(): void {
    mkdirSync(resolve(this.init.dataDir), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: 1, jobs: this.list() }));
    renameSync(tmp, this.file);
  }

  private publish(env: JobEnvelope): void {
    this.pubsub?.publish(runtime.JOBS_TOPIC, new TextEncoder().encode(JSON.stringify(env))).catch(() => {
      // no subscribers yet: the periodic republish sends it again
    });
  }

  private republish(): void {
    for (const env of this.jobs.values()) this.publish(env);
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let n = 0;
    // Past the limit keep draining (and dropping) so the 413 answer reaches the client.
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= max) chunks.push(c);
    });
    req.on('end', () => (n > max ? fail(new Error(`body exceeds ${max} bytes`)) : ok(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', fail);
  });
}
