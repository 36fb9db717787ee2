/** Messages between the page (trainer.ts) and the training worker (train.worker.ts). */
import type { JobSpec } from './jobspec.ts';

export type TrainerBackend = 'webgpu' | 'wasm' | 'cpu';

export interface TrainerInit {
  spec: JobSpec;
  /** URL of the plain-text corpus (served at /corpora/<name>.txt). */
  corpusUrl: string;
  backend: TrainerBackend;
  /** Seed of init and batch sampling. */
  seed: number;
  /** Resume from these flat parameters at this step. */
  params?: Float32Array;
  startStep?: number;
  /** Share of time spent computing (duty cycle), 0.1..1. */
  computeLimit: number;
  /**
   * Averaging with peers: after every `mixEvery` steps the worker sends its parameters out
   * ('mix-out') and waits for the averaged ones ('mix-in') before the next step.
   */
  mixEvery?: number;
}

export type ToWorker =
  | { type: 'init'; init: TrainerInit }
  | { type: 'run' }
  | { type: 'pause' }
  | { type: 'limit'; share: number }
  | { type: 'generate'; id: number; prompt: string; maxNewTokens: number; seed: number }
  | { type: 'checkpoint'; id: number; metadata: Record<string, string> }
  | { type: 'params'; id: number }
  | { type: 'mix-in'; step: number; params: Float32Array };

export interface StepReport {
  step: number;
  loss: number;
  heldoutLoss: number | null;
  tokens: number;
  /** Seconds of compute for this step (excludes duty-cycle idle). */
  busySeconds: number;
  idleSeconds: number;
  tokensPerSecond: number;
  lr: number;
}

export type FromWorker =
  | { type: 'ready'; numParams: number; vocabSize: number; backend: TrainerBackend; tokenizer: string; trainTokens: number; heldoutTokens: number; unigramLoss: number; step: number }
  | { type: 'step'; report: StepReport }
  | { type: 'mix-out'; step: number; params: Float32Array }
  | { type: 'done'; step: number; reason: string }
  | { type: 'result'; id: number; text?: string; bytes?: Uint8Array; params?: Float32Array; step?: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'error'; message: string };
