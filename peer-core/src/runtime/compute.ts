/**
 * Local compute of a PeerRuntime: the model, its optimizer and the backend that runs them, behind
 * one small interface, so the training loop can run them on its own thread (InlineCompute) or in
 * a Web Worker (WorkerCompute + serveCompute), leaving the thread that holds the network free.
 *
 * Why a worker: in a browser the WebRTC connections (SwarmNode, the gossip responder, model
 * pulls) live on the page's main thread. A wasm or cpu step blocks that thread for its whole
 * computation, so a neighbour's AD-PSGD request or a gossip message waits until the step ends;
 * with the step in a worker they are answered while it computes (Lian et al. 2018's parallel
 * gradient and averaging). The web app's volunteer page trains in a worker for the same reason.
 *
 * The parameters stay with the caller (the runtime's host vector x): every call passes them in,
 * a step returns the new ones. The optimizer state (momentum, Adam moments) lives with the
 * compute. Messages are plain structured-clone objects; parameter vectors are transferred.
 *
 * Not here: the training loop (runtime.ts), data sampling (data.ts), the mixing (gossip/).
 */
import type { Backend } from '../backend/types.ts';
import type { JobSpec } from '../job/schema.ts';
import { GPT } from '../model/gpt.ts';
import { AdamW, type Optimizer, SgdMomentum } from '../train/optimizer.ts';
import { type Batch, evalLoss, trainStep } from '../train/train.ts';
import { ComputeError } from './errors.ts';
import { lrSchedule } from './schedule.ts';

/** The backends a worker can create by name. */
export type ComputeBackendName = 'wasm' | 'cpu' | 'webgpu';

export interface LocalStepResult {
  /** Parameters after the step (a fresh vector owned by the caller). */
  y: Float32Array;
  loss: number;
  lr: number;
}

export interface LocalCompute {
  /** Build the job's model (initial parameters from model.initSeed) and optimizer; returns x0. */
  init(spec: JobSpec): Promise<Float32Array>;
  /** One local step from parameters `x` as swarm step `step` + 1 (its lr), on `batches`
   *  (accumulated micro-batches). `x` is not modified. */
  step(x: Float32Array, step: number, batches: Batch[]): Promise<LocalStepResult>;
  /** Mean loss of parameters `x` on `batches`. */
  evaluate(x: Float32Array, batches: Batch[]): Promise<number>;
  /** The backend's name once init() resolved ('wasm', 'webgpu', 'cpu'). */
  readonly backendName: string | undefined;
  /** Free the model and optimizer (and the backend or worker when this compute owns it). */
  dispose(): void;
}

export interface InlineComputeInit {
  /** Backend, or a factory (called in init()); default the wasm backend. */
  backend?: Backend | (() => Promise<Backend>);
  /** Dispose a backend this compute created (a factory's or the default) on dispose() (default true). */
  disposeBackend?: boolean;
}

/** The model and optimizer on this thread. */
export class InlineCompute implements LocalCompute {
  private backend: Backend | undefined;
  private ownsBackend = false;
  private model: GPT | undefined;
  private optimizer: Optimizer | undefined;
  private clip = Number.POSITIVE_INFINITY;
  /** Swarm step whose lr the next optimizer update uses (set by step()). */
  private nextStep = 1;

  constructor(private readonly cfg: InlineComputeInit = {}) {}

  get backendName(): string | undefined {
    return this.backend?.name;
  }

