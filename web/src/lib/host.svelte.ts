/**
 * The host dashboard's state: the host's signing key (IndexedDB), the current job (a signed
 * announcement), its control messages (signed, numbered), live metrics, peers, plan and the
 * event log. Training runs where the build can run it (see `trainingAvailability`): locally
 * in a Web Worker, or over the swarm. Nothing is simulated.
 */
import { type ControlAction, type HostKey, peerIdOf, type SignedControl, type SignedJob, signControl, signJob } from '@swarmgrad/peer-core/job';
import { db, type HostJobRow, type JobState, loadOrCreateKey, type WeightsRow, weightsKey } from './db.ts';
import { type LogEvent, pushEvent, type EventKind } from './events.ts';
import { appendPoint, type Columns, emptyColumns, type MetricPoint } from './history.ts';

export interface PeerRow {
  id: string;
  label: string;
  backend: string;
  adapter: string;
  gflops: number | null;
  rttMs: number | null;
  bytesUp: number;
  bytesDown: number;
  state: string;
  /** The peer's own training step and latest loss (volunteer progress reports). */
  step: number | null;
  loss: number | null;
}

export interface PlanView {
  method: string;
  stages: number;
  replicas: number;
  layerRanges: Array<[number, number]>;
  /** [stage][replica] peer id */
  assignmentIds: string[][];
  predictedSeconds: number | null;
}

export interface HostDriver {
  /** Apply a verified control action. */
  control(action: ControlAction, signed: SignedControl): Promise<void>;
  dispose(): void;
}

export class HostController {
  key: HostKey | null = null;
  peerId = $state<string | null>(null);
  job = $state<HostJobRow | null>(null);
  columns = $state.raw<Columns>(emptyColumns());
  peers = $state<PeerRow[]>([]);
  plan = $state<PlanView | null>(null);
  events = $state<LogEvent[]>([]);
  step = $state(0);
  lastControl = $state<SignedControl | null>(null);

  async load(): Promise<void> {
    const existed = (await db().keys.get('host')) !== undefined;
    this.key = await loadOrCreateKey('host');
    this.peerId = peerIdOf(this.key);
    this.log('info', existed ? `Host identity loaded from this browser: ${this.peerId}` : `Created host identity ${this.peerId} (Ed25519, kept in this browser)`);
    const last = await db().jobs.orderBy('createdAt').last();
    if (last) {
      // A page reload stops local training; the job is kept, paused, to be resumed.
      const state: JobState = last.state === 'running' ? 'paused' : last.state;
      this.job = { ...last, state };
      this.log('job', `Loaded job ${last.jobId} (${state})`);
    }
  }

  log(kind: EventKind, text: string): void {
    this.events = pushEvent(this.events, kind, text);
  }

  /** Sign and store a new job; it becomes the current job (state "created"). */
  async createJob<S>(spec: S): Promise<SignedJob<S>> {
    if (!this.key) throw new Error('host key not loaded');
    const signed = await signJob(this.key, spec);
    const now = Date.now();
    const row: HostJobRow = { jobId: signed.payload.jobId, signed, state: 'created', seq: 0, createdAt: now, updatedAt: now, step: 0, loss: null };
    await db().jobs.put(row);
    this.job = row;
    this.columns = emptyColumns();
    this.step = 0;
    this.plan = null;
    this.log('job', `Created and signed job ${row.jobId}`);
    return signed;
  }

  /** Sign a control message for the current job and record the new state. */
  async signControl(action: ControlAction): Promise<SignedControl> {
    if (!this.key || !this.job) throw new Error('no current job');
    const seq = this.job.seq + 1;
    const signed = await signControl(this.key, this.job.jobId, action, seq);
    const state: JobState = action === 'start' || action === 'resume' ? 'running' : action === 'pause' ? 'paused' : 'stopped';
    const row = { ...$state.snapshot(this.job), seq, state, updatedAt: Date.now() } as HostJobRow;
    await db().jobs.put(row);
    this.job = row;
    this.lastControl = signed;
    this.log('control', `${action} (seq ${seq}) signed by host`);
    return signed;
  }

  private pending: MetricPoint[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  /** Queue a point; the charts take queued points at most every 200 ms (a step can take 1 ms). */
  record(p: MetricPoint): void {
    this.pending.push(p);
    this.flushTimer ??= setTimeout(() => this.flush(), 200);
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pending.length) return;
    let cols = this.columns;
    for (const p of this.pending) cols = appendPoint(cols, p);
    this.step = this.pending[this.pending.length - 1]!.step;
    this.pending = [];
    this.columns = cols;
  }

  /** The local trainer's row in the peers table. */
  updateLocalPeer(patch: Partial<PeerRow>): void {
    const base: PeerRow = this.peers.find((p) => p.id === 'this-tab') ?? {
      id: 'this-tab',
      label: 'this tab (host)',
      backend: 'wasm',
      adapter: patch.backend === 'webgpu' ? 'GPU (WebGPU)' : `CPU, ${globalThis.navigator?.hardwareConcurrency ?? '?'} threads`,
      gflops: null,
      rttMs: null,
      bytesUp: 0,
      bytesDown: 0,
      state: 'starting',
      step: null,
      loss: null,
    };
    const next = { ...base, ...patch };
    const others = this.peers.filter((p) => p.id !== 'this-tab');
    if (!this.peers.some((p) => p.id === 'this-tab')) this.log('join', `${next.label} joined (${next.backend})`);
    const now = Date.now();
    if (base.state !== next.state || others.length !== this.peers.length - 1 || now - this.localPeerAt > 1000) {
      this.localPeerAt = now;
      this.peers = [next, ...others];
    }
  }

  private localPeerAt = 0;

  /** Insert or update a swarm peer's row; logs its first appearance as a join. */
  upsertPeer(row: PeerRow): void {
    const i = this.peers.findIndex((p) => p.id === row.id);
    if (i < 0) {
      this.peers = [...this.peers, row];
      this.log('join', `${row.label} joined (${row.backend}${row.adapter ? `, ${row.adapter}` : ''})`);
    } else {
      const next = this.peers.slice();
      next[i] = row;
      this.peers = next;
    }
  }

  removePeer(id: string, why: string): void {
    const p = this.peers.find((x) => x.id === id);
    if (!p) return;
    this.peers = this.peers.filter((x) => x.id !== id);
    this.log('leave', `${p.label} left (${why})`);
  }

  async saveWeights(jobId: string, params: Float32Array, step: number): Promise<void> {
    await db().weights.put({ jobId: weightsKey('host', jobId), params, step, savedAt: Date.now() });
    if (this.job?.jobId === jobId) {
      const row = { ...$state.snapshot(this.job), step, updatedAt: Date.now() } as HostJobRow;
      this.job = row;
      await db().jobs.put(row);
    }
  }

  async loadWeights(jobId: string): Promise<WeightsRow | undefined> {
    return db().weights.get(weightsKey('host', jobId));
  }

  async persistProgress(loss: number | null): Promise<void> {
    if (!this.job) return;
    const row = { ...$state.snapshot(this.job), step: this.step, loss, updatedAt: Date.now() } as HostJobRow;
    this.job = row;
    await db().jobs.put(row);
  }
}
