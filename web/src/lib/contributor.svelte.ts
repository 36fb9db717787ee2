/**
 * The volunteer's participation in a job:
 *  1. joins the swarm of the relay that served the page (WebSwarm, with the volunteer's
 *     persistent Ed25519 identity and its capability record: backend, adapter, GFLOP/s);
 *  2. waits for a host's signed job announcement, checked by a ControlGate, and follows that
 *     host's signed control messages (start / pause / resume / stop) — nothing else;
 *  3. trains the job's model in a Web Worker (LocalTrainer) under the compute limit, reports
 *     progress on the swarm, folds steps/tokens/compute time into the persisted totals, and
 *     saves its weights so a reload resumes the job where it was.
 *
 * Not done here (not in this build): averaging model updates with other volunteers; each
 * volunteer trains its own data-parallel replica of the job. The page says so.
 */
import { ControlGate, type ControlAction, type JobAnnouncement, type SignedJob } from '@swarmgrad/peer-core/job';
import { addToTotals, db, loadOrCreateKey, saveSession, type Totals, type VolunteerSession, weightsKey } from './db.ts';
import type { JobSpec } from './jobspec.ts';
import { relayAvailable, type JobsMessage, PROGRESS_TOPIC, type ProgressReport, WebSwarm } from './swarm.ts';
import { type CapabilityRecord, fnv1a32 } from '@swarmgrad/peer-core';
import type { TrainingBackend } from './backend-choice.ts';
import { ALGORITHM_LABELS, JobAveraging } from './averaging.ts';
import { LocalTrainer } from './trainer.ts';

export type ContributionState = 'idle' | 'connecting' | 'waiting' | 'loading' | 'training' | 'paused' | 'error';

export interface ContributionStatus {
  state: ContributionState;
  jobId: string | null;
  jobName: string | null;
  role: string | null;
  roleDetail: string | null;
  steps: number;
  tokensPerSecond: number | null;
  loss: number | null;
  bytesUp: number;
  bytesDown: number;
  bytesUpPerSecond: number;
  bytesDownPerSecond: number;
  peers: number | null;
  dutyCycle: number | null;
  /** Averaging with peers (AD-PSGD): averagings done, and neighbours that did not answer. */
  averaging: { algorithm: string; peers: number; mixed: number; missing: number; compressionRatio: number | null } | null;
  notice?: string;
  error?: string;
}

export interface Availability {
  ok: boolean;
  reason?: string;
  note?: string;
}

export const NO_AVERAGING_NOTICE =
  'Not connected to the swarm: this device trains its own replica of the job without averaging with other volunteers.';

/** Contributing needs a relay (the page must be served by one) and Web Workers. */
export async function contributionAvailability(): Promise<Availability> {
  if (typeof Worker === 'undefined') return { ok: false, reason: 'This browser has no Web Workers, so it cannot train.' };
  if (!(await relayAvailable())) return { ok: false, reason: 'No swarm here: this page was not served by a Swarmgrad relay, so there is no job to join.' };
  return { ok: true, note: 'Joins the swarm of this relay and the job its host is running.' };
}

export interface ContributorInit {
  computeLimit: number;
  /** Detected browser capability (WebGPU or not). */
  backend: 'webgpu' | 'wasm';
  /** The backend to train on (backend-choice.ts). */
  trainingBackend: TrainingBackend;
  adapter: string | null;
  gflops: number | null;
  /** What the GFLOP/s figure measured (e.g. "WGSL matmul 256×256×256"). */
  benchmark?: string;
  onTotals(t: Totals): void;
  onSession(s: VolunteerSession): void;
}

type HostJobState = 'running' | 'paused' | 'stopped';

