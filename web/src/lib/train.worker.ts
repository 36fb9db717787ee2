/**
 * The training worker: trains one job's GPT on this device, off the page's main thread.
 * Real training only: peer-core's GPT, trainStep (AdamW or SGD with warmup + cosine), held-out
 * evalLoss, generate and safetensors checkpoints, on the webgpu, wasm (SIMD) or cpu backend, over the
 * job's corpus with a byte-level tokenizer. The loop idles between steps to hold the compute
 * limit (dutycycle.ts). Messages: trainer-protocol.ts.
 */
import { idleAfter } from './dutycycle.ts';
import {
  AdamW,
  type Backend,
  type Batch,
  ByteTokenizer,
  CharTokenizer,
  createCpuBackend,
  createGpt2Tokenizer,
  createWasmBackend,
  createWebGpuBackend,
  evalLoss,
  fetchCorpusText,
  GPT,
  generate,
  type Optimizer,
  type Tokenizer,
  SgdMomentum,
  saveCheckpoint,
  TokenDataset,
  trainStep,
  warmupCosine,
} from './engine.ts';
import type { FromWorker, ToWorker, TrainerInit } from './trainer-protocol.ts';
import { mulberry32 } from '@swarmgrad/peer-core/reference';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

interface Job {
  init: TrainerInit;
  backend: Backend;
  model: GPT;
  optimizer: Optimizer;
  data: TokenDataset;
  tokenizer: Tokenizer;
  heldout: Batch[];
  rand: () => number;
  step: number;
  share: number;
}

let job: Job | null = null;
let running = false;
let loop: Promise<void> | null = null;
let wake: (() => void) | null = null;
/** Resolves the wait for averaged parameters ('mix-in'); null when not waiting. */
let mixWaiter: ((m: { step: number; params: Float32Array } | null) => void) | null = null;

const sleep = (s: number) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, s * 1000);
    wake = () => {
      clearTimeout(t);
      r();
    };
  });

/** The job's lr schedule: linear warm-up, then constant, cosine or linear decay to minLrRatio × lr. */
function schedule(spec: TrainerInit['spec']): (step: number) => number {
  const peak = spec.optimizer.lr;
  const { kind, warmupSteps, minLrRatio } = spec.schedule;
  const total = spec.stopping.maxSteps;
  if (kind === 'cosine') return warmupCosine(peak, warmupSteps, total, peak * minLrRatio);
  return (step: number) => {
    if (step <= warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
    if (kind === 'constant') return peak;
    const p = Math.min(1, (step - warmupSteps) / Math.max(1, total - warmupSteps));
    return peak * (1 - p * (1 - minLrRatio));
  };
}

async function tokenizerFor(kind: string, text: string): Promise<Tokenizer> {
  if (kind === 'byte') return new ByteTokenizer();
  if (kind === 'char') return CharTokenizer.fromText(text);
  return createGpt2Tokenizer();
}

async function setup(init: TrainerInit): Promise<Job> {
  const { spec } = init;
  const text = await fetchCorpusText(init.corpusUrl);
  const tokenizer = await tokenizerFor(spec.dataset.tokenizer, text);
  if (tokenizer.vocabSize > spec.model.vocabSize) {
    throw new Error(`the ${tokenizer.name} tokenizer has ${tokenizer.vocabSize} tokens on this corpus, more than model.vocabSize ${spec.model.vocabSize}`);
  }
  const data = new TokenDataset(tokenizer.encode(text), spec.model.vocabSize, { heldOutFraction: spec.dataset.heldOutFraction });
  const backend: Backend =
    init.backend === 'webgpu' ? await createWebGpuBackend() : init.backend === 'wasm' ? await createWasmBackend() : createCpuBackend();
  const m = spec.model;
  const config = { vocabSize: m.vocabSize, contextLength: m.contextLength, nLayer: m.nLayer, nHead: m.nHead, nEmbd: m.nEmbd };
  const model = new GPT(backend, config, { seed: m.initSeed, params: init.params });
  const lr = schedule(spec);
  const o = spec.optimizer;
  const optimizer: Optimizer =
    o.kind === 'sgd'
      ? new SgdMomentum(backend, model.layout.totalLength, { lr, momentum: o.momentum, weightDecay: o.weightDecay })
      : new AdamW(backend, model.layout.totalLength, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay });
  const heldout = data.evalBatches('heldOut', spec.batch.perPeer, m.contextLength, 2);
  const step = init.startStep ?? 0;
  const seed = (init.seed ^ spec.dataset.seed ^ Math.imul(step, 2654435761)) >>> 0;
  return { init, backend, model, optimizer, data, tokenizer, heldout, rand: mulberry32(seed), step, share: init.computeLimit };
}

function stopReason(spec: TrainerInit['spec'], step: number, heldout: number | null, minutes: number): string | null {
  const s = spec.stopping;
  if (step >= s.maxSteps) return `reached max steps (${s.maxSteps})`;
  if (s.targetLoss !== undefined && heldout !== null && heldout <= s.targetLoss) return `held-out loss ${heldout.toFixed(3)} reached the target ${s.targetLoss}`;
  if (s.maxMinutes !== undefined && minutes >= s.maxMinutes) return `ran for the maximum ${s.maxMinutes} min`;
  return null;
}

