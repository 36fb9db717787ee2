/**
 * Runs the host's current job. Control actions are signed by the host
 * (HostController.signControl) and checked by a ControlGate exactly as a peer would check
 * them before they are applied.
 *
 * Where it trains: in a Web Worker of this tab (LocalTrainer, wasm backend). Its numbers are
 * real: loss from trainStep, held-out loss from evalLoss, tokens/s measured by the worker.
 * When the page was served by a relay, the host also joins the swarm (WebSwarm): it publishes
 * the signed job and its latest signed control message every few seconds (late joiners get
 * them), and volunteers' progress reports fill the peers table, the plan (each volunteer is a
 * data-parallel replica), the swarm-wide tokens/s and the volunteers' averaging traffic and
 * compression (they average with each other when the job uses AD-PSGD; this tab does not).
 */
import { ControlGate, type ControlAction } from '@swarmgrad/peer-core/job';
import { detectCapabilities } from '../capabilities.ts';
import { backendOverride, chooseTrainingBackend } from './backend-choice.ts';
import { shortId } from './format.ts';
import type { HostController, PeerRow } from './host.svelte.ts';
import { JOBS_TOPIC, type ProgressReport, relayAvailable, WebSwarm } from './swarm.ts';
import type { JobSpec } from './jobspec.ts';
import { LocalTrainer } from './trainer.ts';

export interface RunnerAvailability {
  ok: boolean;
  reason?: string;
  note?: string;
}

export function runnerAvailability(): RunnerAvailability {
  if (typeof Worker === 'undefined') return { ok: false, reason: 'This browser has no Web Workers, so it cannot train here.' };
  return {
    ok: true,
    note: 'Start trains the job in this tab and publishes it, signed, to volunteers on this relay. Volunteers average their models with each other when the job uses AD-PSGD; this tab trains its own replica.',
  };
}

export const LOCAL_PEER_ID = 'this-tab';

export class HostRunner {
  readonly host: HostController;
  canGenerate = $state(false);
  canCheckpoint = $state(false);
  peersNote = 'No peers yet: start the job to train it in this tab; volunteers on this relay join it.';
  planNote = 'No plan yet: the plan appears when the job starts.';
  generateNote = 'Text generation needs a model: start the job first.';
  selfId: string | null = LOCAL_PEER_ID;
  private trainer: LocalTrainer | null = null;
  private trainerJob: string | null = null;
  private readonly gate = new ControlGate();
  private lastSave = 0;
  swarm: WebSwarm | null = null;
  swarmState = $state<'none' | 'connecting' | 'connected' | 'failed'>('none');
  private readonly reports = new Map<string, ProgressReport>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private planKey = '';

  constructor(host: HostController) {
    this.host = host;
  }

  /** Join the swarm of the relay that served the page, if it was served by one. */
  async connectSwarm(): Promise<void> {
    if (!this.host.key || this.swarm || !(await relayAvailable())) return;
    this.swarmState = 'connecting';
    try {
      this.swarm = await WebSwarm.connect(
        this.host.key,
        { backend: backendOverride() ?? chooseTrainingBackend(await detectCapabilities()).backend, runtime: 'browser', role: 'host' },
        {
          onProgress: (p, from) => this.onProgress(p, from),
          onLeave: (id) => {
            this.reports.delete(id);
            this.host.removePeer(id, 'no heartbeat');
            this.replan();
          },
        },
      );
      this.swarmState = 'connected';
      this.host.log('info', `Joined the swarm as ${this.swarm.peerId}`);
      this.timer = setInterval(() => void this.announce(), 3000);
    } catch (e) {
      this.swarmState = 'failed';
      this.host.log('error', `Could not join the swarm: ${(e as Error).message}`);
    }
  }