export class Contributor {
  status = $state<ContributionStatus>({
    state: 'idle',
    jobId: null,
    jobName: null,
    role: null,
    roleDetail: null,
    steps: 0,
    tokensPerSecond: null,
    loss: null,
    bytesUp: 0,
    bytesDown: 0,
    bytesUpPerSecond: 0,
    bytesDownPerSecond: 0,
    peers: null,
    dutyCycle: null,
    averaging: null,
  });
  private computeLimit: number;
  private readonly init: ContributorInit;
  private swarm: WebSwarm | null = null;
  private trainer: LocalTrainer | null = null;
  private readonly gate = new ControlGate();
  private readonly jobs = new Map<string, { job: JobAnnouncement<JobSpec>; state: HostJobState | null }>();
  private wantedJob: string | null = null;
  private userPaused = false;
  private busy = 0;
  private idle = 0;
  private pendingTotals = { steps: 0, tokens: 0, computeSeconds: 0 };
  private lastFlush = 0;
  private lastSave = 0;
  private lastReport = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  private trainingBackend: TrainingBackend;
  private inbox: Promise<void> = Promise.resolve();
  private averaging: JobAveraging | null = null;
  private lastBytes = { up: 0, down: 0 };

  constructor(init: ContributorInit) {
    this.init = init;
    this.computeLimit = init.computeLimit;
    this.trainingBackend = init.trainingBackend;
  }