  async init(spec: JobSpec): Promise<Float32Array> {
    if (this.model) throw new ComputeError('compute already initialised');
    const b = this.cfg.backend;
    if (b === undefined) {
      const { createWasmBackend } = await import('../backend/wasm/index.ts');
      this.backend = await createWasmBackend();
      this.ownsBackend = true;
    } else if (typeof b === 'function') {
      this.backend = await b();
      this.ownsBackend = true;
    } else this.backend = b;
    const { vocabSize, contextLength, nLayer, nHead, nEmbd, initSeed } = spec.model;
    this.model = new GPT(this.backend, { vocabSize, contextLength, nLayer, nHead, nEmbd }, { seed: initSeed });
    const n = this.model.layout.totalLength;
    const lr = lrSchedule(spec);
    const sched = () => lr(this.nextStep);
    const o = spec.optimizer;
    this.optimizer =
      o.kind === 'adamw'
        ? new AdamW(this.backend, n, { lr: sched, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay })
        : new SgdMomentum(this.backend, n, { lr: sched, momentum: o.momentum, weightDecay: o.weightDecay });
    this.clip = o.gradClip > 0 ? o.gradClip : Number.POSITIVE_INFINITY;
    return this.model.getParams();
  }

  async step(x: Float32Array, step: number, batches: Batch[]): Promise<LocalStepResult> {
    const model = this.need();
    model.setParams(x);
    this.nextStep = step + 1;
    const res = await trainStep(model, batches, this.optimizer!, { maxGradNorm: this.clip });
    return { y: await model.getParams(), loss: res.loss, lr: res.lr };
  }

  async evaluate(x: Float32Array, batches: Batch[]): Promise<number> {
    const model = this.need();
    model.setParams(x);
    return evalLoss(model, batches);
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.model?.dispose();
    this.optimizer = undefined;
    this.model = undefined;
    if (this.ownsBackend && this.cfg.disposeBackend !== false) (this.backend as { dispose?: () => void } | undefined)?.dispose?.();
  }

  private need(): GPT {
    if (!this.model) throw new ComputeError('compute used before init()');
    return this.model;
  }
}

// ---- worker protocol

/** What a WorkerCompute needs of a Worker (or a MessagePort in tests). */
export interface ComputePort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', cb: (ev: MessageEvent) => void): void;
  addEventListener(type: 'error', cb: (ev: Event) => void): void;
  removeEventListener(type: 'message', cb: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'error', cb: (ev: Event) => void): void;
  terminate?(): void;
}

export type ComputeRequest =
  | { id: number; op: 'init'; spec: JobSpec; backend: ComputeBackendName }
  | { id: number; op: 'step'; x: Float32Array; step: number; batches: Batch[] }
  | { id: number; op: 'eval'; x: Float32Array; batches: Batch[] }
  | { id: number; op: 'dispose' };