  /** Publish the current job and its latest control message (for late joiners). */
  private async announce(): Promise<void> {
    const job = this.host.job;
    const swarm = this.swarm;
    if (!swarm || !job || job.state === 'created') return;
    await swarm.publish(JOBS_TOPIC, { type: 'job', signed: $state.snapshot(job.signed) });
    const ctl = this.host.lastControl;
    if (ctl && ctl.payload.jobId === job.jobId) await swarm.publish(JOBS_TOPIC, { type: 'control', signed: $state.snapshot(ctl) });
  }

  private onProgress(p: ProgressReport, from: string): void {
    if (p.jobId !== this.host.job?.jobId || p.peerId !== from) return;
    this.reports.set(from, p);
    const caps = this.swarm?.members().find((m) => m.peerId === from)?.capabilities;
    const row: PeerRow = {
      id: from,
      label: shortId(from, 10, 4),
      backend: String(caps?.backend ?? '?'),
      adapter: String(caps?.adapter ?? ''),
      gflops: typeof caps?.gflops === 'number' ? caps.gflops : null,
      rttMs: null,
      bytesUp: p.bytesUp,
      bytesDown: p.bytesDown,
      state: p.state,
      step: p.step,
      loss: p.loss,
    };
    this.host.upsertPeer(row);
    this.replan();
  }

  /** Data-parallel plan: every training peer is one full replica (stage 1 = all layers). */
  private replan(): void {
    const job = this.host.job;
    if (!job) return;
    const ids = this.host.peers.filter((p) => p.state === 'training' || p.state === 'paused').map((p) => p.id);
    const key = ids.join(',');
    if (!ids.length || key === this.planKey) return;
    this.planKey = key;
    const nLayer = this.spec().model.nLayer;
    this.host.plan = { method: 'data parallel: each peer trains a full replica', stages: 1, replicas: ids.length, layerRanges: [[0, nLayer]], assignmentIds: [ids], predictedSeconds: null };
    this.host.log('replan', `Plan: ${ids.length} replica${ids.length === 1 ? '' : 's'} × 1 stage (layers 0–${nLayer - 1})`);
  }

  /** Tokens/s and averaging traffic of the volunteers that reported in the last 5 s. */
  private swarmRates(): { tokensPerSecond: number; up: number | null; down: number | null; ratio: number | null } {
    const now = Date.now();
    let tps = 0;
    let up: number | null = null;
    let down: number | null = null;
    let ratioSum = 0;
    let ratioN = 0;
    for (const r of this.reports.values()) {
      if (now - r.time >= 5000) continue;
      if (r.state === 'training' && r.tokensPerSecond) tps += r.tokensPerSecond;
      if (r.bytesUpPerSecond !== undefined) up = (up ?? 0) + r.bytesUpPerSecond;
      if (r.bytesDownPerSecond !== undefined) down = (down ?? 0) + r.bytesDownPerSecond;
      if (r.compressionRatio) {
        ratioSum += r.compressionRatio;
        ratioN++;
      }
    }
    return { tokensPerSecond: tps, up, down, ratio: ratioN ? ratioSum / ratioN : null };
  }

  /** Sign the action, pass it through the gate like any peer, then apply it. */
  async control(action: ControlAction): Promise<void> {
    const job = this.host.job;
    if (!job) throw new Error('no job');
    const signed = await this.host.signControl(action);
    const admittedJob = await this.gate.admitJob($state.snapshot(job.signed));
    if (!admittedJob.ok) throw new Error(`job announcement rejected: ${admittedJob.reason}`);
    const v = await this.gate.admitControl(signed);
    if (!v.ok) throw new Error(`control message rejected: ${v.reason}`);
    if (action === 'start' || action === 'resume') await this.run();
    else if (action === 'pause') this.trainer?.pause();
    else await this.stop(false);
    await this.announce();
  }

  private spec(): JobSpec {
    const job = this.host.job;
    if (!job) throw new Error('no job');
    return ($state.snapshot(job.signed) as { payload: { spec: JobSpec } }).payload.spec;
  }