async function runLoop(j: Job): Promise<void> {
  if (j.step >= j.init.spec.stopping.maxSteps) {
    running = false;
    post({ type: 'done', step: j.step, reason: `already at max steps (${j.init.spec.stopping.maxSteps})` });
    return;
  }
  const { spec } = j.init;
  const T = spec.model.contextLength;
  const B = spec.batch.perPeer;
  const evalEvery = spec.stopping.evalEverySteps;
  const accum = spec.batch.gradAccumulation;
  const maxGradNorm = spec.optimizer.gradClip > 0 ? spec.optimizer.gradClip : Number.POSITIVE_INFINITY;
  const started = performance.now();
  // Throughput over the last ~2 s of wall time (busy + idle), so one slow step does not spike it.
  const window: Array<{ t: number; tokens: number }> = [{ t: performance.now(), tokens: 0 }];
  while (running && j === job) {
    const t0 = performance.now();
    const batches = Array.from({ length: accum }, () => j.data.sampleBatch('train', B, T, j.rand));
    const r = await trainStep(j.model, batches, j.optimizer, { maxGradNorm });
    j.step++;
    let heldoutLoss: number | null = null;
    if (j.step === 1 || j.step % evalEvery === 0 || j.step >= spec.stopping.maxSteps) heldoutLoss = await evalLoss(j.model, j.heldout);
    const busy = (performance.now() - t0) / 1000;
    const idle = idleAfter(busy, j.share);
    if (j.init.mixEvery && j.step % j.init.mixEvery === 0 && running) {
      // Hand the parameters to the page for averaging with peers; continue from the result.
      const params = await j.model.getParams();
      const mixed = await new Promise<{ step: number; params: Float32Array } | null>((resolve) => {
        mixWaiter = resolve;
        post({ type: 'mix-out', step: j.step, params }, [params.buffer]);
      });
      if (mixed && mixed.step === j.step && mixed.params.length === j.model.layout.totalLength) j.model.setParams(mixed.params);
    }
    // Always yield so control messages are handled between steps.
    await sleep(idle);
    const now = performance.now();
    window.push({ t: now, tokens: B * T * accum });
    while (window.length > 2 && now - window[1]!.t > 2000) window.shift();
    const span = (now - window[0]!.t) / 1000;
    const tokensInWindow = window.slice(1).reduce((a, w) => a + w.tokens, 0);
    post({ type: 'step', report: { step: j.step, loss: r.loss, heldoutLoss, tokens: B * T * accum, busySeconds: busy, idleSeconds: idle, tokensPerSecond: tokensInWindow / span, lr: r.lr } });
    const stop = stopReason(spec, j.step, heldoutLoss, (performance.now() - started) / 60_000);
    if (stop) {
      running = false;
      post({ type: 'done', step: j.step, reason: stop });
      return;
    }
  }
}

function start(): void {
  if (!job || running) return;
  running = true;
  const j = job;
  loop = runLoop(j).catch((e) => {
    running = false;
    post({ type: 'error', message: `training failed: ${(e as Error).name}: ${(e as Error).message}` });
  });
}

/** Stop the loop after the current step (releasing a wait for averaged parameters). */
async function halt(): Promise<void> {
  running = false;
  wake?.();
  mixWaiter?.(null);
  mixWaiter = null;
  await loop;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      await halt();
      job?.backend.dispose();
      job = null;
      const j = await setup(m.init);
      job = j;
      post({
        type: 'ready',
        numParams: j.model.numParams,
        vocabSize: j.tokenizer.vocabSize,
        backend: m.init.backend,
        tokenizer: j.tokenizer.name,
        trainTokens: j.data.train.length,
        heldoutTokens: j.data.heldOut.length,
        unigramLoss: j.data.unigramHeldOutLoss(),
        step: j.step,
      });
      return;
    }
    case 'run':
      return start();
    case 'pause':
      await halt();
      return;
    case 'limit':
      if (job) job.share = m.share;
      return;
    case 'generate': {
      if (!job) throw new Error('no model yet');
      const wasRunning = running;
      await halt();
      try {
        const enc = job.tokenizer.encode(m.prompt);
        if (!enc.length) throw new Error('the prompt is empty');
        const n = Math.max(1, Math.min(m.maxNewTokens, job.model.config.contextLength * 4));
        const ids = await generate(job.model, enc.slice(-job.model.config.contextLength), { maxNewTokens: n, temperature: 0.8, topK: 40, seed: m.seed });
        const text = new TextDecoder().decode(Uint8Array.from(ids.slice(Math.min(enc.length, job.model.config.contextLength))));
        post({ type: 'result', id: m.id, text });
      } finally {
        if (wasRunning) start();
      }
      return;
    }
    case 'checkpoint': {
      if (!job) throw new Error('no model yet');
      const bytes = await saveCheckpoint(job.model, { ...m.metadata, swarmgrad_step: String(job.step) });
      post({ type: 'result', id: m.id, bytes, step: job.step }, [bytes.buffer]);
      return;
    }
    case 'params': {
      if (!job) throw new Error('no model yet');
      const params = await job.model.getParams();
      post({ type: 'result', id: m.id, params, step: job.step }, [params.buffer]);
      return;
    }
  }
}

let queue = Promise.resolve();
self.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type === 'mix-in') {
    // Not queued: the training loop is waiting for it.
    mixWaiter?.({ step: m.step, params: m.params });
    mixWaiter = null;
    return;
  }
  queue = queue.then(() =>
    handle(m).catch((e) => {
      const message = `${(e as Error).name}: ${(e as Error).message}`;
      if ('id' in m) post({ type: 'failed', id: m.id, message });
      else post({ type: 'error', message });
    }),
  );
});