export type ComputeReply =
  | { id: number; ok: true; x0?: Float32Array; backendName?: string; y?: Float32Array; loss?: number; lr?: number }
  | { id: number; ok: false; error: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface WorkerComputeInit {
  /** The worker running serveCompute (compute.worker.ts), or any port speaking its protocol. */
  port: ComputePort;
  /** Backend the worker creates (default 'wasm'). */
  backend?: ComputeBackendName;
  /** Terminate the worker on dispose() (default true). */
  terminate?: boolean;
}

/** The model and optimizer in a worker (serveCompute on the other end of `port`). */
export class WorkerCompute implements LocalCompute {
  /** Request ids start at a random point: a worker reused by a later WorkerCompute may still send
   *  replies to this one's requests, which must not match the new one's. */
  private nextId = 1 + Math.floor(Math.random() * 2 ** 30);
  private readonly pending = new Map<number, { ok(r: ComputeReply & { ok: true }): void; fail(e: Error): void }>();
  private failed: Error | undefined;
  private name: string | undefined;
  private readonly onMessage = (ev: MessageEvent) => this.receive(ev.data as ComputeReply);
  private readonly onError = (ev: Event) => this.fail(new ComputeError(`compute worker crashed: ${(ev as ErrorEvent).message || 'unknown error'}`));

  constructor(private readonly cfg: WorkerComputeInit) {
    cfg.port.addEventListener('message', this.onMessage);
    cfg.port.addEventListener('error', this.onError);
  }

  get backendName(): string | undefined {
    return this.name;
  }

  async init(spec: JobSpec): Promise<Float32Array> {
    const r = await this.call({ op: 'init', spec, backend: this.cfg.backend ?? 'wasm' });
    this.name = r.backendName;
    return r.x0!;
  }

  async step(x: Float32Array, step: number, batches: Batch[]): Promise<LocalStepResult> {
    // x is copied, not transferred: the caller keeps its vector.
    const r = await this.call({ op: 'step', x: x.slice(), step, batches });
    return { y: r.y!, loss: r.loss!, lr: r.lr! };
  }

  async evaluate(x: Float32Array, batches: Batch[]): Promise<number> {
    const r = await this.call({ op: 'eval', x: x.slice(), batches });
    return r.loss!;
  }

  dispose(): void {
    if (!this.failed) {
      // Best effort: the worker frees its model before it is terminated.
      this.cfg.port.postMessage({ id: this.nextId++, op: 'dispose' } satisfies ComputeRequest);
    }
    this.fail(new ComputeError('compute disposed'));
    this.cfg.port.removeEventListener('message', this.onMessage);
    this.cfg.port.removeEventListener('error', this.onError);
    if (this.cfg.terminate !== false) this.cfg.port.terminate?.();
  }

  /** Post a request; its parameter vector (always a copy made for it) is transferred. */
  private call(req: DistributiveOmit<ComputeRequest, 'id'>): Promise<ComputeReply & { ok: true }> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((ok, fail) => {
      this.pending.set(id, { ok, fail });
      const msg = { ...req, id } as ComputeRequest;
      const transfer = 'x' in msg ? [msg.x.buffer as ArrayBuffer] : [];
      this.cfg.port.postMessage(msg, transfer);
    });
  }

  private receive(r: ComputeReply): void {
    if (!r || typeof r !== 'object' || typeof r.id !== 'number') return;
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.ok(r);
    else p.fail(new ComputeError(r.error));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.fail(e);
    this.pending.clear();
  }
}

/** The worker side: answer ComputeRequests on `port` (a worker's global scope) with an InlineCompute. */
export function serveCompute(port: Pick<ComputePort, 'postMessage' | 'addEventListener'>, createBackend: (name: ComputeBackendName) => Promise<Backend>): void {
  let compute: InlineCompute | undefined;
  // One request at a time, in order (a step must not interleave with an evaluation).
  let chain: Promise<void> = Promise.resolve();
  const reply = (m: ComputeReply, transfer: Transferable[] = []) => port.postMessage(m, transfer);
  port.addEventListener('message', (ev: MessageEvent) => {
    const req = ev.data as ComputeRequest;
    if (!req || typeof req !== 'object' || typeof req.id !== 'number') return;
    chain = chain.then(async () => {
      try {
        switch (req.op) {
          case 'init': {
            if (compute) throw new ComputeError('compute already initialised');
            compute = new InlineCompute({ backend: () => createBackend(req.backend) });
            const x0 = await compute.init(req.spec);
            reply({ id: req.id, ok: true, x0, backendName: compute.backendName }, [x0.buffer as ArrayBuffer]);
            return;
          }
          case 'step': {
            if (!compute) throw new ComputeError('compute used before init()');
            const r = await compute.step(req.x, req.step, req.batches);
            reply({ id: req.id, ok: true, y: r.y, loss: r.loss, lr: r.lr }, [r.y.buffer as ArrayBuffer]);
            return;
          }
          case 'eval': {
            if (!compute) throw new ComputeError('compute used before init()');
            reply({ id: req.id, ok: true, loss: await compute.evaluate(req.x, req.batches) });
            return;
          }
          case 'dispose':
            compute?.dispose();
            compute = undefined;
            reply({ id: req.id, ok: true });
            return;
          default:
            throw new ComputeError(`unknown compute request ${JSON.stringify((req as { op?: unknown }).op)}`);
        }
      } catch (e) {
        reply({ id: req.id, ok: false, error: `${(e as Error).name}: ${(e as Error).message}` });
      }
    });
  });
}
