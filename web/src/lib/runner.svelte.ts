/**
 * Runs the host's current job. Control actions are signed by the host
 * (HostController.signControl) and checked by a ControlGate exactly as a peer would check
 * them before they are applied.
 *
 * Where it trains: in a Web Worker of this tab (LocalTrainer, wasm backend), the only engine
 * in this build that needs no swarm. Its numbers are real: loss from trainStep, held-out loss
 * from evalLoss, tokens/s measured by the worker. Swarm traffic and compression charts stay
 * empty because nothing crosses a network here.
 */
import { ControlGate, type ControlAction } from './authority.ts';
import type { HostController } from './host.svelte.ts';
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
    note: 'Start trains the job in this tab (Web Worker, WebAssembly backend). Swarm training across volunteers is not wired into the dashboard in this build yet.',
  };
}

export const LOCAL_PEER_ID = 'this-tab';

export class HostRunner {
  readonly host: HostController;
  canGenerate = $state(false);
  canCheckpoint = $state(false);
  peersNote = 'No peers yet: start the job to train it in this tab.';
  planNote = 'No plan yet: the plan appears when the job starts.';
  generateNote = 'Text generation needs a model: start the job first.';
  selfId: string | null = LOCAL_PEER_ID;
  private trainer: LocalTrainer | null = null;
  private trainerJob: string | null = null;
  private readonly gate = new ControlGate();
  private lastSave = 0;

  constructor(host: HostController) {
    this.host = host;
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
          this.host.record({ step: r.step, trainLoss: r.loss, heldoutLoss: r.heldoutLoss, tokensPerSecond: r.tokensPerSecond });
          this.host.updateLocalPeer({ bytesUp: 0, bytesDown: 0, state: 'training' });
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
      this.host.log('info', resume ? `Loading the model from step ${resume.step} (saved in this browser)…` : 'Loading corpus and model in a Web Worker…');
      const ready = await trainer.init({
        spec,
        corpusUrl: `/corpora/${spec.dataset.corpus}.txt`,
        backend: 'wasm',
        seed: 1234,
        params: resume?.params,
        startStep: resume?.step ?? 0,
        computeLimit: 1,
      });
      this.host.log(
        'info',
        `Model ready: ${ready.numParams.toLocaleString('en-US')} parameters, ${ready.tokenizer} tokenizer (vocab ${ready.vocabSize}), ${ready.trainTokens.toLocaleString('en-US')} training tokens; unigram baseline ${ready.unigramLoss.toFixed(3)} nats`,
      );
      this.host.setLocalPlan(spec.model.nLayer);
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
    void this.save();
    this.trainer?.terminate();
    this.trainer = null;
  }
}
