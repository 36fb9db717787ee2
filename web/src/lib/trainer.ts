/**
 * Page-side handle on the training worker (train.worker.ts): start it with a job, run, pause,
 * change the compute limit, and ask it for samples, a checkpoint or its parameters.
 */
import type { FromWorker, StepReport, ToWorker, TrainerInit } from './trainer-protocol.ts';

export type ReadyInfo = Extract<FromWorker, { type: 'ready' }>;

export interface LocalTrainerEvents {
  onStep(r: StepReport): void;
  onDone?(step: number, reason: string): void;
  onError(message: string): void;
  /** Average `params` (after local step `step`) with peers; return the result (null: keep them). */
  onMix?(step: number, params: Float32Array): Promise<Float32Array | null>;
}

export class LocalTrainer {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(m: Extract<FromWorker, { type: 'result' }>): void; reject(e: Error): void }>();
  private readyWaiter: { resolve(r: ReadyInfo): void; reject(e: Error): void } | null = null;
  ready: ReadyInfo | null = null;

  constructor(private readonly events: LocalTrainerEvents) {
    this.worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'swarmgrad-trainer' });
    this.worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.receive(ev.data));
    this.worker.addEventListener('error', (ev) => {
      const msg = `training worker crashed: ${ev.message || 'unknown error'}`;
      this.readyWaiter?.reject(new Error(msg));
      this.events.onError(msg);
    });
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.ready = m;
        this.readyWaiter?.resolve(m);
        this.readyWaiter = null;
        return;
      case 'step':
        this.events.onStep(m.report);
        return;
      case 'done':
        this.events.onDone?.(m.step, m.reason);
        return;
      case 'mix-out': {
        const { step, params } = m;
        const mix = this.events.onMix ? this.events.onMix(step, params) : Promise.resolve(null);
        void mix
          .catch(() => null)
          .then((mixed) => {
            const out = mixed ?? params;
            this.worker.postMessage({ type: 'mix-in', step, params: out } satisfies ToWorker, [out.buffer]);
          });
        return;
      }
      case 'result':
        this.pending.get(m.id)?.resolve(m);
        this.pending.delete(m.id);
        return;
      case 'failed':
        this.pending.get(m.id)?.reject(new Error(m.message));
        this.pending.delete(m.id);
        return;
      case 'error':
        if (this.readyWaiter) {
          this.readyWaiter.reject(new Error(m.message));
          this.readyWaiter = null;
        }
        this.events.onError(m.message);
        return;
    }
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private request(m: ToWorker & { id: number }): Promise<Extract<FromWorker, { type: 'result' }>> {
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      this.send(m);
    });
  }

  init(init: TrainerInit): Promise<ReadyInfo> {
    return new Promise((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
      this.send({ type: 'init', init });
    });
  }

  run(): void {
    this.send({ type: 'run' });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  setLimit(share: number): void {
    this.send({ type: 'limit', share });
  }

  async generate(prompt: string, maxNewTokens: number, seed = Date.now() >>> 0): Promise<string> {
    return (await this.request({ type: 'generate', id: this.nextId++, prompt, maxNewTokens, seed })).text ?? '';
  }

  async checkpoint(metadata: Record<string, string> = {}): Promise<{ bytes: Uint8Array; step: number }> {
    const r = await this.request({ type: 'checkpoint', id: this.nextId++, metadata });
    return { bytes: r.bytes ?? new Uint8Array(), step: r.step ?? 0 };
  }

  async params(): Promise<{ params: Float32Array; step: number }> {
    const r = await this.request({ type: 'params', id: this.nextId++ });
    return { params: r.params ?? new Float32Array(), step: r.step ?? 0 };
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('trainer terminated'));
    this.pending.clear();
  }
}