  /** Join the swarm; contribute to `jobId` (a job in progress before a reload) or the first running job heard. */
  async start(jobId: string | null, paused = false): Promise<void> {
    this.wantedJob = jobId;
    this.userPaused = paused;
    this.status.state = 'connecting';
    try {
      const key = await loadOrCreateKey('volunteer');
      this.swarm = await WebSwarm.connect(
        key,
        this.capabilities(),
        {
          // One at a time, in arrival order: a control message must see its job's announcement.
          onJobs: (m) => {
            this.inbox = this.inbox.then(() => this.onJobs(m)).catch(() => {});
          },
          onProgress: (p, from) => {
            if (!this.averaging || p.jobId !== this.status.jobId || p.peerId !== from) return;
            if (p.state === 'training') {
              this.averaging.link.admit(from);
              if (typeof p.round === 'number' && Number.isSafeInteger(p.round) && p.round >= 0) this.averaging.noteRound(from, p.round);
            }
            else this.averaging.link.dismiss(from);
          },
          onJoin: () => this.countPeers(),
          onLeave: () => this.countPeers(),
        },
      );
    } catch (e) {
      this.status.state = 'error';
      this.status.error = `Could not join the swarm: ${(e as Error).message}`;
      return;
    }
    if (this.stopped) return void this.swarm.stop();
    this.status.state = 'waiting';
    this.countPeers();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  private countPeers(): void {
    this.status.peers = this.swarm?.members().length ?? null;
  }

  private async onJobs(m: JobsMessage): Promise<void> {
    if (m.type === 'job') {
      const v = await this.gate.admitJob<JobSpec>(m.signed);
      if (!v.ok || this.jobs.has(v.value.jobId)) return;
      this.jobs.set(v.value.jobId, { job: v.value, state: null });
      return;
    }
    const v = await this.gate.admitControl(m.signed);
    if (!v.ok) return; // not signed by the job's host, replayed, or for a job not announced yet
    const entry = this.jobs.get(v.value.jobId);
    if (!entry) return;
    entry.state = stateAfter(v.value.action);
    await this.follow(v.value.jobId, entry.job, entry.state);
  }

  /** Apply the host's (verified) state of a job to what this volunteer does. */
  private async follow(jobId: string, job: JobAnnouncement<JobSpec>, state: HostJobState): Promise<void> {
    const current = this.status.jobId;
    if (current && current !== jobId) return; // already on another job
    if (!current) {
      if (state !== 'running') return;
      if (this.wantedJob && this.wantedJob !== jobId && this.jobs.has(this.wantedJob)) return;
      await this.join(jobId, job);
    }
    if (!this.trainer) return;
    if (state === 'stopped') {
      await this.finish('The host stopped the job.');
    } else if (state === 'paused') {
      this.trainer.pause();
      this.status.state = 'paused';
      this.status.notice = 'The host paused the job.';
    } else if (!this.userPaused) {
      this.trainer.run();
      this.status.state = 'training';
      this.status.notice = this.averaging ? undefined : NO_AVERAGING_NOTICE;
    }
  }

  private async join(jobId: string, job: JobAnnouncement<JobSpec>): Promise<void> {
    const spec = job.spec;
    this.status.jobId = jobId;
    this.status.jobName = spec.name;
    this.status.role = 'Replica';
    this.status.roleDetail = `all ${spec.model.nLayer} layers, data parallel`;
    this.status.state = 'loading';
    this.init.onSession(await saveSession({ jobId, joinedAt: Date.now() }));
    const saved = await db().weights.get(weightsKey('volunteer', jobId));
    if (this.swarm) {
      this.averaging = new JobAveraging(this.swarm.node, jobId, spec);
      this.status.averaging = { algorithm: `${ALGORITHM_LABELS[spec.algorithm.name]}, ${spec.codec.name}`, peers: 0, mixed: 0, missing: 0, compressionRatio: null };
    } else {
      this.status.notice = NO_AVERAGING_NOTICE;
    }
    const startTrainer = async (backend: TrainingBackend) => {
      const trainer = this.makeTrainer();
      this.trainer = trainer;
      await trainer.init({
        spec,
        corpusUrl: `/corpora/${spec.dataset.corpus}.txt`,
        backend,
        seed: fnv1a32(this.swarm?.peerId ?? 'volunteer'),
        params: saved?.params,
        startStep: saved?.step ?? 0,
        computeLimit: this.computeLimit,
        mixEvery: this.averaging ? spec.mixing.everySteps : undefined,
      });
    };
    try {
      await startTrainer(this.trainingBackend);
    } catch (e) {
      if (this.trainingBackend !== 'webgpu') throw e;
      // Say so, then train on the CPU path instead.
      this.trainer?.terminate();
      this.trainingBackend = 'wasm';
      this.status.notice = `WebGPU training failed (${(e as Error).message}); training on WebAssembly instead.${this.averaging ? '' : ` ${NO_AVERAGING_NOTICE}`}`;
      this.swarm?.setCapabilities(this.capabilities());
      await startTrainer('wasm');
    }
    this.status.steps = saved?.step ?? 0;
    if (this.userPaused) this.status.state = 'paused';
  }

  private makeTrainer(): LocalTrainer {
    return new LocalTrainer({
      onStep: (r) => {
        this.status.steps = r.step;
        this.status.loss = r.heldoutLoss ?? r.loss;
        this.status.tokensPerSecond = r.tokensPerSecond;
        this.busy += r.busySeconds;
        this.idle += r.idleSeconds;
        this.status.dutyCycle = this.busy / Math.max(1e-9, this.busy + this.idle);
        this.pendingTotals.steps++;
        this.pendingTotals.tokens += r.tokens;
        this.pendingTotals.computeSeconds += r.busySeconds;
      },
      onDone: (step, reason) => void this.finish(`Job finished at step ${step}: ${reason}.`),
      onMix: async (step, params) => {
        const a = this.averaging;
        if (!a) return null;
        const mixed = await a.mix(step, params);
        this.status.averaging = { ...(this.status.averaging ?? { algorithm: ALGORITHM_LABELS[a.algorithm] }), peers: a.link.peers().length, mixed: a.stats.mixed, missing: a.stats.missing, compressionRatio: a.stats.compressionRatio } as ContributionStatus['averaging'];
        return mixed;
      },
      onError: (message) => {
        this.status.state = 'error';
        this.status.error = message;
      },
    });
  }

  /** The capability record this peer publishes: its training backend and measured device. */
  private capabilities(): CapabilityRecord {
    return {
      backend: this.trainingBackend,
      adapter: this.init.adapter ? `${this.init.adapter} (WebGPU)` : 'CPU',
      gflops: this.init.gflops ?? undefined,
      benchmark: this.init.benchmark ?? undefined,
      runtime: 'browser',
    };
  }

  private async finish(notice: string): Promise<void> {
    await this.flush(true);
    this.trainer?.terminate();
    this.trainer = null;
    this.averaging?.stop();
    this.averaging = null;
    this.status.averaging = null;
    this.status.state = 'waiting';
    this.status.notice = notice;
    this.status.jobId = null;
    this.init.onSession(await saveSession({ jobId: null, joinedAt: null }));
  }

  /** Once a second: report progress, fold totals, save weights now and then, re-count peers. */
  private tick(): void {
    this.countPeers();
    const stats = this.swarm?.node.stats;
    if (stats) {
      this.status.bytesUpPerSecond = stats.bytesOut - this.status.bytesUp;
      this.status.bytesDownPerSecond = stats.bytesIn - this.status.bytesDown;
      this.status.bytesUp = stats.bytesOut;
      this.status.bytesDown = stats.bytesIn;
      const up = stats.bytesOut - this.lastBytes.up;
      const down = stats.bytesIn - this.lastBytes.down;
      this.lastBytes = { up: stats.bytesOut, down: stats.bytesIn };
      if (up > 0 || down > 0) void addToTotals({ bytesUp: up, bytesDown: down }).then((t) => this.init.onTotals(t));
    }
    void this.flush(false);
    const jobId = this.status.jobId;
    if (this.swarm && jobId && performance.now() - this.lastReport > 1000) {
      this.lastReport = performance.now();
      const state = this.status.state === 'training' || this.status.state === 'paused' || this.status.state === 'loading' ? this.status.state : 'error';
      const report: ProgressReport = {
        jobId,
        peerId: this.swarm.peerId,
        state: state === 'loading' ? 'loading' : state,
        step: this.status.steps,
        loss: this.status.loss,
        heldoutLoss: null,
        tokensPerSecond: this.status.tokensPerSecond,
        bytesUp: this.status.bytesUp,
        bytesDown: this.status.bytesDown,
        bytesUpPerSecond: this.status.bytesUpPerSecond,
        bytesDownPerSecond: this.status.bytesDownPerSecond,
        compressionRatio: this.status.averaging?.compressionRatio ?? null,
        averagings: this.status.averaging?.mixed ?? 0,
        round: this.averaging?.nextRound,
        time: Date.now(),
      };
      void this.swarm.publish(PROGRESS_TOPIC, report);
    }
  }

  private async flush(force: boolean): Promise<void> {
    const p = this.pendingTotals;
    const now = performance.now();
    if (p.steps > 0 && (force || now - this.lastFlush > 2000)) {
      this.lastFlush = now;
      this.pendingTotals = { steps: 0, tokens: 0, computeSeconds: 0 };
      this.init.onTotals(await addToTotals({ ...p }));
    }
    const jobId = this.status.jobId;
    if (this.trainer?.ready && jobId && (force || now - this.lastSave > 5000)) {
      this.lastSave = now;
      const { params, step } = await this.trainer.params();
      if (step > 0) await db().weights.put({ jobId: weightsKey('volunteer', jobId), params, step, savedAt: Date.now() });
    }
  }

  async pause(): Promise<void> {
    this.userPaused = true;
    this.trainer?.pause();
    this.init.onSession(await saveSession({ paused: true }));
    if (this.status.jobId) this.status.state = 'paused';
  }

  async resume(): Promise<void> {
    this.userPaused = false;
    this.init.onSession(await saveSession({ paused: false }));
    const jobId = this.status.jobId;
    const entry = jobId ? this.jobs.get(jobId) : undefined;
    if (entry?.state === 'running' && this.trainer) {
      this.trainer.run();
      this.status.state = 'training';
    }
  }

  setComputeLimit(share: number): void {
    this.computeLimit = share;
    this.trainer?.setLimit(share);
  }

  /** Stop and forget the job (the session no longer resumes it). */
  async leave(): Promise<void> {
    await this.detach();
    this.init.onSession(await saveSession({ jobId: null, paused: false, joinedAt: null }));
  }

  /** Stop computing and leave the swarm but keep the session (a reload resumes the job). */
  async detach(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush(true).catch(() => {});
    this.trainer?.terminate();
    this.trainer = null;
    this.averaging?.stop();
    this.averaging = null;
    await this.swarm?.stop().catch(() => {});
    this.swarm = null;
    this.status.state = 'idle';
  }

  get limit(): number {
    return this.computeLimit;
  }
}

function stateAfter(action: ControlAction): HostJobState {
  return action === 'start' || action === 'resume' ? 'running' : action === 'pause' ? 'paused' : 'stopped';
}


export type { SignedJob };