  private async run(): Promise<void> {
    const job = this.host.job;
    if (!job) return;
    if (!this.trainer || this.trainerJob !== job.jobId) {
      this.trainer?.terminate();
      const spec = this.spec();
      const resume = await this.host.loadWeights(job.jobId);
      const trainer = new LocalTrainer({
        onStep: (r) => {
          const sw = this.swarmRates();
          this.host.record({
            step: r.step,
            trainLoss: r.loss,
            heldoutLoss: r.heldoutLoss,
            tokensPerSecond: r.tokensPerSecond + sw.tokensPerSecond,
            bytesUpPerSecond: sw.up,
            bytesDownPerSecond: sw.down,
            compressionRatio: sw.ratio,
          });
          this.host.updateLocalPeer({ state: 'training', step: r.step, loss: r.loss });
          if (r.heldoutLoss !== null && (r.step === 1 || r.step % 250 === 0)) this.host.log('info', `step ${r.step}: held-out loss ${r.heldoutLoss.toFixed(3)}`);
          if (performance.now() - this.lastSave > 5000) {
            this.lastSave = performance.now();
            void this.save();
          }
        },
        onDone: (step, reason) => {
          this.host.log('job', `Finished at step ${step}: ${reason}`);
          void this.save();
        },
        onError: (message) => this.host.log('error', message),
      });
      this.trainer = trainer;
      this.trainerJob = job.jobId;
      const choice = chooseTrainingBackend(await detectCapabilities());
      const backend = backendOverride() ?? choice.backend;
      this.host.updateLocalPeer({ backend, state: 'loading' });
      this.host.log('info', `Training backend: ${backend} (${backendOverride() ? 'set by ?backend=' : choice.why})`);
      this.host.log('info', resume ? `Loading the model from step ${resume.step} (saved in this browser)…` : 'Loading corpus and model in a Web Worker…');
      const ready = await trainer.init({
        spec,
        corpusUrl: `/corpora/${spec.dataset.corpus}.txt`,
        backend,
        seed: 1234,
        params: resume?.params,
        startStep: resume?.step ?? 0,
        computeLimit: 1,
      });
      this.host.log(
        'info',
        `Model ready: ${ready.numParams.toLocaleString('en-US')} parameters, ${ready.tokenizer} tokenizer (vocab ${ready.vocabSize}), ${ready.trainTokens.toLocaleString('en-US')} training tokens; unigram baseline ${ready.unigramLoss.toFixed(3)} nats`,
      );
      this.planKey = '';
      this.host.updateLocalPeer({ state: 'training', step: resume?.step ?? 0 });
      this.replan();
      this.canGenerate = true;
      this.canCheckpoint = true;
    }
    this.trainer.run();
    this.host.updateLocalPeer({ state: 'training' });
  }

  private async save(): Promise<void> {
    const job = this.host.job;
    if (!this.trainer || !job || this.trainerJob !== job.jobId) return;
    const { params, step } = await this.trainer.params();
    await this.host.saveWeights(job.jobId, params, step);
  }

  /** Stop training (optionally keeping nothing running) and release the worker. */
  async stop(_signal: boolean): Promise<void> {
    if (this.trainer) {
      await this.save().catch(() => {});
      this.trainer.terminate();
      this.trainer = null;
      this.trainerJob = null;
      this.host.updateLocalPeer({ state: 'stopped' });
    }
    this.canGenerate = false;
    this.canCheckpoint = false;
  }

  async checkpoint(): Promise<{ bytes: Uint8Array; name: string }> {
    if (!this.trainer) throw new Error('No model loaded: start the job first.');
    const job = this.host.job;
    const { bytes, step } = await this.trainer.checkpoint({ swarmgrad_job: job?.jobId ?? '' });
    const name = `${this.spec().name}-step${step}.safetensors`;
    return { bytes, name };
  }

  async generate(prompt: string, n: number): Promise<string> {
    if (!this.trainer) throw new Error(this.generateNote);
    return this.trainer.generate(prompt, n);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    void this.swarm?.stop();
    void this.save();
    this.trainer?.terminate();
    this.trainer = null;
  }
}
